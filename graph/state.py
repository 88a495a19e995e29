"""The supervisor graph's state.

State is plain typed dictionaries, never live objects, so every checkpoint is
JSON-friendly and readable by ``switchboard show`` without the code that wrote
it. The ``trail`` is append-only: it is the whole chain behind an outcome, in
order, and the supervisor's prompt is derived from it rather than from agent
transcripts, so the prompt grows by one short entry per step.

The graph also speaks chat: a ``messages`` channel (LangGraph's
``add_messages``) takes the user's request and ends with the report as an
``AIMessage``, so LangGraph Studio's chat view and agent-chat-ui work
unchanged. :class:`SupervisorInput` and :class:`SupervisorOutput` are the
declared input and output schemas.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from switchboard.agents.records import EscalationEvent, HandoffEvent, ToolCallRecord

__all__ = [
    "AgentInput",
    "Assignment",
    "CapacityWait",
    "DecisionEvent",
    "EscalationEvent",
    "HandoffEvent",
    "Outcome",
    "PlanEntry",
    "ReportEvent",
    "SupervisorInput",
    "SupervisorOutput",
    "SupervisorState",
    "ToolCallRecord",
    "TrailEvent",
    "merge_facts",
]


class Assignment(TypedDict):
    """A step handed to an agent."""

    id: str
    """Stable across reassignments, so a step is tracked until it is done."""
    agent: str
    skill: str | None
    instruction: str
    tried: list[str]
    """Agents that already failed this step."""


class PlanEntry(TypedDict):
    """A step the routing model expects to come later (see ``DecisionEvent.plan``)."""

    agent: str
    skill: str | None
    instruction: str


class CapacityWait(TypedDict):
    """How long a step waited for a saturated agent to free a slot (back-pressure)."""

    agent: str
    why: str
    """Why the agent was unavailable when the step was routed (its load)."""
    waited_s: float
    max_wait_s: float
    expired: bool
    """True when no slot freed in ``max_wait_s`` and a human was asked."""


class DecisionEvent(TypedDict):
    """A routing decision of the supervisor."""

    kind: Literal["decision"]
    action: Literal["route", "finish", "escalate"]
    agent: str | None
    skill: str | None
    instruction: str
    reason: str
    confidence: float
    source: Literal["model", "plan", "rule", "reassign", "guard"]
    """Who decided: the model, the plan of an earlier model decision, a
    pinned routing rule, the reassignment of a failed step, or a guard (hop
    limit, bad answers, low confidence)."""
    rule: str | None
    attempts: int
    """Model calls it took (2 after a refused first answer)."""
    error: str | None
    """Why an answer was refused, when one was."""
    assignments: list[Assignment]
    """For routes: every step started, more than one when they run in parallel."""
    shortlist: list[str]
    unavailable: dict[str, str]
    """Agents not offered, with the reason (saturated, circuit open)."""
    plan: NotRequired[list[PlanEntry]]
    """The steps still expected after this one, in order; the supervisor
    follows them without a model call until a step deviates."""
    usage: NotRequired[dict[str, Any]]
    """Tokens and cost of the routing model's calls for this decision, for the budgets."""
    capacity_wait: NotRequired[CapacityWait]
    """Set when the step queued for a saturated agent before it ran (or before a human was asked)."""


Outcome = Literal["resolved", "handed_over", "rejected", "escalated"]
"""How a turn ended: every step done; a step left unfinished for a human;
stopped by a human's rejection (or a business refusal)."""


class ReportEvent(TypedDict):
    """The final report of a run."""

    kind: Literal["report"]
    outcome: Outcome
    summary: str


TrailEvent = DecisionEvent | HandoffEvent | EscalationEvent | ReportEvent


def merge_facts(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer for shared memory: later facts win, nothing is dropped."""
    return {**(left or {}), **(right or {})}


class SupervisorInput(TypedDict, total=False):
    """What a run accepts: a task, chat messages, or both.

    Without ``task``, the task is the text of the last human message. With
    new human messages, the last one is the task (a chat turn).
    """

    task: str
    messages: Annotated[list[AnyMessage], add_messages]


class SupervisorOutput(TypedDict, total=False):
    """What a run returns: the conversation (ending with the report), the outcome and the trail."""

    messages: Annotated[list[AnyMessage], add_messages]
    task: str
    outcome: Outcome
    summary: str
    trail: Annotated[list[TrailEvent], operator.add]


class SupervisorState(TypedDict, total=False):
    """State of one thread of the supervisor graph."""

    task: str
    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation: the user's requests and each turn's report."""
    asked: str | None
    """Id of the human message the current task was taken from (or added for)."""
    trail: Annotated[list[TrailEvent], operator.add]
    context: Annotated[dict[str, Any], merge_facts]
    """Shared memory: the facts every handoff contributed."""
    hops: int
    pending: str | None
    """The question waiting for a human, set before the escalation node."""
    outcome: Outcome
    summary: str
    epoch: str
    """Tells this thread's audit entries apart from an earlier thread's under the same thread id.

    Set once, by the intake at the thread's first step (a random id), and
    checkpointed with the thread, so a resumed run keys its entries as
    before. Not in :class:`SupervisorInput`, so no caller can choose it (see
    :func:`~switchboard.graph.oversight.thread_epoch`).
    """


class AgentInput(TypedDict):
    """What ``Send`` gives an agent node: the step and what it needs to know."""

    task: str
    context: dict[str, Any]
    history: list[ToolCallRecord]
    """The thread's tool calls so far: the policy learns its facts (customer, owners) from them."""
    assignment: Assignment
