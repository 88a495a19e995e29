"""Monitoring: local telemetry, cost accounting, live anomaly alerts, a dashboard and ``trace``.

Attach :attr:`Monitor.handler` to a run's callbacks, or run inside
:func:`recording`, and every step, model call, tool call and reason of the
run is written to the telemetry database; detectors watch the same events
and raise :class:`Alert` s to the configured sinks while the run goes on.
"""

from __future__ import annotations

from switchboard.monitoring.alerts import Alert
from switchboard.monitoring.config import MonitoringConfig, Thresholds
from switchboard.monitoring.costs import Budget, PriceTable
from switchboard.monitoring.events import TelemetryEvent
from switchboard.monitoring.handler import TelemetryHandler
from switchboard.monitoring.labels import root_config
from switchboard.monitoring.monitor import Monitor
from switchboard.monitoring.session import current_monitor, instrument, monitor_in, pause_point, recording
from switchboard.monitoring.store import TelemetryStore
from switchboard.monitoring.tracer import ReadableTracer, langsmith_tracing

__all__ = [
    "Alert",
    "Budget",
    "Monitor",
    "MonitoringConfig",
    "PriceTable",
    "ReadableTracer",
    "TelemetryEvent",
    "TelemetryHandler",
    "TelemetryStore",
    "Thresholds",
    "current_monitor",
    "instrument",
    "langsmith_tracing",
    "monitor_in",
    "pause_point",
    "recording",
    "root_config",
]
