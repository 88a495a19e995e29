"""The supervisor never crashes on a bad decision: it retries once, then escalates."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.types import Command

from switchboard.graph import trail as query
from switchboard.testing import ScriptedChatModel, call, escalate, finish, garbage, handoff, route, route_many
from tests.graph.conftest import GraphFactory

CONFIG: Any = {"configurable": {"thread_id": "t"}}


async def _run(graph: Any, payload: Any) -> Any:
    await graph.ainvoke(payload, CONFIG)
    return await graph.aget_state(CONFIG)


async def test_routes_then_finishes_with_a_report(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(
        steps=[route("alpha", "Say something about apples"), handoff("Apples are red."), finish("answered")]
    )
    state = await _run(desk_graph(model), {"task": "apples?"})
    model.assert_complete()
    kinds = [e["kind"] for e in state.values["trail"]]
    assert kinds == ["decision", "handoff", "decision", "report"]
    assert state.values["outcome"] == "resolved"
    assert "alpha: Apples are red." in state.values["summary"]


async def test_supervisor_prompt_carries_findings_not_transcripts(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(
        steps=[route("alpha", "look"), call("nonexistent_tool", x=1), handoff("found 3 apples", count=3), finish()]
    )
    await _run(desk_graph(model), {"task": "count apples"})
    last_routing_prompt = model.calls[-1].text
    assert "found 3 apples" in last_routing_prompt and '"count":3' in last_routing_prompt
    assert "nonexistent_tool" not in last_routing_prompt  # the agent's raw transcript stays inside it


async def test_agent_cannot_call_a_tool_off_its_card(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(
        steps=[
            route("alpha", "look"),
            call("delete_everything"),
            handoff("gave up", status="failed"),
            escalate("alpha failed"),
        ]
    )
    state = await _run(desk_graph(model), {"task": "x"})
    (handoff_event,) = query.handoffs(state.values["trail"])
    (record,) = handoff_event["tool_calls"]
    assert record["outcome"] == "refused" and "may not use 'delete_everything'" in record["result"]
    assert handoff_event["status"] == "failed" and not handoff_event["retryable"]  # a refusal is not retried
    assert state.interrupts and state.interrupts[0].value["question"] == "alpha failed"


async def test_garbage_output_is_fed_back_once_then_accepted(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(steps=[garbage(), route("beta", "bananas please"), handoff("yellow"), finish()])
    state = await _run(desk_graph(model), {"task": "bananas"})
    model.assert_complete()
    retry_prompt = model.calls[1].text
    assert "<feedback>" in retry_prompt and "no RoutingDecision tool call" in retry_prompt
    first = state.values["trail"][0]
    assert first["agent"] == "beta" and first["attempts"] == 2 and first["error"]


async def test_unknown_agent_twice_escalates_instead_of_crashing(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(steps=[route("gamma", "x"), route("gamma", "x")])
    state = await _run(desk_graph(model), {"task": "cherries"})
    model.assert_complete()
    assert "gamma" in model.calls[1].text  # the feedback names the bad agent
    assert state.next == ("escalate",)
    question = state.interrupts[0].value["question"]
    assert "could not make a valid decision" in question
    assert state.values["trail"][-1]["action"] == "escalate"


async def test_hop_limit_escalates_and_approval_grants_a_new_budget(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(
        steps=[
            route("alpha", "1"),
            handoff("a"),
            route("beta", "2"),
            handoff("b"),
            route("alpha", "3"),
            handoff("c"),
            finish("ok after the human said go on"),
        ]
    )
    graph = desk_graph(model, max_hops=2)
    state = await _run(graph, {"task": "loop"})
    assert "limit of 2 agent steps" in state.interrupts[0].value["question"]
    state = await _run(graph, Command(resume={"approved": True, "note": "one more"}))
    model.assert_complete()
    assert state.values["outcome"] == "resolved"
    human = query.escalations(state.values["trail"])
    assert human[0]["approved"] and human[0]["note"] == "one more"


async def test_rejected_escalation_ends_the_run_cleanly(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(steps=[escalate("Should we refund twice?")])
    graph = desk_graph(model)
    await _run(graph, {"task": "x"})
    state = await _run(graph, Command(resume={"approved": False, "note": "no"}))
    model.assert_complete()
    assert state.next == ()
    assert state.values["outcome"] == "rejected"
    assert state.values["summary"].startswith("Stopped")


async def test_invalid_handoff_is_returned_to_the_agent(desk_graph: GraphFactory) -> None:
    bad = handoff("x", confidence=0.5)
    bad.tool_calls[0]["args"]["confidence"] = 7  # out of range
    model = ScriptedChatModel(steps=[route("alpha", "go"), bad, handoff("fixed"), finish()])
    state = await _run(desk_graph(model), {"task": "x"})
    model.assert_complete()
    assert "Invalid handoff" in model.calls[2].text
    assert [e["summary"] for e in query.handoffs(state.values["trail"])] == ["fixed"]


def test_graph_shape(desk_graph: GraphFactory) -> None:
    mermaid = desk_graph(ScriptedChatModel(steps=[])).get_graph().draw_mermaid()
    edges = sorted(line.strip() for line in mermaid.splitlines() if "-->" in line or "-.->" in line)
    assert edges == [
        "__start__ --> intake;",
        "alpha -.-> supervisor;",
        "beta -.-> supervisor;",
        "escalate -.-> finalize;",
        "escalate -.-> supervisor;",
        "finalize --> __end__;",
        "intake --> supervisor;",
        "supervisor -.-> alpha;",
        "supervisor -.-> beta;",
        "supervisor -.-> escalate;",
        "supervisor -.-> finalize;",
    ]


async def test_the_scripted_model_reports_an_agent_called_past_its_script(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(steps=[route("alpha", "go")], agents={"alpha": []})
    await _run(desk_graph(model), {"task": "x"})  # alpha's model error becomes a failed step...
    with pytest.raises(AssertionError, match=r"past the end of the script by: \['alpha'\]"):
        model.assert_complete()  # ...but the test kit still says so


async def test_agent_scripts_survive_a_reworded_agent_prompt(
    desk_graph: GraphFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchboard.agents import prompts

    monkeypatch.setattr(prompts, "AGENT_SYSTEM", "Agent on duty: {name}. {description}\nHand off when done.")
    model = ScriptedChatModel(
        steps=[route_many(("alpha", "apples"), ("beta", "bananas")), finish()],
        agents={"alpha": [handoff("red")], "beta": [handoff("yellow")]},
    )
    state = await _run(desk_graph(model), {"task": "fruit"})
    model.assert_complete()  # each agent took its own script, read from the run's metadata
    assert {c.agent for c in model.calls} == {None, "alpha", "beta"}
    assert all("Agent on duty" in c.text for c in model.calls if c.agent)
    assert sorted(h["summary"] for h in query.handoffs(state.values["trail"])) == ["red", "yellow"]
