"""The monitor: records events, runs the detectors, raises alerts, decides pauses.

One monitor serves every run in a process. Its :attr:`handler` is the
LangChain callback handler to attach to a run; everything the handler sees
comes back through :meth:`Monitor.observe`, which is cheap enough for the
event loop: detectors are in-memory, the database write is queued, and the
sinks (a command, a webhook) run on a background thread.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from switchboard.monitoring.alerts import Alert
from switchboard.monitoring.config import MonitoringConfig
from switchboard.monitoring.costs import PriceTable
from switchboard.monitoring.detectors import BudgetDetector, Detector, EscalationWatch, default_detectors
from switchboard.monitoring.events import TelemetryEvent
from switchboard.monitoring.handler import TelemetryHandler
from switchboard.monitoring.sinks import Sink, build_sinks
from switchboard.monitoring.store import TelemetryStore, TelemetryUnavailable

log = logging.getLogger(__name__)


class Monitor:
    """Telemetry, detectors and alert delivery for the runs of one process.

    Args:
        config: Thresholds, budgets, sinks and where the database is.
        listeners: Called inline with each alert as it is raised (the CLI
            prints them); keep them fast.
        store: An open store; by default one on ``config``'s database.
    """

    def __init__(
        self,
        config: MonitoringConfig | None = None,
        *,
        listeners: Sequence[Sink] = (),
        store: TelemetryStore | None = None,
    ) -> None:
        self.config = config or MonitoringConfig.load()
        self.store = store or TelemetryStore(self.config.database())
        self.prices = PriceTable.load(self.config.prices)
        self.detectors: list[Detector] = default_detectors(self.config.thresholds, self.config.budgets)
        self.escalations = EscalationWatch(self.config.thresholds)
        self.handler = TelemetryHandler(self)
        self.alerts: list[Alert] = []
        """Every alert raised in this process, in order."""
        self._listeners = list(listeners)
        self._sinks = build_sinks(self.config.sinks)
        self._delivery = ThreadPoolExecutor(max_workers=1, thread_name_prefix="switchboard-alerts")
        self._pending: list[Future[None]] = []
        self._pauses: dict[str | None, list[Alert]] = defaultdict(list)
        self._lock = threading.Lock()

    def observe(self, event: TelemetryEvent) -> list[Alert]:
        """Record ``event``, run it through every detector, and raise what they find."""
        with self._lock:
            self.store.record(event)
            raised = [alert for detector in self.detectors for alert in detector.observe(event)]
            self.escalations.observe(event)
            for alert in raised:
                self._raise(alert)
        if event.kind in {"step", "llm", "tool"}:
            log.debug("%s %s %s %s %s ms", event.kind, event.agent, event.name, event.outcome, event.duration_ms)
        return raised

    def check_escalations(self, now: float) -> list[Alert]:
        """Raise an alert for each escalation left waiting past the threshold."""
        with self._lock:
            due = self.escalations.due(now)
            for alert in due:
                self._raise(alert)
        return due

    def pause_requested(self, thread_id: str | None) -> Alert | None:
        """The first alert asking to pause ``thread_id``, taken off the list.

        The graph calls this between steps (see ``pause_point``); an alert is
        answered by one pause, so it is returned once.
        """
        with self._lock:
            pending = self._pauses.get(thread_id)
            return pending.pop(0) if pending else None

    def prime(self, thread_id: str) -> None:
        """Take in what earlier processes spent on ``thread_id``, for its thread and agent budgets.

        A resume runs in a process of its own; without this, a thread's
        budget counted only what the current process saw. Reads the
        database: call it off the event loop (``drive`` does, per resume).
        """
        budgets = [d for d in self.detectors if isinstance(d, BudgetDetector)]
        if not budgets:
            return
        used = self.store.rows(
            "SELECT agent, SUM(tokens_in + tokens_out) AS tokens, SUM(cost) AS cost FROM events"
            " WHERE kind = 'llm' AND thread_id = ? GROUP BY agent",
            (thread_id,),
        )
        spent: dict[str, float] = {
            "thread_tokens": float(sum(row["tokens"] or 0 for row in used)),
            "thread_cost": float(sum(row["cost"] or 0.0 for row in used)),
        }
        spent |= {f"agent_cost:{row['agent']}": float(row["cost"] or 0.0) for row in used if row["agent"]}
        raised = self.store.rows(
            "SELECT outcome, metadata FROM events WHERE kind = 'alert' AND name = 'budget' AND thread_id = ?",
            (thread_id,),
        )
        fired = [(str(details["limit"]), "spent" if row["outcome"] == "critical" else "near")
                 for row in raised if "limit" in (details := _details(row["metadata"]))]  # fmt: skip
        fired += [(limit, "near") for limit, level in fired if level == "spent"]
        with self._lock:
            for detector in budgets:
                detector.seed(thread_id, spent, fired)

    def last_run(self, thread_id: str) -> str | None:
        """The id of the thread's latest root run (a start or resume) recorded here, if any.

        A resume's trace names it as the run it continues. Read from the
        telemetry database, so it is found across processes.
        """
        rows = self.store.rows(
            "SELECT id FROM events WHERE kind = 'run' AND thread_id = ? ORDER BY started DESC LIMIT 1", (thread_id,)
        )
        return str(rows[0]["id"]) if rows else None

    def flush(self) -> None:
        """Wait until every event is written and every alert delivered."""
        with self._lock:
            pending, self._pending = self._pending, []
        for future in pending:
            future.result()
        self.store.flush()

    def close(self) -> None:
        """Flush, then stop the writer and the delivery thread."""
        self.flush()
        self._delivery.shutdown(wait=True)
        self.store.close()

    def _raise(self, alert: Alert) -> None:
        if alert.detector in self.config.pause_on and not alert.pause:
            alert = replace(alert, pause=True)
        self.alerts.append(alert)
        self.store.record(alert.event())
        if alert.pause:
            self._pauses[alert.thread_id].append(alert)
        for listener in self._listeners:
            listener(alert)
        self._pending = [f for f in self._pending if not f.done()]
        self._pending += [self._delivery.submit(_deliver, sink, alert) for sink in self._sinks]


def open_monitor(config: MonitoringConfig, *, listeners: Sequence[Sink] = ()) -> Monitor | None:
    """A monitor on ``config``'s database, or ``None`` when that database cannot be opened.

    Telemetry watches the business and must not stop it: a telemetry file
    that is locked, unwritable or corrupt turns telemetry off for the run
    (nothing is recorded, no detector runs), with a warning that says so and
    how to fix it. The next run tries the file again.
    """
    try:
        return Monitor(config, listeners=listeners)
    except TelemetryUnavailable as exc:
        log.warning("telemetry is off for this run, which goes on unrecorded: %s", exc)
        return None


def _details(metadata: Any) -> dict[str, Any]:
    """An alert event's details, as the database keeps them (JSON text)."""
    if isinstance(metadata, dict):
        return metadata
    try:
        value = json.loads(metadata or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _deliver(sink: Sink, alert: Alert) -> None:
    try:
        sink(alert)
    except Exception:  # a broken sink must not stop the run: log it and keep delivering
        log.exception("alert sink %r failed", sink)
