"""Back-pressure: a step for a saturated agent with no free alternative waits, then escalates.

Issue 9: under 8 concurrent runs, logistics and customer_service hit their
limit of 4, and 2 of 24 runs paused mid-process for a human for what was
only a queue. Here the other runs' steps are leases held in the shared
health registry, exactly as those runs' agent nodes hold them.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import tool
from langgraph.types import Command
from pydantic import ValidationError
from rich.console import Console

from switchboard.agents.card import Team, load_team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.console import print_trail
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.graph.routing import Router
from switchboard.graph.workflows import Workflow
from switchboard.policies import PolicyFile
from switchboard.policies.principals import load_registry
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route, route_many, signed_answer

TEAM = """
name: shop
agents:
  - name: courier
    description: Schedules pickups of returns.
    max_concurrency: 1
    skills: [{id: pickups, description: Schedule a pickup of a return.}]
  - name: clerk
    description: Answers questions about orders and opening hours.
    skills: [{id: orders, description: Look up an order.}]
"""
CONFIG: Any = {"configurable": {"thread_id": "t"}}
Factory = Callable[[ScriptedChatModel, HealthRegistry, float], Any]


def _policy(max_wait_s: float) -> PolicyFile:
    return PolicyFile.model_validate({"name": "shop", "routing": {"max_wait_s": max_wait_s}})


@pytest.fixture
def team(tmp_path: Path) -> Team:
    file = tmp_path / "shop.yaml"
    file.write_text(TEAM)
    return load_team(file)


@pytest.fixture
async def make(team: Team, tmp_path: Path) -> AsyncIterator[Factory]:
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:

        def build(model: ScriptedChatModel, health: HealthRegistry, max_wait_s: float) -> Any:
            return build_graph(team=team, model=model, policy=_policy(max_wait_s), checkpointer=saver, health=health)

        yield build


async def _release_when_planned(graph: Any, health: HealthRegistry, lease: str) -> None:
    """Free the other run's slot once the clerk's step is saved and the supervisor is on the planned one.

    The supervisor starts at once after that checkpoint; the pause after it
    is far longer than its first look at the registry.
    """
    for _ in range(1000):
        await asyncio.sleep(0.02)
        state = await graph.aget_state(CONFIG)
        if query.handoffs(state.values.get("trail") or []) and state.next == ("supervisor",):
            break
    await asyncio.sleep(0.5)
    health.release(lease, ok=True)


async def test_a_step_for_a_saturated_agent_waits_for_its_slot_and_runs(make: Factory) -> None:
    health = HealthRegistry()
    other_run = health.acquire("courier")  # another run's pickup holds courier's only slot
    model = ScriptedChatModel(
        steps=[route("courier", "pick up the return", skill="pickups"), finish("scheduled")],
        agents={"courier": [handoff("Pickup scheduled.")]},
    )
    graph = make(model, health, 30.0)  # far above the release below: the wait, not the bound, ends it
    running = asyncio.create_task(graph.ainvoke({"task": "pick up my return"}, CONFIG))
    for _ in range(300):  # the routing call happens first (slowly on a loaded machine), then the wait
        if model.calls:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert not running.done()  # queued, not paused for a human
    assert '"available":false' in model.calls[0].text  # courier was on offer, marked busy
    health.release(other_run, ok=True)
    await asyncio.wait_for(running, 30)
    state = await graph.aget_state(CONFIG)
    model.assert_complete()
    assert not state.interrupts and state.values["outcome"] == "resolved"
    (wait,) = query.capacity_waits(state.values["trail"])
    assert wait["agent"] == "courier" and not wait["expired"] and 0.2 <= wait["waited_s"] < 30
    assert wait["why"] == "at capacity (1/1 steps in flight)"
    (done,) = query.handoffs(state.values["trail"])
    assert done["agent"] == "courier" and "slot_wait" not in done  # the supervisor waited; the step did not
    assert health.health("courier").in_flight == 0


async def test_a_step_escalates_only_when_the_wait_expires(make: Factory) -> None:
    health = HealthRegistry()
    health.acquire("courier")  # and never released
    model = ScriptedChatModel(steps=[route("courier", "pick up the return", skill="pickups")])
    graph = make(model, health, 0.3)
    started = asyncio.get_running_loop().time()
    await graph.ainvoke({"task": "pick up my return"}, CONFIG)
    assert asyncio.get_running_loop().time() - started >= 0.3  # it did wait the bound
    state = await graph.aget_state(CONFIG)
    model.assert_complete()
    (asked,) = state.interrupts
    assert "courier stayed unavailable (at capacity (1/1 steps in flight)) for 0.3s" in asked.value["question"]
    (wait,) = query.capacity_waits(state.values["trail"])
    assert wait["expired"] and wait["waited_s"] >= 0.3
    assert query.handoffs(state.values["trail"]) == []


async def test_a_planned_step_for_a_saturated_agent_waits_without_asking_the_model(make: Factory) -> None:
    health = HealthRegistry()
    model = ScriptedChatModel(
        steps=[
            route("clerk", "look up order 7", skill="orders", plan=[("courier", "pickups", "pick up order 7")]),
            finish("scheduled"),
        ],
        agents={"clerk": [handoff("Order 7 is returnable.")], "courier": [handoff("Pickup scheduled.")]},
    )
    graph = make(model, health, 30.0)
    other_run = health.acquire("courier")  # busy by the time the plan reaches it
    await asyncio.gather(
        graph.ainvoke({"task": "return order 7"}, CONFIG), _release_when_planned(graph, health, other_run)
    )
    state = await graph.aget_state(CONFIG)
    model.assert_complete()  # two model calls: the plan's step needed none, even while courier was busy
    assert state.values["outcome"] == "resolved"
    planned = query.decisions(state.values["trail"])[1]
    assert planned["source"] == "plan" and planned["agent"] == "courier"
    assert planned["capacity_wait"]["agent"] == "courier" and not planned["capacity_wait"]["expired"]


async def test_show_displays_the_wait(make: Factory) -> None:
    health = HealthRegistry()
    health.acquire("courier")
    model = ScriptedChatModel(steps=[route("courier", "pick up the return", skill="pickups")])
    graph = make(model, health, 0.2)
    await graph.ainvoke({"task": "pick up my return"}, CONFIG)
    state = await graph.aget_state(CONFIG)
    console = Console(record=True, width=200)
    print_trail({"thread_id": "t", "status": "paused", "task": "pick up", "trail": state.values["trail"]}, console)
    shown = console.export_text()
    assert "waited 0.2s for capacity (courier at capacity (1/1 steps in flight)); the wait expired" in shown
    assert "courier not offered" not in shown  # it was offered: the step queued for it


def test_an_open_circuit_is_not_a_queue(team: Team) -> None:
    health = HealthRegistry()
    for _ in range(3):
        health.record("courier", ok=False)
    router = Router(team, ScriptedChatModel(steps=[]), _policy(30.0), health)
    offer = router.offer("pick up my return")
    assert "courier" not in offer.names and "circuit open" in offer.unavailable["courier"]
    health = HealthRegistry()
    health.acquire("courier")
    busy = Router(team, ScriptedChatModel(steps=[]), _policy(30.0), health).offer("pick up my return")
    assert "courier" in busy.names and [c.name for c in busy.held] == ["courier"]


def test_max_wait_s_is_validated() -> None:
    with pytest.raises(ValidationError, match="max_wait_s"):
        _policy(-1)
    assert PolicyFile.model_validate({"name": "shop"}).routing.max_wait_s == 30.0


def _route_then_lose_the_slot(health: HealthRegistry, taken: list[str]) -> Any:
    """The supervisor's reply, given after it saw courier free: meanwhile another run takes the only slot."""

    def reply(messages: Any, tools: list[str]) -> Any:
        taken.append(health.acquire("courier"))
        return route("courier", "pick up the return", skill="pickups")

    return reply


