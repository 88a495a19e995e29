"""A one-slot model endpoint: parallel steps queue for it and never overlap (issue 11, defect 5).

The scripted model plays a local server with one slot: each agent's request
takes a while, and the test records how many are in flight at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage

from switchboard.agents.card import Team
from switchboard.graph import trail as query
from switchboard.models import limit_concurrency, model_slot
from switchboard.testing import ScriptedChatModel, finish, handoff, route_many

from .conftest import GraphFactory


def _one_slot_agents(peak: list[int]) -> dict[str, list[Any]]:
    lock = threading.Lock()
    busy = [0]

    def slow(summary: str) -> Any:
        def step(messages: Any, tools: list[str]) -> AIMessage:
            with lock:
                busy[0] += 1
                peak.append(busy[0])
            time.sleep(0.15)  # a one-slot server working on the request
            with lock:
                busy[0] -= 1
            return handoff(summary)

        return step

    return {"alpha": [slow("red")], "beta": [slow("yellow")]}


async def _fan_out(desk_graph: GraphFactory, model: ScriptedChatModel) -> Any:
    graph = desk_graph(model)
    config: Any = {"configurable": {"thread_id": "slots"}}
    await graph.ainvoke({"task": "fruit"}, config)
    return await graph.aget_state(config)


async def test_one_slot_model_queues_parallel_steps_and_both_succeed(desk_graph: GraphFactory) -> None:
    peak: list[int] = []
    model = ScriptedChatModel(
        steps=[route_many(("alpha", "apples"), ("beta", "bananas")), finish()], agents=_one_slot_agents(peak)
    )
    limit_concurrency(model, "test:one-slot", 1)
    state = await _fan_out(desk_graph, model)
    model.assert_complete()
    assert sorted(h["summary"] for h in query.handoffs(state.values["trail"])) == ["red", "yellow"]
    assert all(h["status"] == "done" for h in query.handoffs(state.values["trail"]))
    assert max(peak) == 1  # never two requests at the one-slot server at once


async def test_without_a_limit_the_same_steps_overlap(desk_graph: GraphFactory) -> None:
    """The control: the scripted server does see two requests at once when nothing queues them."""
    peak: list[int] = []
    model = ScriptedChatModel(
        steps=[route_many(("alpha", "apples"), ("beta", "bananas")), finish()], agents=_one_slot_agents(peak)
    )
    await _fan_out(desk_graph, model)
    model.assert_complete()
    assert max(peak) == 2


async def test_a_caller_holding_a_slot_does_not_take_a_second_one() -> None:
    model = ScriptedChatModel(steps=[finish()])
    limit_concurrency(model, "test:reentrant", 1)
    async with model_slot(model):  # for example an agent timing only the request, not the queue
        reply = await asyncio.wait_for(model.ainvoke("hi"), timeout=2)
    assert reply.tool_calls[0]["name"] == "RoutingDecision"


def test_the_router_takes_its_method_and_retries_from_the_model_spec() -> None:
    from switchboard.agents.card import load_team
    from switchboard.graph.routing import Router
    from switchboard.models import ModelOptions, resolve_model

    team = load_team()
    model = resolve_model("embedded?structured=json_schema&retries=5&backoff=0.25", team, env=ModelOptions())
    router = Router(team, model, team.load_policy())
    assert (router.method, router.retries, router.backoff) == ("json_schema", 5, 0.25)
    plain = Router(team, resolve_model("embedded", team, env=ModelOptions()), team.load_policy())
    assert (plain.method, plain.retries, plain.backoff) == ("function_calling", 2, 1.0)


async def test_waiting_for_the_one_slot_does_not_count_against_the_cards_timeout(desk: Team, tmp_path: Path) -> None:
    """Reported: with a one-slot server, parallel steps hit the timeout and were marked "unable".

    Each request takes 0.15 s and the cards allow 0.25 s, so the step that
    waits its turn behind the other would use 0.3 s if the queue counted.
    """
    from switchboard.checkpoints import open_checkpointer
    from switchboard.graph import build_graph

    team = desk.model_copy(update={"agents": tuple(c.model_copy(update={"timeout_s": 0.25}) for c in desk.agents)})
    peak: list[int] = []
    model = ScriptedChatModel(
        steps=[route_many(("alpha", "apples"), ("beta", "bananas")), finish()], agents=_one_slot_agents(peak)
    )
    limit_concurrency(model, "test:one-slot-timeout", 1)
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(team=team, model=model, checkpointer=saver)
        config: Any = {"configurable": {"thread_id": "slots-timeout"}}
        await graph.ainvoke({"task": "fruit"}, config)
        state = await graph.aget_state(config)
    model.assert_complete()
    handoffs = query.handoffs(state.values["trail"])
    assert [(h["status"], h["summary"]) for h in sorted(handoffs, key=lambda h: h["agent"])] == [
        ("done", "red"),
        ("done", "yellow"),
    ]
    assert max(peak) == 1
