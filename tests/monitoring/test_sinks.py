"""Alerts reach the log, a command (JSON on stdin) and a webhook (JSON POST on loopback)."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from switchboard.monitoring import Alert, Monitor, MonitoringConfig
from switchboard.monitoring.config import CommandSinkConfig, LogSinkConfig, WebhookSinkConfig
from switchboard.monitoring.events import TelemetryEvent

ALERT = Alert("budget", "critical", "budget run_cost spent", thread_id="t1", run_id="r1", agent="finance")


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            assert self.headers.get("content-type") == "application/json"
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", received
    server.shutdown()


def monitor_with(tmp_path: Path, *sinks: Any) -> Monitor:
    return Monitor(MonitoringConfig(telemetry_db=tmp_path / "telemetry.sqlite", sinks=sinks))


def test_an_alert_goes_to_the_log_a_command_and_a_webhook(
    tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    url, received = webhook
    out = tmp_path / "alert.json"
    copy_stdin = f"import sys, pathlib; pathlib.Path({str(out)!r}).write_text(sys.stdin.read())"
    monitor = monitor_with(
        tmp_path,
        LogSinkConfig(),
        CommandSinkConfig(command=(sys.executable, "-c", copy_stdin)),
        WebhookSinkConfig(url=url),
    )
    with caplog.at_level(logging.WARNING, logger="switchboard.monitoring.alerts"):
        monitor._raise(ALERT)
        monitor.flush()
    assert monitor.store.rows("SELECT detector, thread_id FROM alerts") == [{"detector": "budget", "thread_id": "t1"}]
    monitor.close()
    assert json.loads(out.read_text())["message"] == "budget run_cost spent"
    assert [(r["detector"], r["thread_id"], r["severity"]) for r in received] == [("budget", "t1", "critical")]
    assert any("budget run_cost spent" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_a_failing_sink_is_logged_and_the_alert_still_recorded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monitor = monitor_with(
        tmp_path,
        CommandSinkConfig(command=(sys.executable, "-c", "import sys; sys.exit('no pager here')")),
        WebhookSinkConfig(url="http://127.0.0.1:9/closed-port", timeout_s=2),
    )
    with caplog.at_level(logging.ERROR):
        monitor._raise(ALERT)
        monitor.flush()
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "exited 1: no pager here" in messages and "webhook http://127.0.0.1:9/closed-port failed" in messages
    assert monitor.store.rows("SELECT detector, severity FROM alerts") == [
        {"detector": "budget", "severity": "critical"}
    ]
    monitor.close()


def test_alerts_of_a_configured_detector_ask_to_pause_their_thread_once(tmp_path: Path) -> None:
    config = MonitoringConfig(
        telemetry_db=tmp_path / "telemetry.sqlite", sinks=(), pause_on=frozenset({"routing_loop"})
    )
    monitor = Monitor(config)
    for _ in range(4):
        monitor.observe(TelemetryEvent(kind="decision", name="finance", thread_id="t1", outcome="route"))
    alert = monitor.pause_requested("t1")
    assert alert is not None and alert.detector == "routing_loop" and alert.pause
    assert monitor.pause_requested("t1") is None and monitor.pause_requested("t2") is None
    monitor.close()
