"""A run still going, or whose process died, is in the telemetry and in ``trace`` (tester's E3).

The run's own event was written only when it ended: until then the
``runs`` view and the dashboard did not list it, and ``trace`` said "no
telemetry for this thread" under a status of failed, while it ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from rich.console import Console

from switchboard.monitoring import Monitor, MonitoringConfig, recording
from switchboard.monitoring.store import read_rows
from switchboard.monitoring.trace import build_tree
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish, handoff, route


async def test_a_run_is_on_disk_from_its_start(settings: Settings, tmp_path: Path) -> None:
    config = MonitoringConfig(telemetry_db=tmp_path / "telemetry.sqlite", sinks=())
    seen: list[dict[str, Any]] = []
    monitor = Monitor(config)

    def look(messages: Sequence[BaseMessage], tools: list[str]) -> AIMessage:  # mid-run, as `trace` would
        monitor.flush()
        seen.extend(read_rows(config.database(), "SELECT thread_id, task, status FROM runs"))
        return handoff("hello")

    model = ScriptedChatModel(
        steps=[route("customer_service", "say hello"), finish("done")], agents={"customer_service": [look]}
    )
    try:
        with recording(monitor):
            result = await start_run("Please greet me", thread_id="going", settings=settings, model=model)
    finally:
        monitor.close()
    assert result.status == "completed"
    assert seen == [{"thread_id": "going", "task": "Please greet me", "status": "running"}]
    assert read_rows(config.database(), "SELECT status FROM runs") == [{"status": "completed"}]


def _text(tree: Any) -> str:
    console = Console(width=200, record=True)
    console.print(tree)
    return console.export_text()


def test_trace_shows_an_unfinished_run_as_running_or_stopped() -> None:
    events = [
        {"kind": "run", "id": "r1", "run_id": "r1", "thread_id": "t", "name": "greet", "reason": "Please greet me",
         "outcome": None, "started": 1.0, "ended": None, "duration_ms": None, "tokens_in": 0, "tokens_out": 0,
         "cost": 0.0, "agent": None, "parent_id": None, "metadata": "{}"},
        {"kind": "step", "id": "s1", "run_id": "r1", "thread_id": "t", "name": "supervisor", "reason": None,
         "outcome": "ok", "started": 1.1, "ended": 1.2, "duration_ms": 100.0, "tokens_in": 0, "tokens_out": 0,
         "cost": 0.0, "agent": "supervisor", "parent_id": "r1", "metadata": "{}"},
    ]  # fmt: skip
    running = _text(build_tree(events, {"thread_id": "t", "status": "running", "task": "Please greet me"}))
    assert "start running" in running and "supervisor ok" in running
    stopped = _text(build_tree(events, {"thread_id": "t", "status": "failed", "task": "Please greet me"}))
    assert "start stopped mid-run" in stopped and "supervisor ok" in stopped
