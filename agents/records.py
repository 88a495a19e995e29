"""What an agent step leaves behind: tool calls, escalations and the handoff.

These are plain TypedDicts so that they sit in checkpoints as JSON-friendly
data. The supervisor graph appends them to its trail, in order; a trail
entry's position is its step number.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

CallOutcome = Literal["ok", "refused", "crashed", "uncertain"]
"""How a tool call ended:

* ``ok``: it ran and succeeded;
* ``refused``: it changed nothing: the card or a policy rule refused it, or
  the tool itself refused (a failed precondition, a bad argument);
* ``crashed``: it failed for technical reasons (an exception); another agent
  may succeed;
* ``uncertain``: it timed out, so its effect is unknown; it must not be
  retried elsewhere.
"""


class ToolCallRecord(TypedDict):
    """One tool call an agent made (or was refused)."""

    tool: str
    args: dict[str, Any]
    outcome: CallOutcome
    result: str
    """The tool's JSON text on success, the error text otherwise; for people
    and models to read, never parsed."""
    policy: str | None
    """Which rule allowed, held or refused the call, if any (``None`` for a call the guard
    simply allowed, as well as for an observed one)."""
    observed: NotRequired[bool]
    """``True`` for a call an agent only reported making (a brought or remote agent's, see
    ``graph/external_node.py``): Switchboard neither decided nor ran it, so its result is
    what the agent claims. Shown in the trail and passed on as history, but never a fact
    the data scopes decide with (:func:`~switchboard.agents.facts.thread_facts`). Absent
    on the calls the guard governed."""


class SlotWait(TypedDict):
    """How long a step waited, as it started, for a slot of its agent (capacity or its circuit breaker)."""

    why: str
    """Why the agent had no slot for it: its load, or its breaker."""
    waited_s: float


class HandoffEvent(TypedDict):
    """What an agent hands back: findings and reasoning, not a transcript."""

    kind: Literal["handoff"]
    agent: str
    assignment: str
    """Id of the step; a reassigned step keeps its id."""
    skill: str | None
    instruction: str
    status: Literal["done", "failed", "rejected"]
    retryable: bool
    """For failures: another agent might succeed (the agent raised, crashed a
    tool or said it was unable), as opposed to a business refusal. A step
    with an ``uncertain`` call (a write that timed out or was cut off) is
    never handed on, whatever this says: it goes to a human first."""
    summary: str
    facts: dict[str, Any]
    reasoning: str
    confidence: float
    tool_calls: list[ToolCallRecord]
    usage: NotRequired[dict[str, Any]]
    """Tokens and cost of the step's model calls (``switchboard.graph.usage.ModelUsage``), for the budgets."""
    slot_wait: NotRequired[SlotWait]
    """Present when the step had to wait for its agent's slot before it started (or was handed back)."""


class EscalationEvent(TypedDict):
    """A question put to a human, and the answer."""

    kind: Literal["escalation"]
    source: Literal["supervisor", "policy"]
    question: str
    agent: str | None
    rule: str | None
    approved: bool
    note: str
    approver: str | None
    at_call: int
    """For policy questions: how many of the agent's tool calls came before it."""
