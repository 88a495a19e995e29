"""What a paused thread asks a human, and the one shape of an answer.

A thread pauses with LangGraph's ``interrupt()`` in two places: the guarded
tool node, when a policy rule holds a tool call (:class:`ApprovalRequest`),
and the escalation node, when the supervisor asks (:class:`EscalationRequest`).
Both payloads are plain JSON that says who may answer and how, and both accept
exactly one resume value, an :class:`Answer`::

    graph.ainvoke(Command(resume={"approved": True, "note": "checked", "approver": "store-manager"}), config)

An answer of any other shape, or from someone the policy does not name, is
refused *inside the graph*, whatever the entry point: the node asks the same
question again with an ``error`` saying why, so the thread stays paused and
nothing runs. LangGraph matches the interrupts of one node to resume values by
their order, so asking again in a loop is safe on every resume.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

__all__ = ["Answer", "ApprovalRequest", "EscalationRequest", "HumanRequest", "ResumeShape", "ask", "read_answer"]


class Answer(BaseModel):
    """A human's answer to a paused thread: the only resume value it accepts.

    Unknown keys are refused rather than ignored, so a typo (``"approve"``)
    can never pass for a rejection. A later version may add a signature
    field for unforgeable approvals; it will be a new optional key.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    approved: StrictBool
    """``true`` runs the held call (or lets the supervisor go on); ``false`` stops it."""
    note: StrictStr = ""
    """Shown to the agents and kept in the trail."""
    approver: StrictStr | None = None
    """Who answers; must be one of the request's ``approvers`` when it names any."""


class ResumeShape(BaseModel):
    """How to answer: ``Command(resume=VALUE)`` with a value of this shape."""

    model_config = ConfigDict(frozen=True)

    json_schema: dict[str, Any]
    """The JSON schema of :class:`Answer`."""
    example: dict[str, Any]


def _resume_shape() -> ResumeShape:
    return ResumeShape(
        json_schema=Answer.model_json_schema(),
        example={"approved": True, "note": "checked", "approver": None},
    )


class HumanRequest(BaseModel):
    """What every question to a human carries (the ``interrupt()`` value)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str
    rule: str | None = None
    """The policy rule that asks, if any."""
    approvers: list[str] = Field(default_factory=list)
    """Who may answer (``Answer.approver``); empty means anyone."""
    resume: ResumeShape = Field(default_factory=_resume_shape)
    error: str | None = None
    """Why the previous answer was refused, when it was; the question is unchanged."""


class ApprovalRequest(HumanRequest):
    """A policy rule holds an agent's tool call until a human approves it."""

    kind: Literal["approval"] = "approval"
    agent: str
    tool: str
    args: dict[str, Any]
    value: float | None = None
    """What the rule measured (an amount), when it measures."""
    threshold: float | None = None
    """The rule's limit: approval is needed above it."""


class EscalationRequest(HumanRequest):
    """The supervisor cannot or may not decide alone."""

    kind: Literal["escalation"] = "escalation"


def read_answer(value: Any, approvers: Sequence[str]) -> Answer | str:
    """Read a resume value, or say why it is refused.

    Args:
        value: What the client sent with ``Command(resume=...)``.
        approvers: Who may answer; empty means anyone.

    Returns:
        The answer, or the reason it is refused (the thread stays paused).
    """
    try:
        answer = Answer.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
        return (
            f"refused answer {value!r} ({problems}); resume with an object like "
            '{"approved": true, "note": "...", "approver": "NAME"}'
        )
    if approvers and answer.approver not in approvers:
        who = f"{answer.approver!r}" if answer.approver else "an anonymous answer (no approver)"
        return f"{who} may not answer this question; allowed: {', '.join(approvers)}"
    return answer


def ask(request: HumanRequest) -> Answer:
    """Pause the thread with ``request`` until a valid, allowed answer arrives.

    Each refused answer pauses the thread again with the same question and an
    ``error``; nothing after the question runs until the answer is accepted.
    """
    error: str | None = None
    while True:
        payload = request.model_copy(update={"error": error}).model_dump(mode="json")
        result = read_answer(interrupt(payload), request.approvers)
        if isinstance(result, Answer):
            return result
        error = result