async def test_a_step_that_loses_its_slot_to_another_run_queues_for_the_next(make: Factory) -> None:
    """Capacity is a limit, not a hint: the slot is taken when the step starts, not when it is routed."""
    health = HealthRegistry()
    taken: list[str] = []
    seen: list[int] = []

    def pickup(messages: Any, tools: list[str]) -> Any:
        seen.append(health.health("courier").in_flight)  # steps on courier while this one runs
        return handoff("Pickup scheduled.")

    model = ScriptedChatModel(
        steps=[_route_then_lose_the_slot(health, taken), finish("scheduled")], agents={"courier": [pickup]}
    )
    graph = make(model, health, 30.0)
    running = asyncio.create_task(graph.ainvoke({"task": "pick up my return"}, CONFIG))
    for _ in range(300):
        if taken:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert not running.done() and seen == []  # routed, but queued: courier's one slot is the other run's
    health.release(taken[0], ok=True)
    await asyncio.wait_for(running, 30)
    state = await graph.aget_state(CONFIG)
    model.assert_complete()
    assert seen == [1] and state.values["outcome"] == "resolved"  # it ran alone, once the slot was free
    assert health.health("courier").in_flight == 0
    (done,) = query.handoffs(state.values["trail"])  # the step's own wait is on its record, and shown
    assert done["slot_wait"]["why"] == "at capacity (1/1 steps in flight)" and done["slot_wait"]["waited_s"] >= 0.3
    console = Console(record=True, width=200)
    print_trail({"thread_id": "t", "status": "completed", "task": "pick up", "trail": state.values["trail"]}, console)
    assert re.search(
        r"courier waited \d+\.\ds for a slot \(at capacity \(1/1 steps in flight\)\)", console.export_text()
    )


