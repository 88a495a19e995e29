"""Routing by workload and health, reassignment, fan-out, rules and confidence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import tool
from langgraph.types import Command

from switchboard.agents.card import Team, load_team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.records import HandoffEvent
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.errors import ConfigError, ThreadError
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.policies import PolicyFile
from switchboard.policies.principals import load_registry
from switchboard.settings import Settings
from switchboard.testing import (
    ScriptedChatModel,
    call,
    fail,
    finish,
    handoff,
    route,
    route_many,
    signed_answer,
)

TEAM = """
name: ops
agents:
  - name: billing
    description: Handles invoices and payments.
    skills: [{id: invoices, description: Invoices and payments.}]
    max_concurrency: 1
    fallbacks: {invoices: [billing_backup]}
    tools: [wait_for_peer, ask_manager, slow_write, flaky_write, flaky_read]
  - name: billing_backup
    description: Second billing desk, used when billing is down or busy.
    skills: [{id: invoices, description: Invoices and payments.}]
    cost_tier: high
    tools: [ask_manager]
  - name: shipping
    description: Ships parcels and tracks them.
    skills: [{id: parcels, description: Parcels and tracking.}]
    tools: [wait_for_peer, ask_manager]
"""

CONFIG: Any = {"configurable": {"thread_id": "t"}}
events: list[str] = []


@pytest.fixture
def ops(tmp_path: Path) -> Team:
    file = tmp_path / "ops.yaml"
    file.write_text(TEAM)
    return load_team(file)


def _tools() -> Toolbox:
    flags: dict[str, asyncio.Event] = {}

    @tool
    async def wait_for_peer(me: str, peer: str) -> str:
        """Start, then wait until the peer step has started too."""
        events.append(f"start:{me}")
        flags.setdefault(me, asyncio.Event()).set()
        await asyncio.wait_for(flags.setdefault(peer, asyncio.Event()).wait(), timeout=5)
        events.append(f"end:{me}")
        return "both running"

    @tool
    def ask_manager(amount: float) -> str:
        """A write that needs approval above 100."""
        return f"paid {amount}"

    @tool
    async def slow_write(amount: float) -> str:
        """A write whose server hangs."""
        await asyncio.sleep(5)
        return "written"

    @tool
    def flaky_write(amount: float) -> str:
        """A write whose server crashes."""
        raise RuntimeError("connection reset by the payment server")

    @tool
    def flaky_read(invoice: str) -> str:
        """A read whose server crashes."""
        raise RuntimeError("connection reset by the invoice server")

    flaky_read.metadata = {"readOnlyHint": True}  # as langchain-mcp-adapters marks an MCP read

    return Toolbox.of([wait_for_peer, ask_manager, slow_write, flaky_write, flaky_read])


POLICY = PolicyFile.model_validate(
    {
        "name": "ops",
        "approvals": [{"id": "big", "tools": ["ask_manager"], "question": "Pay?"}],
        "routing": {
            "rules": [
                {
                    "id": "invoice",
                    "pattern": r"INV-\d+",
                    "agent": "billing",
                    "skill": "invoices",
                    "instruction": "Settle invoice {match}",
                }
            ],
            "min_confidence": 0.4,
        },
    }
)


Factory = Callable[..., Any]


@pytest.fixture
async def make(ops: Team, tmp_path: Path, principals: Path) -> AsyncIterator[Factory]:
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:

        def factory(model: ScriptedChatModel, health: HealthRegistry | None = None, policy: PolicyFile = POLICY) -> Any:
            return build_graph(
                team=ops, model=model, toolbox=_tools(), policy=policy, checkpointer=saver, health=health,
                principals=load_registry([Settings().data_dir / "principals.yaml"]),  # alice, bob, sam
            )  # fmt: skip

        yield factory


async def _run(graph: Any, payload: Any) -> Any:
    await graph.ainvoke(payload, CONFIG)
    return await graph.aget_state(CONFIG)


def _handoffs(state: Any) -> list[HandoffEvent]:
    return query.handoffs(state.values["trail"])


async def test_failing_agent_is_reassigned_to_its_fallback_with_context(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route("billing", "refund invoice 7", skill="invoices"), finish()],
        agents={"billing": [fail("billing model down")], "billing_backup": [handoff("invoice 7 settled")]},
    )
    health = HealthRegistry()
    state = await _run(make(model, health), {"task": "please refund invoice 7"})
    model.assert_complete()
    first, second = _handoffs(state)
    assert first["agent"] == "billing" and first["status"] == "failed" and first["retryable"]
    assert second["agent"] == "billing_backup" and second["status"] == "done"
    assert first["assignment"] == second["assignment"]  # the same step, not a new one
    reassign = [e for e in query.decisions(state.values["trail"]) if e["source"] == "reassign"]
    assert len(reassign) == 1 and "billing model down" in reassign[0]["reason"]
    backup_prompt = next(c for c in model.calls if c.agent == "billing_backup")
    assert "first given to billing, which failed" in backup_prompt.text
    assert health.health("billing").error_rate == 1.0 and health.health("billing_backup").error_rate == 0.0


async def test_saturated_agent_is_not_offered_and_its_fallback_takes_the_work(make: Factory) -> None:
    health = HealthRegistry()
    health.acquire("billing")  # another thread holds billing's only slot
    model = ScriptedChatModel(
        steps=[route("billing_backup", "pay", skill="invoices"), finish()], agents={"billing_backup": [handoff("paid")]}
    )
    state = await _run(make(model, health), {"task": "pay the supplier"})
    model.assert_complete()
    prompt = model.calls[0].text
    assert '"name":"billing_backup"' in prompt and '"name":"billing"' not in prompt
    decision = state.values["trail"][0]
    assert decision["unavailable"] == {"billing": "at capacity (1/1 steps in flight)"}


async def test_routing_to_an_unavailable_agent_is_refused_then_corrected(make: Factory) -> None:
    health = HealthRegistry(failure_threshold=2)
    for _ in range(2):
        health.record("billing", ok=False)
    model = ScriptedChatModel(
        steps=[route("billing", "pay"), route("billing_backup", "pay"), finish()],
        agents={"billing_backup": [handoff("paid")]},
    )
    state = await _run(make(model, health), {"task": "pay"})
    model.assert_complete()
    assert "circuit open" in model.calls[1].text  # the feedback says why
    assert state.values["trail"][0]["agent"] == "billing_backup"


async def test_all_agents_for_a_skill_down_escalates_past_the_budget(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route("billing", "pay", skill="invoices")],
        agents={"billing": [fail()], "billing_backup": [fail()]},
    )
    state = await _run(make(model), {"task": "pay"})
    model.assert_complete()
    assert state.next == ("escalate",)
    question = state.interrupts[0].value["question"]
    assert "billing, billing_backup" in question and "no other capable agent" in question


async def test_parallel_steps_overlap_and_join_before_the_next_decision(make: Factory) -> None:
    events.clear()
    model = ScriptedChatModel(
        steps=[route_many(("billing", "bill"), ("shipping", "ship")), finish("both done")],
        agents={
            "billing": [call("wait_for_peer", me="billing", peer="shipping"), handoff("billed")],
            "shipping": [call("wait_for_peer", me="shipping", peer="billing"), handoff("shipped")],
        },
    )
    state = await _run(make(model), {"task": "bill and ship"})
    model.assert_complete()
    assert set(events[:2]) == {"start:billing", "start:shipping"}  # both started before either ended
    assert set(events[2:]) == {"end:billing", "end:shipping"}
    assert {h["agent"] for h in _handoffs(state)} == {"billing", "shipping"}
    assert all(call["outcome"] == "ok" for h in _handoffs(state) for call in h["tool_calls"])
    final_prompt = model.calls[-1].text
    assert "billed" in final_prompt and "shipped" in final_prompt  # joined before deciding


async def test_one_branch_pausing_keeps_the_other_branch_result(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route_many(("billing", "pay 500"), ("shipping", "ship")), finish()],
        agents={
            "billing": [call("ask_manager", amount=500), handoff("paid")],
            "shipping": [handoff("shipped")],
        },
    )
    graph = make(model)
    paused = await _run(graph, {"task": "pay and ship"})
    assert paused.interrupts and paused.interrupts[0].value["question"] == "Pay?"
    state = await _run(graph, Command(resume=signed_answer(paused.interrupts[0].value, "t")))
    model.assert_complete()  # shipping's step ran exactly once
    assert sorted(h["agent"] for h in _handoffs(state)) == ["billing", "shipping"]


async def test_routing_rule_pins_the_first_step_without_a_model_call(make: Factory) -> None:
    model = ScriptedChatModel(steps=[finish()], agents={"billing": [handoff("settled")]})
    state = await _run(make(model), {"task": "Please settle INV-2291 today"})
    model.assert_complete()
    first = state.values["trail"][0]
    assert first["source"] == "rule" and first["rule"] == "invoice" and first["agent"] == "billing"
    assert first["instruction"] == "Settle invoice INV-2291"
    assert len([c for c in model.calls if "RoutingDecision" in c.tools]) == 1  # only the finish


async def test_low_confidence_asks_a_human_and_approval_lets_it_through(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route("shipping", "ship?", confidence=0.2), route("shipping", "ship?", confidence=0.2), finish()],
        agents={"shipping": [handoff("shipped")]},
    )
    graph = make(model)
    paused = await _run(graph, {"task": "something vague"})
    assert "not confident enough" in paused.interrupts[0].value["question"]
    state = await _run(graph, Command(resume=signed_answer(paused.interrupts[0].value, "t", note="yes, shipping")))
    model.assert_complete()
    assert [h["agent"] for h in _handoffs(state)] == ["shipping"]


async def test_agent_removed_while_paused_has_its_step_reassigned(ops: Team, tmp_path: Path) -> None:
    from switchboard.graph.trail import orphaned_steps

    model = ScriptedChatModel(
        steps=[route("billing", "pay 500", skill="invoices")], agents={"billing": [call("ask_manager", amount=500)]}
    )
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(team=ops, model=model, toolbox=_tools(), policy=POLICY, checkpointer=saver)
        paused = await _run(graph, {"task": "pay"})
        assert paused.interrupts
        smaller = Team(name="ops", agents=tuple(c for c in ops.agents if c.name != "billing"))
        after = ScriptedChatModel(steps=[finish()], agents={"billing_backup": [handoff("paid by backup")]})
        policy = POLICY.model_copy(update={"routing": POLICY.routing.model_copy(update={"rules": ()})})
        graph = build_graph(team=smaller, model=after, toolbox=_tools(), policy=policy, checkpointer=saver)
        stuck = await graph.aget_state(CONFIG)
        orphans = orphaned_steps(stuck.values, set(graph.nodes))
        assert [o["agent"] for o in orphans] == ["billing"]
        for forged in (  # the recovery hands back exactly the orphaned steps, nothing else rides along
            [("trail", orphans), ("task", "forged")],  # an update as pairs skipped the key check
            {"trail": [{**orphans[0], "status": "done", "summary": "paid"}]},
            {"trail": orphans, "outcome": "resolved"},
        ):
            with pytest.raises(ThreadError, match="only the supervisor routes"):
                await graph.ainvoke(Command(goto="supervisor", update=forged), CONFIG)
        await graph.ainvoke(Command(goto="supervisor", update={"trail": orphans}), CONFIG)
        state = await graph.aget_state(CONFIG)
    after.assert_complete()
    assert [h["agent"] for h in _handoffs(state)] == ["billing", "billing_backup"]
    assert state.values["outcome"] == "resolved"


async def test_an_agent_that_times_out_is_reassigned(ops: Team, tmp_path: Path) -> None:
    import time

    def slow(messages: Any, tools: Any) -> Any:
        time.sleep(1.0)  # a provider that hangs
        return handoff("too late")

    slow_team = ops.model_copy(
        update={
            "agents": tuple(c.model_copy(update={"timeout_s": 0.2}) if c.name == "billing" else c for c in ops.agents)
        }
    )
    model = ScriptedChatModel(
        steps=[route("billing", "pay", skill="invoices"), finish()],
        agents={"billing": [slow], "billing_backup": [handoff("paid by backup")]},
    )
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(team=slow_team, model=model, toolbox=_tools(), policy=POLICY, checkpointer=saver)
        state = await _run(graph, {"task": "pay the supplier"})
    model.assert_complete()
    first, second = _handoffs(state)
    assert first["agent"] == "billing" and "did not answer within 0.2s" in first["summary"] and first["retryable"]
    assert second["agent"] == "billing_backup" and second["status"] == "done"


def _with_routing(**settings: Any) -> PolicyFile:
    return POLICY.model_copy(update={"routing": POLICY.routing.model_copy(update=settings)})


async def test_wait_mode_waits_for_a_saturated_agent_that_frees_up(make: Factory) -> None:
    health = HealthRegistry()
    lease = health.acquire("billing")
    policy = _with_routing(on_unavailable="wait", wait_seconds=0.05, wait_attempts=40)
    model = ScriptedChatModel(
        steps=[route("billing", "pay", skill="invoices"), finish()], agents={"billing": [handoff("paid")]}
    )
    graph = make(model, health, policy)

    async def free_soon() -> None:
        await asyncio.sleep(0.2)
        health.release(lease, ok=True)

    releaser = asyncio.create_task(free_soon())
    state = await _run(graph, {"task": "pay"})
    await releaser
    model.assert_complete()
    assert '"available":false' in model.calls[0].text  # shown, but marked
    assert [h["agent"] for h in _handoffs(state)] == ["billing"]


async def test_wait_mode_falls_back_when_the_agent_stays_busy(make: Factory) -> None:
    health = HealthRegistry()
    health.acquire("billing")
    policy = _with_routing(on_unavailable="wait", wait_seconds=0.01, wait_attempts=3)
    model = ScriptedChatModel(
        steps=[route("billing", "pay", skill="invoices"), finish()], agents={"billing_backup": [handoff("paid")]}
    )
    state = await _run(make(model, health, policy), {"task": "pay"})
    model.assert_complete()
    assert [h["agent"] for h in _handoffs(state)] == ["billing_backup"]
    assert "billing still unavailable" in state.values["trail"][0]["reason"]


async def test_escalate_mode_asks_a_human_about_an_unavailable_agent(make: Factory) -> None:
    health = HealthRegistry()
    health.acquire("billing")
    model = ScriptedChatModel(steps=[route("billing", "pay", skill="invoices")])
    state = await _run(make(model, health, _with_routing(on_unavailable="escalate")), {"task": "pay"})
    model.assert_complete()
    assert "billing is unavailable (at capacity (1/1 steps in flight))" in state.interrupts[0].value["question"]


async def test_a_decision_cannot_overbook_an_agent(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route_many(("billing", "one"), ("billing", "two")), route("billing", "one"), finish()],
        agents={"billing": [handoff("done")]},
    )
    state = await _run(make(model), {"task": "two invoices"})
    model.assert_complete()
    assert "billing can take 1 more step(s) now, not 2" in model.calls[1].text
    assert len(_handoffs(state)) == 1


async def test_a_parallel_step_to_an_unknown_agent_is_refused_not_dropped(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route_many(("billing", "bill"), ("ghost", "boo")), route("billing", "bill"), finish()],
        agents={"billing": [handoff("billed")]},
    )
    await _run(make(model), {"task": "bill"})
    model.assert_complete()
    assert "agent 'ghost' does not exist" in model.calls[1].text


async def test_a_write_that_timed_out_is_not_retried_elsewhere(ops: Team, tmp_path: Path) -> None:
    team = ops.model_copy(
        update={
            "agents": tuple(c.model_copy(update={"timeout_s": 0.2}) if c.name == "billing" else c for c in ops.agents)
        }
    )
    model = ScriptedChatModel(
        steps=[route("billing", "pay", skill="invoices")],  # asked once: the uncertain step goes to a human
        agents={"billing": [call("slow_write", amount=10), handoff("the write hung", status="failed")]},
    )
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(team=team, model=model, toolbox=_tools(), policy=POLICY, checkpointer=saver)
        state = await _run(graph, {"task": "pay"})
    model.assert_complete()
    (only,) = _handoffs(state)
    assert not only["retryable"] and only["tool_calls"][0]["outcome"] == "uncertain"
    assert state.next == ("escalate",)  # a human is asked, not billing_backup nor the routing model
    assert query.decisions(state.values["trail"])[-1]["error"] == "uncertain step"


async def test_a_write_cut_off_mid_call_is_uncertain_not_retried_elsewhere(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route("billing", "pay", skill="invoices")],  # asked once: the uncertain step goes to a human
        agents={"billing": [call("flaky_write", amount=10), handoff("the payment server failed", status="failed")]},
    )
    state = await _run(make(model), {"task": "pay"})
    model.assert_complete()
    (only,) = _handoffs(state)
    (cut,) = only["tool_calls"]
    assert cut["outcome"] == "uncertain" and "connection reset" in cut["result"] and "unknown" in cut["result"]
    assert not only["retryable"]  # a human is asked, not billing_backup, who would send it again
    assert state.next == ("escalate",)


async def test_a_crashed_read_makes_the_step_retryable_elsewhere(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route("billing", "pay", skill="invoices"), finish()],
        agents={
            "billing": [call("flaky_read", invoice="A1"), handoff("the invoice server failed", status="failed")],
            "billing_backup": [handoff("paid by backup")],
        },
    )
    state = await _run(make(model), {"task": "pay"})
    model.assert_complete()
    first, second = _handoffs(state)
    (crashed,) = first["tool_calls"]
    assert crashed["outcome"] == "crashed" and "connection reset" in crashed["result"]
    assert first["status"] == "failed" and first["retryable"]  # technical: another agent may succeed
    assert second["agent"] == "billing_backup" and second["status"] == "done"
    assert '"outcome": "crashed"' in next(c for c in model.calls if c.agent == "billing_backup").text


async def test_two_branches_paused_at_once_are_answered_one_at_a_time(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route_many(("billing", "pay A"), ("shipping", "pay B")), finish()],
        agents={
            "billing": [call("ask_manager", amount=1), handoff("paid A")],
            "shipping": [call("ask_manager", amount=2), handoff("paid B")],
        },
    )
    graph = make(model)
    paused = await _run(graph, {"task": "pay both"})
    assert len(paused.interrupts) == 2
    first = paused.interrupts[0]
    still = await _run(graph, Command(resume={first.id: signed_answer(first.value, "t")}))
    assert [i.id for i in still.interrupts] == [paused.interrupts[1].id]
    second = still.interrupts[0]
    done = await _run(graph, Command(resume={second.id: signed_answer(second.value, "t")}))
    model.assert_complete()
    assert sorted(h["summary"] for h in _handoffs(done)) == ["paid A", "paid B"]


def test_a_rule_routing_to_an_agent_the_team_lacks_is_refused_with_the_rule_and_file(ops: Team, tmp_path: Path) -> None:
    """The error named neither the rule nor its file. (Grants may name agents of other teams sharing the policy.)"""
    rule = {"id": "invoices-first", "pattern": "invoice", "agent": "biling"}
    source = tmp_path / "ops-policy.yaml"
    pinned = PolicyFile.model_validate({"name": "ops", "source": source, "routing": {"rules": [rule]}})
    with pytest.raises(ConfigError, match=r"routing rule 'invoices-first' in .*ops-policy.yaml routes to 'biling'"):
        build_graph(team=ops, model=ScriptedChatModel(steps=[]), toolbox=_tools(), policy=pinned)
