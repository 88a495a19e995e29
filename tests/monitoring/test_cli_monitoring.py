"""The monitoring commands: trace, alerts --check, --verbose, and alerts printed during a run."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.cli import main
from switchboard.monitoring import TelemetryEvent, TelemetryStore
from switchboard.monitoring.store import read_rows
from tests.monitoring.conftest import RecordedReturn


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps at 80 columns when not on a terminal


@pytest.fixture
def restore_logging() -> Iterator[None]:
    logger = logging.getLogger("switchboard")
    level, handlers, propagate = logger.level, list(logger.handlers), logger.propagate
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers
    logger.propagate = propagate


def use(monkeypatch: pytest.MonkeyPatch, recorded: RecordedReturn) -> None:
    monkeypatch.setenv("SWITCHBOARD_TELEMETRY_DB", str(recorded.database))
    monkeypatch.setenv("SWITCHBOARD_CHECKPOINT_DB", str(recorded.settings.checkpoint_target))
    monkeypatch.setenv("SWITCHBOARD_HOME", str(recorded.settings.data_dir))  # its key signed the checkpoints


def test_trace_prints_the_chain_with_reasons_timings_and_tokens(
    recorded_return: RecordedReturn, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], wide: None
) -> None:
    use(monkeypatch, recorded_return)
    assert main(["trace", "ret-1"]) == 0
    out = capsys.readouterr().out
    assert "thread ret-1 — completed" in out and "task: return everything" in out
    assert "start paused" in out and "resume completed" in out
    assert "→ route finance (confidence 0.90, by model): scripted" in out
    assert "? large-refund waiting: Approve a refund" in out
    assert "? large-refund approved by alice" in out
    assert "⚙ return_delivered_order_items ok" in out and " ms" in out
    assert "model switchboard-scripted ~" in out and "tokens, $0.0000" in out
    assert "⚠ budget critical: budget run_tokens spent" in out
    assert "report resolved" in out


def test_trace_json_and_unknown_threads(
    recorded_return: RecordedReturn, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, recorded_return)
    assert main(["trace", "ret-1", "--json"]) == 0
    events = json.loads(capsys.readouterr().out)
    assert {e["kind"] for e in events} >= {"run", "step", "llm", "tool", "decision", "handoff", "escalation", "alert"}
    assert main(["trace", "nobody"]) == 1
    assert "no telemetry and no checkpoint for thread 'nobody'" in capsys.readouterr().err


def test_alerts_check_raises_one_alert_per_escalation_left_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], wide: None
) -> None:
    database = tmp_path / "telemetry.sqlite"
    monkeypatch.setenv("SWITCHBOARD_TELEMETRY_DB", str(database))
    store = TelemetryStore(database)
    hours_ago = time.time() - 7200
    old = TelemetryEvent(
        kind="escalation",
        name="large-refund",
        thread_id="old",
        agent="finance",
        started=hours_ago,
        outcome="waiting",
        reason="Approve a refund of $900?",
    )
    store.record(old)
    store.record(TelemetryEvent(kind="escalation", name="large-refund", thread_id="new", outcome="waiting"))
    store.close()
    assert main(["alerts", "--check"]) == 0
    out = capsys.readouterr().out
    assert "1 escalation(s) waiting past 3600s" in out and "escalation_wait" in out and "$900" in out
    assert main(["alerts", "--check", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [(r["detector"], r["thread_id"]) for r in rows] == [("escalation_wait", "old")]  # raised once


def test_verbose_turns_on_switchboard_logs(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-v", "agents", "--json"]) == 0
    assert logging.getLogger("switchboard").level == logging.INFO
    assert main(["agents", "--json", "-vv"]) == 0
    assert logging.getLogger("switchboard").level == logging.DEBUG
    capsys.readouterr()


def test_a_cli_run_records_telemetry_and_prints_alerts_as_they_happen(
    retail_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], wide: None
) -> None:
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    # small enough that the first routing call alone crosses it (issue 8 made that call ~1k tokens shorter)
    (home / "monitoring.yaml").write_text("budgets: {run_tokens: 400}\nsinks: []\n")
    monkeypatch.setenv("SWITCHBOARD_CHECKPOINT_DB", str(tmp_path / "cp.sqlite"))
    code = main(["run", "Where is my package? I'm Omar Haddad, zip 10001.", "--thread", "cli-1"])
    out = capsys.readouterr().out
    assert code in {0, 3}, out
    assert "⚠ budget budget run_tokens spent" in out
    assert out.index("⚠ budget") < out.index("supervisor (confidence")  # printed as it happened, mid-run
    runs = read_rows(home / "telemetry.sqlite", "SELECT thread_id, status FROM runs")
    assert runs == [{"thread_id": "cli-1", "status": "completed" if code == 0 else "paused"}]


def test_an_unwritable_telemetry_path_warns_and_the_run_goes_on(
    retail_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """It used to exit 1 without running the task: a telemetry file must not stop the business."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SWITCHBOARD_CHECKPOINT_DB", str(tmp_path / "cp.sqlite"))
    monkeypatch.setenv("SWITCHBOARD_TELEMETRY_DB", str(blocker / "telemetry.sqlite"))
    with caplog.at_level(logging.WARNING, logger="switchboard"):
        code = main(["run", "Where is my package? I'm Omar Haddad, zip 10001.", "--thread", "t-x"])
    assert code in {0, 3}, capsys.readouterr()
    (warning,) = [r.getMessage() for r in caplog.records if "telemetry" in r.getMessage()]  # once, not per layer
    assert "telemetry is off" in warning and "cannot open the telemetry database" in warning
    assert "SWITCHBOARD_TELEMETRY_DB" in warning
