"""An alert: what a detector raises, recorded as an event and sent to the sinks."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from switchboard.monitoring.events import TelemetryEvent

Severity = Literal["warning", "critical"]


@dataclass(frozen=True)
class Alert:
    """Something in a run that a human should look at now, not after the fact."""

    detector: str
    """routing_loop, ping_pong, error_burst, latency, denial_burst, budget or escalation_wait."""
    severity: Severity
    message: str
    """One line that says what happened and where to look."""
    thread_id: str | None = None
    run_id: str | None = None
    agent: str | None = None
    pause: bool = False
    """The configuration asks for the run to pause for a human (see ``Monitor.pause_requested``)."""
    details: Mapping[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        """What sinks receive: a flat JSON object."""
        return {
            "detector": self.detector,
            "severity": self.severity,
            "message": self.message,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "agent": self.agent,
            "pause": self.pause,
            "details": dict(self.details),
            "at": self.at,
        }

    def event(self) -> TelemetryEvent:
        """The alert as a telemetry event."""
        return TelemetryEvent(
            kind="alert",
            name=self.detector,
            run_id=self.run_id,
            thread_id=self.thread_id,
            agent=self.agent,
            started=self.at,
            outcome=self.severity,
            reason=self.message,
            metadata={"pause": self.pause, **self.details},
        )
