"""Interrupt payloads and the one resume shape, checked inside the graph.

Every test resumes the compiled graph directly with ``Command(resume=...)``,
as a LangGraph server or a notebook would, so nothing here relies on the CLI's
own checks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import tool
from langgraph.types import Command

from switchboard.agents.card import Team, load_team
from switchboard.agents.interrupts import Answer, ApprovalRequest, EscalationRequest, read_answer
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, call, escalate, finish, handoff, route

TEAM = """
name: shop
agents:
  - name: till
    description: Takes payments and refunds.
    skills: [{id: refunds, description: Refunds.}]
    tools: [refund]
"""

POLICY = PolicyFile.model_validate(
    {
        "name": "shop",
        "approvals": [
            {
                "id": "large-refund",
                "tools": ["refund"],
                "measure": {"field": "amount"},
                "threshold": 500,
                "approvers": ["store-manager"],
                "question": "Refund ${value:.2f}?",
            }
        ],
        "escalation_approvers": ["duty-manager"],
    }
)
CONFIG: Any = {"configurable": {"thread_id": "t"}}
refunds: list[float] = []


@tool
def refund(amount: float) -> str:
    """Refund an amount (a write)."""
    refunds.append(amount)
    return f"refunded {amount}"


Factory = Callable[[ScriptedChatModel], Any]


@pytest.fixture
async def make(tmp_path: Path) -> AsyncIterator[Factory]:
    refunds.clear()
    file = tmp_path / "shop.yaml"
    file.write_text(TEAM)
    team: Team = load_team(file)
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        yield lambda model: build_graph(
            team=team, model=model, toolbox=Toolbox.of([refund]), policy=POLICY, checkpointer=saver
        )


def _refund_script() -> ScriptedChatModel:
    return ScriptedChatModel(
        steps=[route("till", "refund 900", skill="refunds"), finish("refunded")],
        agents={"till": [call("refund", amount=900), handoff("Refunded 900.")]},
    )


async def _resume(graph: Any, value: Any) -> Any:
    await graph.ainvoke(Command(resume=value), CONFIG)
    return await graph.aget_state(CONFIG)


async def test_a_wrong_shape_resume_is_refused_and_the_thread_stays_paused(make: Factory) -> None:
    model = _refund_script()
    graph = make(model)
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    asked = (await graph.aget_state(CONFIG)).interrupts[0].value
    for wrong in ["yes", {"approve": True}, {"approved": "yes"}]:
        state = await _resume(graph, wrong)
        (pending,) = state.interrupts
        assert pending.value["question"] == asked["question"] == "Refund $900.00?"
        assert f"refused answer {wrong!r}" in pending.value["error"]
        assert state.next and refunds == []  # still paused, nothing written
    state = await _resume(graph, {"approved": True, "approver": "store-manager"})
    model.assert_complete()
    assert not state.interrupts and state.values["outcome"] == "resolved"
    assert refunds == [900]
    (human,) = query.escalations(state.values["trail"])
    assert human["approved"] and human["approver"] == "store-manager"


async def test_an_unauthorized_approver_is_refused_inside_the_graph(make: Factory) -> None:
    model = _refund_script()
    graph = make(model)
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    for answer, who in [
        ({"approved": True, "approver": "intern"}, "'intern'"),
        ({"approved": False, "approver": "intern"}, "'intern'"),  # may not reject either
        ({"approved": True}, "an anonymous answer (no approver)"),
    ]:
        state = await _resume(graph, answer)
        (pending,) = state.interrupts
        assert pending.value["error"] == f"{who} may not answer this question; allowed: store-manager"
        assert refunds == []
    state = await _resume(graph, {"approved": True, "note": "receipt seen", "approver": "store-manager"})
    model.assert_complete()
    assert refunds == [900] and state.values["outcome"] == "resolved"


async def test_the_approval_payload_says_what_who_and_how(make: Factory) -> None:
    graph = make(_refund_script())
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    value = (await graph.aget_state(CONFIG)).interrupts[0].value
    request = ApprovalRequest.model_validate(value)  # the documented model reads it back exactly
    assert request.model_dump(mode="json") == value
    assert (request.kind, request.rule, request.agent, request.tool) == ("approval", "large-refund", "till", "refund")
    assert request.args == {"amount": 900} and (request.value, request.threshold) == (900, 500)
    assert request.approvers == ["store-manager"] and request.error is None
    assert request.resume.json_schema == Answer.model_json_schema()
    Answer.model_validate(request.resume.example)  # the example is a valid answer


async def test_supervisor_escalations_are_answered_by_the_escalation_approvers(make: Factory) -> None:
    model = ScriptedChatModel(steps=[escalate("Refund twice?"), finish("a human said go on")])
    graph = make(model)
    await graph.ainvoke({"task": "refund twice"}, CONFIG)
    request = EscalationRequest.model_validate((await graph.aget_state(CONFIG)).interrupts[0].value)
    assert request.kind == "escalation" and request.approvers == ["duty-manager"]
    state = await _resume(graph, {"approved": True, "approver": "store-manager"})
    assert "'store-manager' may not answer" in state.interrupts[0].value["error"]
    state = await _resume(graph, {"approved": True, "approver": "duty-manager"})
    model.assert_complete()
    assert state.values["outcome"] == "resolved"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("yes", "valid dictionary"),
        (True, "valid dictionary"),  # one shape: an object, never a bare boolean
        (None, "valid dictionary"),
        ({"approve": True}, "approved: Field required"),
        ({"approved": "yes"}, "approved: Input should be a valid boolean"),
        ({"approved": 1}, "approved: Input should be a valid boolean"),
        ({"approved": True, "note": 3}, "note: Input should be a valid string"),
        ({"approved": True, "signature": "x"}, "signature: Extra inputs are not permitted"),
    ],
)
def test_read_answer_refuses_every_other_shape(value: Any, problem: str) -> None:
    refusal = read_answer(value, [])
    assert isinstance(refusal, str) and problem in refusal and '{"approved": true' in refusal


def test_read_answer_accepts_the_documented_shape() -> None:
    assert read_answer({"approved": False, "note": "no", "approver": "ana"}, ["ana"]) == Answer(
        approved=False, note="no", approver="ana"
    )
    assert read_answer({"approved": True}, []) == Answer(approved=True)
