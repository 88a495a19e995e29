"""What a finished workflow reports.

A workflow ends in one of three ways, told apart by a typed
:class:`WorkflowOutcome`, never by text:

- ``completed``: no step failed in a way the workflow does not handle
  (branches not taken are ``skipped``);
- ``rejected``: a human refused a step's action; the run ends as rejected;
- ``failed``: a step failed or raised and its ``on_failure`` is ``stop``;
  compensations have run, and ``fallback`` is true: the supervisor goes
  back to LLM routing with everything that happened in its trail.

The outcome travels to the supervisor as one handoff
(:meth:`WorkflowOutcome.handoff`); see :mod:`.node`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from switchboard.agents.records import HandoffEvent
from switchboard.graph.workflows.spec import Workflow

WorkflowStatus = Literal["completed", "failed", "rejected"]
StepState = Literal["done", "failed", "rejected", "skipped"]


@dataclass(frozen=True, kw_only=True)
class WorkflowOutcome:
    """How a workflow run ended."""

    workflow: str
    """The workflow's name."""
    status: WorkflowStatus
    """``completed``, ``rejected`` (a human said no) or ``failed`` (unhandled)."""
    summary: str
    """One paragraph for people and for the supervisor's prompt."""
    steps: Mapping[str, StepState] = field(default_factory=dict)
    """Every step, in file order, with how it ended; ``skipped`` if never run."""
    failed_step: str | None = None
    """The first step, in file order, that stopped the workflow."""
    compensated: tuple[str, ...] = ()
    """Steps whose compensation ran and finished ``done``."""
    uncompensated: tuple[str, ...] = ()
    """Steps whose compensation failed: a human must look at them."""
    facts: Mapping[str, Any] = field(default_factory=dict)
    """Facts gathered by the steps that finished ``done``."""

    @property
    def fallback(self) -> bool:
        """Whether the supervisor should take over with LLM routing."""
        return self.status == "failed"

    def handoff(self, *, agent: str, assignment: str, instruction: str) -> HandoffEvent:
        """The outcome as the supervisor's trail records a step.

        Never ``retryable``: the workflow already ran its own compensations,
        so handing the whole workflow to another agent would repeat effects.
        A ``failed`` handoff that is not retryable sends the supervisor back
        to its router, which is the fallback to LLM routing.

        It restates neither facts nor tool calls: the steps' own handoffs,
        recorded just before it, carry both, so each fact is checked once by
        the guardians against the calls that produced it, and each call is
        counted once by the budgets. The facts reach shared memory through
        the node's ``context`` update.
        """
        status: Literal["done", "failed", "rejected"] = "done" if self.status == "completed" else self.status
        return HandoffEvent(
            kind="handoff",
            agent=agent,
            assignment=assignment,
            skill=None,
            instruction=instruction,
            status=status,
            retryable=False,
            summary=self.summary,
            facts={},
            reasoning=f"workflow {self.workflow}: " + ", ".join(f"{k} {v}" for k, v in self.steps.items()),
            confidence=1.0 if self.status == "completed" else 0.0,
            tool_calls=[],
        )


def outcome_of(workflow: Workflow, state: Mapping[str, Any]) -> WorkflowOutcome:
    """Read the outcome from a workflow graph's final state."""
    results: Mapping[str, HandoffEvent] = state.get("results") or {}
    compensations: Mapping[str, HandoffEvent] = state.get("compensations") or {}
    steps: dict[str, StepState] = {
        s.id: results[s.id]["status"] if s.id in results else "skipped" for s in workflow.steps
    }
    stoppers = [s for s in workflow.steps if s.id in results and steps[s.id] != "done" and s.on_failure == "stop"]
    compensated = tuple(sid for sid, h in compensations.items() if h["status"] == "done")
    uncompensated = tuple(sid for sid, h in compensations.items() if h["status"] != "done")
    facts = {k: v for sid, h in results.items() if h["status"] == "done" for k, v in h["facts"].items()}
    ran = ", ".join(f"{sid} {st}" for sid, st in steps.items())
    if not stoppers:
        return WorkflowOutcome(
            workflow=workflow.name,
            status="completed",
            summary=f"Workflow {workflow.name} completed ({ran}).",
            steps=steps,
            facts=facts,
        )
    first = stoppers[0]
    status: WorkflowStatus = "rejected" if any(steps[s.id] == "rejected" for s in stoppers) else "failed"
    undone = f" Compensated: {', '.join(compensated)}." if compensated else ""
    stuck = f" Compensation failed for: {', '.join(uncompensated)}; a human must check them." if uncompensated else ""
    summary = (
        f"Workflow {workflow.name} stopped at step {first.id} ({status}): "
        f"{results[first.id]['summary'].rstrip('.')}."
        f"{undone}{stuck} Steps: {ran}."
    )
    return WorkflowOutcome(
        workflow=workflow.name,
        status=status,
        summary=summary,
        steps=steps,
        failed_step=first.id,
        compensated=compensated,
        uncompensated=uncompensated,
        facts=facts,
    )


def crashed(workflow: Workflow, exc: Exception) -> WorkflowOutcome:
    """The outcome of a workflow whose graph itself raised."""
    return WorkflowOutcome(
        workflow=workflow.name,
        status="failed",
        summary=f"Workflow {workflow.name} broke off: {type(exc).__name__}: {exc}",
        steps={s.id: "skipped" for s in workflow.steps},
    )