async def test_a_step_that_finds_no_slot_in_time_is_handed_back_unrun(make: Factory) -> None:
    health = HealthRegistry()
    model = ScriptedChatModel(steps=[_route_then_lose_the_slot(health, [])])  # courier's own script is empty
    graph = make(model, health, 0.3)
    await graph.ainvoke({"task": "pick up my return"}, CONFIG)
    state = await graph.aget_state(CONFIG)
    model.assert_complete()  # courier's subgraph never ran: no model call for it
    (lost,) = query.handoffs(state.values["trail"])
    assert lost["agent"] == "courier" and lost["status"] == "failed" and lost["retryable"]
    assert "for 0.3s (at capacity (1/1 steps in flight))" in lost["summary"] and "without starting" in lost["summary"]
    assert lost["slot_wait"]["why"] == "at capacity (1/1 steps in flight)"
    assert state.interrupts  # no other agent has the skill: after the supervisor's own wait, a human is asked
    assert health.health("courier").in_flight == 1  # only the other run's step


async def test_a_step_whose_agent_tripped_since_it_was_routed_is_handed_back_at_once(make: Factory) -> None:
    """An open circuit is no queue when the step starts either: no wait, no model call, and the reason on record."""
    health = HealthRegistry()

    def route_then_trip(messages: Any, tools: list[str]) -> Any:
        for _ in range(3):  # meanwhile, courier fails three steps of other runs
            health.record("courier", ok=False)
        return route("courier", "pick up the return", skill="pickups")

    model = ScriptedChatModel(steps=[route_then_trip])  # courier's own script is empty
    graph = make(model, health, 30.0)
    await graph.ainvoke({"task": "pick up my return"}, CONFIG)
    state = await graph.aget_state(CONFIG)
    model.assert_complete()
    (lost,) = query.handoffs(state.values["trail"])
    assert lost["agent"] == "courier" and lost["status"] == "failed" and lost["retryable"]
    waited = re.search(r"could not take the step for ([0-9.]+)s \(circuit open after 3 consecutive", lost["summary"])
    assert waited and float(waited[1]) < 10  # handed back at once, not after the 30 s queue
    assert state.interrupts and health.health("courier").in_flight == 0


_KILLED_MID_STEP = """
import asyncio, sys, time
from switchboard.agents.card import load_team
from switchboard.agents.health import HealthRegistry
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, route

async def main(folder):
    model = ScriptedChatModel(
        steps=[route("courier", "pick up the return", skill="pickups")],
        agents={"courier": [lambda messages, tools: time.sleep(600)]},  # killed in here, holding the slot
    )
    async with open_checkpointer(folder + "/cp.sqlite") as saver:
        graph = build_graph(team=load_team(folder + "/shop.yaml"), model=model, checkpointer=saver,
                            policy=PolicyFile.model_validate({"name": "shop"}),
                            health=HealthRegistry(folder + "/health.sqlite"))
        # "sync", as the CLI and workers run: the step's Send is on disk before the step starts
        await graph.ainvoke({"task": "pick up my return"}, {"configurable": {"thread_id": "t"}}, durability="sync")

asyncio.run(main(sys.argv[1]))
"""


