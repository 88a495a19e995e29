"""A workflow graph's state.

Like the supervisor's, it is plain typed dictionaries, so checkpoints are
JSON-friendly. Parallel steps write to merged or append-only channels only,
so steps that finish in the same superstep never overwrite each other.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired, TypedDict

from switchboard.agents.records import EscalationEvent, HandoffEvent, ToolCallRecord
from switchboard.graph.state import merge_facts

WorkflowTrailEvent = HandoffEvent | EscalationEvent


class WorkflowInput(TypedDict, total=False):
    """What starts a workflow: the task, and whatever is already known."""

    task: str
    context: dict[str, Any]
    history: list[ToolCallRecord]
    """The thread's tool calls before the workflow started."""
    run: str
    """Which run of the workflow this is, unique in the thread; see :attr:`WorkflowState.run`."""


class WorkflowState(TypedDict, total=False):
    """State of one run of a workflow."""

    task: str
    context: Annotated[dict[str, Any], merge_facts]
    """Facts handed over by every step that finished ``done``."""
    history: list[ToolCallRecord]
    """The thread's tool calls before the workflow started; the steps' own are in their handoffs."""
    results: Annotated[dict[str, HandoffEvent], merge_facts]
    """Step id to its handoff; a step without one was skipped or never reached."""
    compensations: Annotated[dict[str, HandoffEvent], merge_facts]
    """Step id to the handoff of the compensation that ran for it."""
    trail: Annotated[list[WorkflowTrailEvent], operator.add]
    """Every handoff and escalation, in the order they happened."""
    run: str
    """Which run of the workflow this is: inside the supervisor, the assignment
    id of the workflow's own step. Each step's assignment id, and so the
    idempotency key of its writes, is derived from it, so two runs in one
    thread (two turns of a chat) never share a key, while a re-run of the
    same run (a resume, a crash) sends its keys again. A standalone graph,
    whose thread holds several runs, may leave it out: each run is then
    named afresh (:attr:`run_id`)."""
    run_id: str
    """The name a run's steps are keyed by: ``run`` when given, else a new one
    when the run begins (checkpointed, so a resumed run keeps it)."""


class StepInput(TypedDict):
    """What ``Send`` gives a step node: the step, and what is known when it starts."""

    task: str
    context: dict[str, Any]
    history: list[ToolCallRecord]
    """The thread's tool calls so far, the earlier steps' included."""
    run: NotRequired[str]
    """The workflow run's id (:attr:`WorkflowState.run`), when it has one."""
