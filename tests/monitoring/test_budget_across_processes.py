"""A thread's budget counts what every process spent on it.

``switchboard run`` and ``switchboard resume`` are two processes, each with
its own monitor; the thread and agent budgets were counted in memory, so a
thread that spent 7,000 tokens in its run and 10,000 in its resume never
crossed a 15,000 budget. A resume now reads what the thread spent before,
and which budget alerts it raised, from the telemetry database.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from switchboard.monitoring import Budget, Monitor, MonitoringConfig
from switchboard.monitoring.events import TelemetryEvent
from switchboard.runs import _continuing


def _monitor(db: Path) -> Monitor:
    budgets = Budget(thread_tokens=10_000, agent_cost={"finance": 1.0}, warn_at=0.8)
    return Monitor(MonitoringConfig(telemetry_db=db, budgets=budgets, sinks=()))


def _call(run: str, tokens: int, cost: float) -> TelemetryEvent:
    return TelemetryEvent(
        kind="llm", name="model", run_id=run, thread_id="t", agent="finance", tokens_in=tokens, cost=cost
    )


def test_a_resume_in_another_process_counts_what_the_thread_spent_before(tmp_path: Path) -> None:
    db = tmp_path / "telemetry.sqlite"
    first = _monitor(db)  # `switchboard run`
    first.observe(_call("start", 8_500, 0.85))
    assert sorted(a.message.split(": ")[0] for a in first.alerts) == [
        "budget agent_cost:finance nearly spent",
        "budget thread_tokens nearly spent",
    ]
    first.close()

    second = _monitor(db)  # `switchboard resume`, a new process
    second.prime("t")
    second.observe(_call("resume", 2_000, 0.20))
    second.close()
    messages = sorted(a.message for a in second.alerts)
    assert messages == [
        "budget agent_cost:finance spent: 1.05 of 1 (105%)",
        "budget thread_tokens spent: 10500 of 10000 (105%)",
    ]  # and the warnings the first process raised are not raised again


def test_a_resume_goes_on_when_the_threads_telemetry_cannot_be_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "telemetry.sqlite"
    monitor = _monitor(db)
    for file in tmp_path.glob("telemetry.sqlite*"):  # a retention job removed it under the process
        file.unlink()
    with caplog.at_level(logging.WARNING, logger="switchboard.runs"):
        assert _continuing(monitor, "t") is None
    assert "cannot be read" in caplog.text and "the resume goes on without it" in caplog.text
    monitor.close()