async def test_a_step_run_again_after_its_process_died_takes_back_its_own_slot(team: Team, tmp_path: Path) -> None:
    """The killed run's lease outlives it (until its TTL); at a limit of 1 it must not lock its own step out."""
    health = HealthRegistry(tmp_path / "health.sqlite")
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _KILLED_MID_STEP, str(tmp_path), cwd=Path(__file__).parents[2]
    )
    try:
        for _ in range(600):  # until the courier's step is running, holding the slot
            if health.health("courier").in_flight:
                break
            await asyncio.sleep(0.05)
        assert health.health("courier").in_flight == 1
    finally:
        child.kill()
        await child.wait()
    model = ScriptedChatModel(steps=[finish("scheduled")], agents={"courier": [handoff("Pickup scheduled.")]})
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(team=team, model=model, policy=_policy(30.0), checkpointer=saver, health=health)
        started = asyncio.get_running_loop().time()
        await graph.ainvoke(None, CONFIG)  # continue the thread from its last checkpoint: the courier's step
        state = await graph.aget_state(CONFIG)
    assert asyncio.get_running_loop().time() - started < 10  # no wait for the dead run's lease to expire
    model.assert_complete()
    assert [(h["agent"], h["status"]) for h in query.handoffs(state.values["trail"])] == [("courier", "done")]
    assert health.health("courier").in_flight == 0


TILL = """
name: shop
agents:
  - name: till
    description: Takes payments and refunds.
    max_concurrency: 1
    skills: [{id: refunds, description: Refunds.}]
    tools: [refund]
"""
refunds: list[float] = []


@tool
def refund(amount: float) -> str:
    """Refund an amount (a write)."""
    refunds.append(amount)
    return f"refunded {amount}"


async def test_a_step_paused_for_a_human_resumes_even_at_the_limit(tmp_path: Path, principals: Path) -> None:
    """Its answer must reach it: handing the resumed step back would drop the approval and misreport the step."""
    refunds.clear()
    file = tmp_path / "till.yaml"
    file.write_text(TILL)
    approvals = [{"id": "large-refund", "tools": ["refund"], "measure": {"field": "amount"}, "threshold": 500,
                  "roles": ["finance_manager"], "question": "Refund ${value:.2f}?"}]  # fmt: skip
    policy = PolicyFile.model_validate({"name": "shop", "routing": {"max_wait_s": 0.2}, "approvals": approvals})
    health = HealthRegistry()
    model = ScriptedChatModel(
        steps=[route("till", "refund 100, then 900", skill="refunds"), finish("refunded")],
        agents={"till": [call("refund", amount=100), call("refund", amount=900), handoff("Refunded 1000.")]},
    )
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(
            team=load_team(file), model=model, toolbox=Toolbox.of([refund]), policy=policy, checkpointer=saver,
            health=health, principals=load_registry([principals / "principals.yaml"]),
        )  # fmt: skip
        await graph.ainvoke({"task": "refund"}, CONFIG)
        [pending] = (await graph.aget_state(CONFIG)).interrupts
        other_run = health.acquire("till")  # while a human decides, another run takes till's only slot
        answer = signed_answer(pending.value, "t", "alice")
        await graph.ainvoke(Command(resume={pending.id: answer}), CONFIG)
        state = await graph.aget_state(CONFIG)
    model.assert_complete()
    assert refunds == [100, 900] and not state.interrupts and state.values["outcome"] == "resolved"
    [step] = query.handoffs(state.values["trail"])
    assert step["status"] == "done" and [c["tool"] for c in step["tool_calls"]] == ["refund", "refund"]
    assert [e["approved"] for e in query.escalations(state.values["trail"])] == [True]
    health.release(other_run, ok=True)
    assert health.health("till").in_flight == 0


