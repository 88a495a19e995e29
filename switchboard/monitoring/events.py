"""The telemetry event: one row of "who did what, when, why, and at what cost".

Everything the monitoring layer knows is an event: a run starting and ending,
a graph step, a model call with its tokens, a tool call, a routing decision
with its reason, an agent's handoff, a policy denial, a question to a human,
and the alerts raised about all of these. Detectors read events and alerts
are written back as events, so one table answers every question.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "run", "step", "substep", "llm", "tool", "decision", "handoff", "denial", "escalation", "report", "alert"
]
KINDS: tuple[Kind, ...] = (
    "run",
    "step",
    "substep",
    "llm",
    "tool",
    "decision",
    "handoff",
    "denial",
    "escalation",
    "report",
    "alert",
)


_PROCESS = uuid.uuid4().hex[:12]
_COUNTER = itertools.count()


def new_event_id() -> str:
    """A unique id for an event that has no LangChain run id: this process's prefix and a counter."""
    return f"{_PROCESS}-{next(_COUNTER)}"


@dataclass(frozen=True, kw_only=True)
class TelemetryEvent:
    """One thing that happened in a run."""

    kind: Kind
    """run (a start or a resume), step (a node of the supervisor graph),
    substep (a node inside an agent), llm, tool, decision (the supervisor's
    routing), handoff (what an agent handed back), denial (a refused tool
    call), escalation (a question to a human, waiting or answered), report
    (the run's final report) or alert (raised by a detector)."""
    name: str
    """What: the node, model, tool, skill or detector name."""
    run_id: str | None = None
    """The root LangChain run: one per start or resume of a thread."""
    thread_id: str | None = None
    agent: str | None = None
    """Who: the agent (or ``supervisor``) the event belongs to."""
    started: float = field(default_factory=time.time)
    """Unix time, seconds."""
    ended: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_estimated: bool = False
    """True when the provider gave no usage and the tokens were approximated."""
    cost: float = 0.0
    """In the price table's currency (USD by default)."""
    outcome: str | None = None
    """ok, error, paused, completed; route/finish/escalate for decisions;
    done/failed/rejected for handoffs; waiting/approved/rejected for
    escalations (answered when a customer replied to a question);
    warning/critical for alerts."""
    reason: str | None = None
    """Why: the decision's reason, the handoff's summary, the error, the alert."""
    id: str = field(default_factory=new_event_id)
    """The LangChain run id for runs, steps and calls; a fresh id otherwise."""
    parent_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Anything else worth keeping: confidence, skill, rule, tool arguments."""

    @property
    def duration_ms(self) -> float | None:
        """Wall time in milliseconds, for events that have an end."""
        return None if self.ended is None else round(1000 * (self.ended - self.started), 3)

    def row(self) -> dict[str, Any]:
        """The event as a row of the ``events`` table."""
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "agent": self.agent,
            "parent_id": self.parent_id,
            "started": self.started,
            "ended": self.ended,
            "duration_ms": self.duration_ms,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens_estimated": int(self.tokens_estimated),
            "cost": self.cost,
            "outcome": self.outcome,
            "reason": self.reason,
            "metadata": json.dumps(dict(self.metadata), default=str, sort_keys=True),
        }
