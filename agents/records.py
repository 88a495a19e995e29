"""What an agent step leaves behind: tool calls, escalations and the handoff.

These are plain TypedDicts so that they sit in checkpoints as JSON-friendly
data. The supervisor graph appends them to its trail.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class ToolCallRecord(TypedDict):
    """One tool call an agent made (or was refused)."""

    tool: str
    args: dict[str, Any]
    ok: bool
    result: str
    """The tool's JSON text on success, the error text otherwise."""
    policy: str | None
    """Which rule allowed, held or refused the call, if any."""


class HandoffEvent(TypedDict):
    """What an agent hands back: findings and reasoning, not a transcript."""

    kind: Literal["handoff"]
    step: int
    agent: str
    skill: str | None
    instruction: str
    status: Literal["done", "failed", "rejected"]
    summary: str
    facts: dict[str, Any]
    reasoning: str
    confidence: float
    tool_calls: list[ToolCallRecord]


class EscalationEvent(TypedDict):
    """A question put to a human, and the answer."""

    kind: Literal["escalation"]
    step: int
    source: Literal["supervisor", "policy"]
    question: str
    agent: str | None
    rule: str | None
    approved: bool
    note: str
    approver: str | None
