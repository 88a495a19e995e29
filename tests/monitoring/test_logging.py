"""Standard ``logging``: what an operator needs in the log when no one watches the dashboard.

The CLI's ``-v`` shows these records on standard error; any application
that embeds Switchboard gets them through its own logging configuration.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from switchboard.monitoring import MonitoringConfig, recording
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, handoff, route


async def test_a_failed_step_and_the_run_are_logged(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = ScriptedChatModel(
        steps=[
            route("analytics", "Record why she returns it", skill="record_return_reason"),
            handoff("the reason codes table is locked", status="unable", confidence=0.0),
        ]  # no other agent records return reasons: the supervisor asks a human, without a model call
    )
    caplog.set_level(logging.DEBUG, logger="switchboard")
    with recording(config=MonitoringConfig(telemetry_db=tmp_path / "t.sqlite", sinks=())):
        await start_run("note why mia returns her order", thread_id="log-1", settings=settings, model=model)
    model.assert_complete()
    records = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert (
        "switchboard.graph.agent_node",
        "WARNING",
        "analytics failed step record_return_reason: the reason codes table is locked",
    ) in records
    assert ("switchboard.monitoring.handler", "INFO", "thread log-1: run started") in records
    assert any(
        name == "switchboard.monitoring.handler" and msg.startswith("thread log-1: paused") for name, _, msg in records
    )
