"""The supervisor graph's state.

State is plain typed dictionaries, never live objects, so every checkpoint is
JSON-friendly and readable by ``switchboard show`` without the code that wrote
it. The ``trail`` is append-only: it is the whole chain behind an outcome, in
order, and the supervisor's prompt is derived from it rather than from agent
transcripts, so the prompt grows by one short entry per step.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from agents.records import EscalationEvent, HandoffEvent, ToolCallRecord


class DecisionEvent(TypedDict):
    """A routing decision of the supervisor."""

    kind: Literal["decision"]
    step: int
    action: Literal["route", "finish", "escalate"]
    agent: str | None
    skill: str | None
    instruction: str
    reason: str
    confidence: float
    attempts: int
    """How many model calls it took (2 after a refused first answer)."""
    error: str | None
    """Why an answer was refused, when one was."""


class ReportEvent(TypedDict):
    """The final report of a run."""

    kind: Literal["report"]
    step: int
    outcome: Literal["resolved", "rejected", "escalated"]
    summary: str


__all__ = [
    "Assignment",
    "DecisionEvent",
    "EscalationEvent",
    "HandoffEvent",
    "ReportEvent",
    "SupervisorState",
    "ToolCallRecord",
    "TrailEvent",
    "merge_facts",
    "next_step",
]

TrailEvent = DecisionEvent | HandoffEvent | EscalationEvent | ReportEvent


class Assignment(TypedDict):
    """The step the supervisor handed to an agent and is waiting on."""

    agent: str
    skill: str | None
    instruction: str


def merge_facts(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer for shared memory: later facts win, nothing is dropped."""
    return {**(left or {}), **(right or {})}


class SupervisorState(TypedDict, total=False):
    """State of one thread of the supervisor graph."""

    task: str
    trail: Annotated[list[TrailEvent], operator.add]
    context: Annotated[dict[str, Any], merge_facts]
    """Shared memory: the facts every handoff contributed."""
    approvals: Annotated[list[str], operator.add]
    """Approval keys granted by humans in this thread (see policies.approval_key)."""
    active: Assignment | None
    hops: int
    pending: str | None
    """The question waiting for a human, set before the escalation node."""
    outcome: Literal["resolved", "rejected", "escalated"]
    summary: str


def next_step(state: SupervisorState) -> int:
    """The number of the next trail entry."""
    return len(state.get("trail") or []) + 1
