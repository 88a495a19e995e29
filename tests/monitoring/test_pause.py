"""An alert can pause the run for a human: the graph asks at its next decision, and resuming goes on.

The model is scripted; the graph, the monitor, its detectors, the
checkpoints and the signed answer are real. The alert fires mid-run (the
supervisor routes to the same agent again), the configuration says that
detector pauses, so the supervisor escalates before its next move with a
question naming the alert; alice's approval continues the run.
"""

from __future__ import annotations

from pathlib import Path

from switchboard.monitoring import MonitoringConfig, Thresholds, recording
from switchboard.runs import resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish, handoff, route


def _looping_model() -> ScriptedChatModel:
    return ScriptedChatModel(
        steps=[
            route("customer_service", "Who is this customer?", skill="identify_customer"),
            handoff("not sure yet"),
            route("customer_service", "Tell the customer we are looking", skill="notify_customer"),
            handoff("told them"),
            finish("done after a human said go on"),
        ]
    )


def _config(tmp_path: Path, pause_on: frozenset[str]) -> MonitoringConfig:
    return MonitoringConfig(
        telemetry_db=tmp_path / "telemetry.sqlite",
        thresholds=Thresholds(loop_repeats=2),
        pause_on=pause_on,
        sinks=(),
    )


async def test_an_alert_that_pauses_stops_the_run_for_a_human(
    settings: Settings, principals: Path, tmp_path: Path
) -> None:
    model = _looping_model()
    with recording(config=_config(tmp_path, frozenset({"routing_loop"}))) as monitor:
        assert monitor is not None
        paused = await start_run("who am I talking to?", thread_id="loop-1", settings=settings, model=model)
        assert paused.status == "paused"
        assert paused.pending is not None
        question = paused.pending["question"]
        assert question.startswith("Monitoring alert (routing_loop): routed to customer_service 2 times in a row")
        assert [a.detector for a in monitor.alerts] == ["routing_loop"] and monitor.alerts[0].pause
        done = await resume_run("loop-1", approved=True, approver="alice", settings=settings, model=model)
    assert done.status == "completed" and done.outcome == "resolved"
    model.assert_complete()


async def test_an_alert_that_does_not_pause_lets_the_run_go_on(
    settings: Settings, principals: Path, tmp_path: Path
) -> None:
    model = _looping_model()
    with recording(config=_config(tmp_path, frozenset())) as monitor:
        assert monitor is not None
        done = await start_run("who am I talking to?", thread_id="loop-2", settings=settings, model=model)
        assert [a.detector for a in monitor.alerts] == ["routing_loop"] and not monitor.alerts[0].pause
    assert done.status == "completed"
    model.assert_complete()


def test_pause_point_without_a_monitor_asks_nothing() -> None:
    from langchain_core.callbacks import AsyncCallbackManager

    from switchboard.monitoring import pause_point

    assert pause_point({"callbacks": AsyncCallbackManager([]), "configurable": {"thread_id": "t"}}) is None
    assert pause_point({"callbacks": [], "configurable": {"thread_id": "t"}}) is None
