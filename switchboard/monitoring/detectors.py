"""Anomaly detectors: pure functions of the event stream, run while the run goes on.

Each detector is a small class with ``observe(event) -> list[Alert]``. It
keeps only the state it needs (recent targets, recent failures, recent
latencies, spend so far) and does no input or output, so the same events
always raise the same alerts and a test can drive it with plain events.
Each fires when its threshold is reached and then starts counting afresh,
so a long loop raises one alert per threshold, not one per event.
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from switchboard.monitoring.alerts import Alert
from switchboard.monitoring.config import Thresholds
from switchboard.monitoring.costs import Budget
from switchboard.monitoring.events import TelemetryEvent


class Detector(Protocol):
    """What the monitor runs every event through."""

    def observe(self, event: TelemetryEvent) -> list[Alert]:
        """Alerts this event raises (usually none)."""
        ...


def _burst(times: deque[float], at: float, window: float, count: int) -> bool:
    """Record one occurrence at ``at``; whether ``count`` fell within ``window`` seconds.

    A burst clears the window, so one burst raises one alert, not one per
    occurrence after it.
    """
    times.append(at)
    while times and times[0] < at - window:
        times.popleft()
    if len(times) < count:
        return False
    times.clear()
    return True


def _alert(detector: str, event: TelemetryEvent, message: str, **details: Any) -> Alert:
    severity = details.pop("severity", "warning")
    return Alert(
        detector, severity, message, event.thread_id, event.run_id, event.agent, details=details, at=event.started
    )


class RoutingLoopDetector:
    """The supervisor keeps routing to the same agent, or bounces between two."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.repeats = thresholds.loop_repeats
        self.cycles = thresholds.ping_pong_cycles
        self._targets: dict[str | None, deque[str]] = defaultdict(
            lambda: deque(maxlen=max(self.repeats, 2 * self.cycles))
        )

    def observe(self, event: TelemetryEvent) -> list[Alert]:
        if event.kind != "decision" or event.outcome != "route":
            return []
        recent = self._targets[event.thread_id]
        recent.append(event.name)
        seq = list(recent)
        tail = seq[-self.repeats :]
        if len(tail) == self.repeats and len(set(tail)) == 1:
            recent.clear()  # one alert per run of repeats
            return [_alert("routing_loop", event, f"routed to {tail[0]} {self.repeats} times in a row", target=tail[0])]
        pong = seq[-2 * self.cycles :]
        if len(pong) == 2 * self.cycles and _alternates(pong):
            recent.clear()  # one alert per run of bouncing
            pair = f"{pong[0]} and {pong[1]}"
            return [_alert("ping_pong", event, f"routing bounced between {pair} {self.cycles} times", pair=pong[:2])]
        return []


def _alternates(seq: list[str]) -> bool:
    a, b = seq[0], seq[1]
    return a != b and all(x == (a if i % 2 == 0 else b) for i, x in enumerate(seq))


class ErrorBurstDetector:
    """Several failed steps of one agent in a short window.

    A step fails either by raising (a ``step`` event in error) or by handing
    back a failed handoff. The model and tool errors inside a step are its
    causes, not more failures: counting them too made one failed step count
    two or three times, and an agent that recovered from a tool error count
    as failing.
    """

    def __init__(self, thresholds: Thresholds) -> None:
        self.count = thresholds.error_burst
        self.window = thresholds.error_window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def observe(self, event: TelemetryEvent) -> list[Alert]:
        if not _failed_step(event) or not event.agent:
            return []
        if not _burst(self._failures[event.agent], event.started, self.window, self.count):
            return []
        return [
            _alert(
                "error_burst",
                event,
                f"{event.agent} failed {self.count} times within {self.window:g}s; last: {event.reason or event.name}",
                severity="critical",
            )
        ]


def _failed_step(event: TelemetryEvent) -> bool:
    """Whether ``event`` is a step that failed: it raised, or its agent handed back a failure."""
    return (event.kind == "step" and event.outcome == "error") or (
        event.kind == "handoff" and event.outcome == "failed"
    )


class LatencyDetector:
    """A step far slower than the same agent's recent norm for steps like it.

    Steps that call a model and steps that do not keep separate histories: a
    supervisor decision that follows the plan takes milliseconds, one that
    asks the model takes a second or more, and measured against each other
    every model call looked like an anomaly. A step called a model when a
    model call of the same agent in the same run ended since that agent's
    last step did (a call ends before the step around it).
    """

    def __init__(self, thresholds: Thresholds) -> None:
        self.t = thresholds
        self._history: dict[tuple[str, bool], deque[float]] = defaultdict(
            lambda: deque(maxlen=thresholds.latency_history)
        )
        self._called: set[tuple[str | None, str]] = set()
        """``(run, agent)`` pairs with a model call since the agent's last step."""

    def observe(self, event: TelemetryEvent) -> list[Alert]:
        if event.kind == "run":
            self._called = {key for key in self._called if key[0] != event.run_id}
        if not event.agent or event.kind not in {"llm", "step"}:
            return []
        key = (event.run_id, event.agent)
        if event.kind == "llm":
            self._called.add(key)
            return []
        called = key in self._called
        self._called.discard(key)
        ms = event.duration_ms
        if ms is None or event.outcome == "paused":
            return []
        return self._compare(event, ms, self._history[(event.agent, called)], called)

    def _compare(self, event: TelemetryEvent, ms: float, history: deque[float], called: bool) -> list[Alert]:
        """An alert when ``ms`` is far above the median of ``history``; then ``ms`` joins it."""
        alerts = []
        if len(history) >= self.t.latency_min_samples:
            norm = statistics.median(history)
            if ms > self.t.latency_floor_ms and ms > self.t.latency_factor * norm:
                kind = "steps that call a model" if called else "steps without a model call"
                message = (
                    f"{event.agent} took {ms:.0f} ms, {ms / max(norm, 1e-9):.1f}x its recent median "
                    f"of {norm:.0f} ms for {kind}"
                )
                alerts.append(_alert("latency", event, message, duration_ms=ms, median_ms=norm, model_call=called))
        history.append(ms)
        return alerts


