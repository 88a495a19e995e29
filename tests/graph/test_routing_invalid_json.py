"""A RoutingDecision call whose arguments are not valid JSON is named as such, to the model and to a human.

LangChain's OpenAI client puts such a call in ``AIMessage.invalid_tool_calls``
and the structured-output parser then sees no call at all; the router used to
tell the model, and then the human it escalated to, that no RoutingDecision
tool call was made. The scripted model plays the reply as ``langchain-openai``
parses it (:func:`_bad_decision`).
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call

from switchboard.agents.card import Team
from switchboard.graph.routing import Router
from switchboard.testing import ScriptedChatModel, garbage, route

from .conftest import GraphFactory

BROKEN = '{"action": "route", "agent": "alpha"'
WHY = "Expecting ',' delimiter"


def _bad_decision(arguments: str = BROKEN) -> AIMessage:
    """A RoutingDecision call as ``langchain-openai`` parses one whose arguments are not valid JSON."""
    raw = {"id": "call_rd", "type": "function", "function": {"name": "RoutingDecision", "arguments": arguments}}
    try:
        parse_tool_call(raw, return_id=True)
    except Exception as exc:  # what langchain-openai catches
        return AIMessage("", invalid_tool_calls=[make_invalid_tool_call(raw, str(exc))])
    raise AssertionError(f"{arguments!r} is valid JSON")


def _router(team: Team, model: ScriptedChatModel, **kwargs: Any) -> Router:
    return Router(team, model, team.load_policy(), retries=0, backoff=0.0, **kwargs)


async def test_the_reported_case_names_the_invalid_json_in_the_feedback_and_the_escalation(desk: Team) -> None:
    """``repro.sh routing-bad-json``: invalid arguments, then plain text."""
    model = ScriptedChatModel(steps=[_bad_decision(), garbage("I think alpha should do it.")])
    result = await _router(desk, model).decide("apples", [], {})
    model.assert_complete()
    feedback = model.calls[1].text.split("<feedback>")[1]
    assert "RoutingDecision arguments were not valid JSON" in feedback and WHY in feedback
    assert "no RoutingDecision tool call" not in feedback  # the model did call it
    assert result.decision.action == "escalate" and result.source == "guard"
    first, second = (result.error or "").split("; ")
    assert "RoutingDecision arguments were not valid JSON" in first and WHY in first
    assert second == "no RoutingDecision tool call was made"  # the text answer is still told apart
    assert "RoutingDecision arguments were not valid JSON" in result.decision.reason and WHY in result.decision.reason


async def test_a_decision_called_again_with_valid_json_is_taken(desk: Team) -> None:
    model = ScriptedChatModel(steps=[_bad_decision(), route("alpha", "Answer the apple question")])
    result = await _router(desk, model).decide("apples", [], {})
    model.assert_complete()
    assert result.decision.action == "route" and result.decision.agent == "alpha" and result.attempts == 2
    assert "RoutingDecision arguments were not valid JSON" in (result.error or "")


async def test_the_human_is_told_the_decision_was_not_valid_json(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(steps=[_bad_decision(), _bad_decision('{"action": "route", "agent": ')])
    graph = desk_graph(model)
    config: Any = {"configurable": {"thread_id": "bad-json"}}
    await graph.ainvoke({"task": "apples"}, config)
    state = await graph.aget_state(config)
    model.assert_complete()
    (pending,) = state.interrupts
    question = str(pending.value["question"])
    assert question.count("RoutingDecision arguments were not valid JSON") == 2 and WHY in question
    assert "no RoutingDecision tool call" not in question
