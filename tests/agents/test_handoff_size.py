"""An oversized handoff is refused back to the agent, never passed on to the supervisor.

Every routing prompt of a thread carries each handoff's summary and facts.
A model that handed off a 100 KB summary left the thread stuck for good:
every later routing request was over the provider's context length (400),
and each ``resume --approve`` escalated again with the same error. The
handoff's arguments are now limited in size, and an oversized one is
answered to the model like any invalid handoff, so it hands off again briefly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from pydantic import ValidationError

from switchboard.agents.findings import (
    FACTS_MAX_CHARS,
    REASONING_MAX_CHARS,
    SUMMARY_MAX_CHARS,
    Findings,
    HandoffArgs,
)
from switchboard.agents.spec import AgentSpec
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.testing import RecordedCall, ScriptedChatModel, call, finish, handoff, route

CONFIG: Any = {"configurable": {"thread_id": "t"}}
BIG = "The order was looked at in detail. " * 3000  # about 100 KB, as the tester's model sent


def lookup_user(email: str) -> str:
    """The user id of the customer with ``email``."""
    return "mia_chen_4817"


async def _run(model: ScriptedChatModel, tmp_path: Path) -> dict[str, Any]:
    """Run one identify step of a one-agent team and return the thread's final values."""
    spec = AgentSpec(name="desk", description="Identifies customers.", tools=[lookup_user])
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph([spec], model=model, checkpointer=saver)
        await graph.ainvoke({"task": "Who am I? mia.chen@example.com"}, CONFIG)
        values: dict[str, Any] = (await graph.aget_state(CONFIG)).values
        return values


def _script(*agent: AIMessage) -> ScriptedChatModel:
    return ScriptedChatModel(
        steps=[route("desk", "Identify mia.chen@example.com"), finish()], agents={"desk": list(agent)}
    )


def _refusal(calls: list[RecordedCall]) -> ToolMessage:
    """The error the agent's model was answered with on its second call."""
    second = [c for c in calls if c.agent == "desk"][-1]
    (error,) = [m for m in second.messages if isinstance(m, ToolMessage) and m.status == "error"]
    return error


def _assert_brief_step(model: ScriptedChatModel, values: dict[str, Any]) -> None:
    """The step handed off briefly, and nothing oversized reached the trail or the supervisor."""
    model.assert_complete()
    (step,) = query.handoffs(values["trail"])
    assert (step["status"], step["summary"]) == ("done", "The customer is mia_chen_4817.")
    supervisor = [c for c in model.calls if c.agent is None]
    assert all(len(c.text) < 20_000 for c in supervisor), "an oversized handoff reached a routing prompt"


@pytest.mark.parametrize(
    ("oversized", "field"),
    [
        ({"summary": BIG}, "summary"),
        ({"summary": "Found the customer.", "reasoning": BIG}, "reasoning"),
        ({"summary": "Found the customer.", "order": {"notes": BIG}}, "facts"),
    ],
)
async def test_an_oversized_handoff_is_refused_and_handed_off_again(
    tmp_path: Path, oversized: dict[str, Any], field: str
) -> None:
    """The tester's case: the agent is told what is too long, hands off again, and the thread finishes."""
    summary = oversized.pop("summary")
    reasoning = oversized.pop("reasoning", "scripted")
    model = _script(
        call("lookup_user", email="mia.chen@example.com"),
        handoff(summary, reasoning=reasoning, user_id="mia_chen_4817", **oversized),
        handoff("The customer is mia_chen_4817.", user_id="mia_chen_4817"),
    )
    values = await _run(model, tmp_path)
    _assert_brief_step(model, values)
    error = _refusal(model.calls)
    assert error.name == "handoff" and "Invalid handoff, call it again" in error.text
    assert field in error.text and "over the limit" in error.text
    assert len(error.text) < 2_000  # the refusal does not repeat the oversized text


async def test_an_oversized_handoff_next_to_a_tool_call_is_refused_too(tmp_path: Path) -> None:
    """A handoff made in the same turn as a tool call goes through the act node: the same limits hold."""
    hasty = AIMessage(
        "",
        tool_calls=[
            *call("lookup_user", email="mia.chen@example.com").tool_calls,
            *handoff(BIG, user_id="mia_chen_4817").tool_calls,
        ],
    )
    model = _script(hasty, handoff("The customer is mia_chen_4817.", user_id="mia_chen_4817"))
    values = await _run(model, tmp_path)
    _assert_brief_step(model, values)
    assert "summary is" in _refusal(model.calls).text


def test_the_limits_are_generous_for_real_handoffs() -> None:
    """A handoff right at every limit is taken as it is."""
    facts = {"notes": "x" * (FACTS_MAX_CHARS - len('{"notes":""}'))}
    args = HandoffArgs(status="done", summary="s" * SUMMARY_MAX_CHARS, reasoning="r" * REASONING_MAX_CHARS, facts=facts)
    assert (len(args.summary), len(args.reasoning), args.facts) == (SUMMARY_MAX_CHARS, REASONING_MAX_CHARS, facts)
    with pytest.raises(ValidationError, match="facts are"):
        HandoffArgs(status="done", summary="ok", facts={"notes": facts["notes"] + "x"})


def test_findings_the_graph_writes_are_clipped_not_refused() -> None:
    """A step that failed with a long provider error still hands back, clipped to the limits."""
    findings = Findings(status="unable", summary=f"the model call failed: {BIG}", reasoning=BIG, confidence=0.0)
    assert len(findings.summary) == SUMMARY_MAX_CHARS and findings.summary.endswith("(clipped)")
    assert len(findings.reasoning) == REASONING_MAX_CHARS