class DenialBurstDetector:
    """Several tool calls refused by policy in one thread in a short window."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.count = thresholds.denial_burst
        self.window = thresholds.denial_window_s
        self._denials: dict[str | None, deque[float]] = defaultdict(deque)

    def observe(self, event: TelemetryEvent) -> list[Alert]:
        if event.kind != "denial":
            return []
        if not _burst(self._denials[event.thread_id], event.started, self.window, self.count):
            return []
        message = f"{self.count} tool calls refused by policy within {self.window:g}s; last: {event.reason}"
        return [_alert("denial_burst", event, message, severity="critical")]


class BudgetDetector:
    """Token and cost budgets nearly (``warn_at``) or fully spent.

    Run budgets count one start or resume; thread and agent budgets count
    the whole thread, across the processes that ran it: :meth:`seed` takes
    in what the telemetry database says the thread spent, and which of its
    budget alerts were raised, before this process saw it.
    """

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._spent: dict[tuple[str, str | None], float] = defaultdict(float)
        self._fired: set[tuple[str, str | None, str]] = set()

    def seed(self, thread_id: str, spent: Mapping[str, float], fired: Iterable[tuple[str, str]]) -> None:
        """Count what ``thread_id`` spent elsewhere: ``spent`` by thread limit, ``fired`` as ``(limit, level)``.

        The larger of the two counts stands, so a thread this process has
        seen already (its own events may not be on disk yet) is not counted twice.
        """
        for limit, amount in spent.items():
            key = (limit, thread_id)
            self._spent[key] = max(self._spent[key], amount)
        self._fired |= {(limit, thread_id, level) for limit, level in fired}

    def observe(self, event: TelemetryEvent) -> list[Alert]:
        if event.kind != "llm":
            return []
        b = self.budget
        tokens = event.tokens_in + event.tokens_out
        checks: list[tuple[str, str | None, float, float | None]] = [
            ("run_tokens", event.run_id, tokens, b.run_tokens),
            ("run_cost", event.run_id, event.cost, b.run_cost),
            ("thread_tokens", event.thread_id, tokens, b.thread_tokens),
            ("thread_cost", event.thread_id, event.cost, b.thread_cost),
        ]
        if event.agent in b.agent_cost:
            checks.append((f"agent_cost:{event.agent}", event.thread_id, event.cost, b.agent_cost[event.agent]))
        alerts = []
        for limit, scope, amount, cap in checks:
            key = (limit, scope)
            self._spent[key] += amount
            if cap is None:
                continue
            alerts += self._crossed(event, limit, scope, self._spent[key], cap)
        return alerts

    def _crossed(self, event: TelemetryEvent, limit: str, scope: str | None, spent: float, cap: float) -> list[Alert]:
        level = "spent" if spent >= cap else "near" if spent >= self.budget.warn_at * cap else None
        if level is None or (limit, scope, level) in self._fired:
            return []
        self._fired.add((limit, scope, level))
        if level == "spent":
            self._fired.add((limit, scope, "near"))
        share = spent / cap
        message = (
            f"budget {limit} {'spent' if level == 'spent' else 'nearly spent'}: {spent:g} of {cap:g} ({share:.0%})"
        )
        critical = level == "spent"
        return [
            Alert(
                "budget",
                "critical" if critical else "warning",
                message,
                event.thread_id,
                event.run_id,
                event.agent,
                pause=critical and self.budget.pause_when_spent,
                details={"limit": limit, "spent": spent, "cap": cap},
                at=event.started,
            )
        ]


class EscalationWatch:
    """Questions to a human left unanswered for too long.

    A paused thread produces no events, so this one is asked, not fed:
    ``due(now)`` lists the escalations waiting past the threshold, once each.
    ``switchboard alerts`` runs it over the telemetry database.
    """

    def __init__(self, thresholds: Thresholds, already_alerted: Iterable[str] = ()) -> None:
        self.wait = thresholds.escalation_wait_s
        self._waiting: dict[str, TelemetryEvent] = {}
        self._alerted = set(already_alerted)

    def observe(self, event: TelemetryEvent) -> list[Alert]:
        if event.kind != "escalation":
            return []
        if event.outcome == "waiting":
            self._waiting[event.id] = event
        else:
            for key, waiting in list(self._waiting.items()):
                if waiting.thread_id == event.thread_id:
                    del self._waiting[key]
        return []

    def due(self, now: float) -> list[Alert]:
        """Escalations waiting longer than the threshold that have not been alerted yet."""
        alerts = []
        for key, event in self._waiting.items():
            waited = now - event.started
            if waited <= self.wait or key in self._alerted:
                continue
            self._alerted.add(key)
            message = f"a question has waited {waited / 60:.0f} min for a human: {event.reason}"
            alerts.append(
                Alert(
                    "escalation_wait",
                    "warning",
                    message,
                    event.thread_id,
                    event.run_id,
                    event.agent,
                    details={"escalation": key, "waited_s": round(waited)},
                    at=now,
                )
            )
        return alerts


def default_detectors(thresholds: Thresholds, budget: Budget) -> list[Detector]:
    """Every stream detector, configured."""
    return [
        RoutingLoopDetector(thresholds),
        ErrorBurstDetector(thresholds),
        LatencyDetector(thresholds),
        DenialBurstDetector(thresholds),
        BudgetDetector(budget),
    ]