PICKER = """
name: shop
agents:
  - name: till
    description: Refunds.
    skills: [{id: refunds, description: Refund.}, {id: unrefund, description: Undo a refund.}]
  - name: picker
    description: Picks up returns.
    max_concurrency: 1
    skills: [{id: pick, description: Pick up a return.}]
"""
RETURN = Workflow.model_validate({"name": "ret", "steps": [
    {"id": "refund", "skill": "refunds", "instruction": "Refund it.",
     "compensate": {"skill": "unrefund", "instruction": "Undo the refund."}},
    {"id": "pick", "skill": "pick", "instruction": "Pick it up.", "needs": ["refund"]},
]})  # fmt: skip


async def test_workflow_steps_queue_for_their_agent_and_never_share_a_slot(tmp_path: Path) -> None:
    """A workflow step has nowhere else to go: at the limit it waits, it does not fail and compensate.

    Two runs of one workflow in one thread each take a slot of their own
    (each run keys its steps by its own assignment id, and takes its own leases).
    """
    file = tmp_path / "shop.yaml"
    file.write_text(PICKER)
    health = HealthRegistry()
    other_run = health.acquire("picker")  # another thread's pickup holds picker's only slot
    seen: list[int] = []

    async def release_soon() -> None:
        await asyncio.sleep(0.5)
        health.release(other_run, ok=True)

    def pick(messages: Any, tools: list[str]) -> Any:
        seen.append(health.health("picker").in_flight)
        return handoff("Step done.")

    model = ScriptedChatModel(
        steps=[route_many(("workflow_ret", "return order #W1"), ("workflow_ret", "return order #W2")), finish("ok")],
        agents={"till": [handoff("Step done."), handoff("Step done.")], "picker": [pick, pick]},
    )
    policy = PolicyFile.model_validate({"name": "shop", "routing": {"max_wait_s": 0}})
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(
            team=load_team(file), model=model, policy=policy, checkpointer=saver, health=health, workflows=[RETURN]
        )
        final, _ = await asyncio.gather(graph.ainvoke({"task": "two returns"}, CONFIG), release_soon())
    model.assert_complete()
    steps = [(h["assignment"], h["status"]) for h in query.handoffs(final["trail"]) if h["agent"] != "workflow_ret"]
    runs = [a["id"] for d in query.decisions(final["trail"]) for a in d["assignments"]]
    assert sorted(steps) == sorted((f"{run}.{s}", "done") for run in runs for s in ("pick", "refund"))  # none undone
    assert seen == [1, 1] and final["outcome"] == "resolved"  # one pickup at a time, each alone on the slot
    assert health.health("picker").in_flight == 0


COURIER_WITH_TOOL = """
name: shop
agents:
  - name: courier
    description: Schedules pickups of returns.
    max_concurrency: 1
    skills: [{id: pickups, description: Schedule a pickup of a return.}]
    tools: [book_pickup]
"""
booking = asyncio.Event()


@tool
async def book_pickup(order_id: str) -> str:
    """Book a pickup with the carrier (slow)."""
    booking.set()
    await asyncio.sleep(600)
    return "booked"


async def test_a_cancelled_step_is_not_a_failure_and_keeps_its_slot_to_come_back_to(tmp_path: Path) -> None:
    """A sibling's error or a shutdown cancels a step: no outcome against the agent, and its re-run is under way."""
    booking.clear()
    file = tmp_path / "shop.yaml"
    file.write_text(COURIER_WITH_TOOL)
    health = HealthRegistry()
    model = ScriptedChatModel(
        steps=[route("courier", "pick up order #W1", skill="pickups")],
        agents={"courier": [call("book_pickup", order_id="#W1")]},
    )
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(
            team=load_team(file), model=model, toolbox=Toolbox.of([book_pickup]), policy=_policy(30.0),
            checkpointer=saver, health=health,
        )  # fmt: skip
        running = asyncio.create_task(graph.ainvoke({"task": "pick up my return"}, CONFIG))
        await asyncio.wait_for(booking.wait(), 30)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    courier = health.health("courier")
    assert courier.in_flight == 0 and courier.error_rate == 0.0 and courier.consecutive_failures == 0
    [parked] = [lease for lease in _leases(health) if health.holds(lease)]
    assert parked.startswith("t/courier:")  # kept for the step's re-run, which takes its slot back


def _leases(health: HealthRegistry) -> list[str]:
    with health._connection() as db:  # the registry's own rows, parked and live
        return [row[0] for row in db.execute("SELECT id FROM parked UNION ALL SELECT id FROM leases")]
