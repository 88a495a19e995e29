"""Runs read their monitoring configuration once while its sources stay the same (issue 8).

Every run needs the configuration of the process's monitor; building it
(settings from the environment, the monitoring file, the team and its
policy) took milliseconds of CPU per run, on which concurrent runs queued.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from switchboard.monitoring import MonitoringConfig, TelemetryHandler
from switchboard.run_telemetry import run_telemetry


async def _handler() -> TelemetryHandler:
    async with run_telemetry() as callbacks:
        (handler,) = callbacks
        assert isinstance(handler, TelemetryHandler)
        return handler


async def test_the_configuration_is_read_again_only_when_a_source_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path))
    monkeypatch.delenv("SWITCHBOARD_TELEMETRY_DB", raising=False)
    monkeypatch.delenv("SWITCHBOARD_MONITORING", raising=False)
    reads: list[MonitoringConfig] = []
    for_runs = MonitoringConfig.for_runs

    def counted(settings: object = None) -> MonitoringConfig:
        reads.append(config := for_runs(settings))  # type: ignore[arg-type]
        return config

    monkeypatch.setattr(MonitoringConfig, "for_runs", counted)
    first = await _handler()
    second = await _handler()
    assert len(reads) == 1 and second.monitor is first.monitor

    monitoring = tmp_path / "monitoring.yaml"  # a new monitoring file: read, and a monitor of its own
    monitoring.write_text("thresholds: {error_burst: 7}\n", "utf-8")
    third = await _handler()
    assert len(reads) == 2 and third.monitor.config.thresholds.error_burst == 7

    monitoring.write_text("thresholds: {error_burst: 9}\n", "utf-8")  # edited
    stat = monitoring.stat()
    os.utime(monitoring, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert (await _handler()).monitor.config.thresholds.error_burst == 9

    monkeypatch.setenv("SWITCHBOARD_TELEMETRY_DB", "off")  # the environment is a source too
    async with run_telemetry() as callbacks:
        assert callbacks == []


async def test_a_telemetry_database_that_cannot_be_opened_turns_telemetry_off_for_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A telemetry file that cannot be opened stopped the business run; now it goes on, unrecorded, with a warning."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path))
    monkeypatch.setenv("SWITCHBOARD_TELEMETRY_DB", str(blocker / "telemetry.sqlite"))
    with caplog.at_level(logging.WARNING, logger="switchboard"):
        async with run_telemetry() as callbacks:
            assert callbacks == []
    assert "telemetry is off" in caplog.text and "cannot open the telemetry database" in caplog.text
