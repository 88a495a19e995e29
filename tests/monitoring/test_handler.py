"""A real run, recorded through the callback handler: who did what, why, and what it cost.

The model is scripted; the graph, the retail MCP server, the checkpoints and
the telemetry database are real.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import LangSmithParams
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.messages.ai import UsageMetadata

from switchboard.cli_monitoring import check_escalations
from switchboard.monitoring import Monitor, MonitoringConfig, recording
from switchboard.monitoring.store import read_rows
from switchboard.replies import reply_run
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route
from tests.monitoring.conftest import RecordedReturn, return_script


def chain(database: Path, thread: str) -> list[tuple[Any, ...]]:
    rows = read_rows(database, "SELECT kind, who, what, outcome FROM chain WHERE thread_id = ?", (thread,))
    return [(r["kind"], r["who"], r["what"], r["outcome"]) for r in rows]


def test_the_chain_of_a_paused_and_approved_return(recorded_return: RecordedReturn) -> None:
    steps = chain(recorded_return.database, "ret-1")
    start = steps.index(("run", "", "return everything", "paused"))  # root runs are named after the task
    resume = steps.index(("run", "", "resume: return everything", "completed"))
    first, second = steps[start:resume], steps[resume:]
    assert [s for s in first if s[0] in {"decision", "escalation"}] == [
        ("decision", "supervisor", "finance", "route"),
        ("escalation", "finance", "large-refund", "waiting"),
    ]
    assert ("tool", "finance", "quote_return_refund", "ok") in first  # the guard priced the refund first
    assert ("step", "finance", "finance", "paused") in first  # a pause, not an error
    assert not any(s[3] == "error" for s in steps)
    kinds = [(*s[:2], s[3]) for s in second if s[0] in {"tool", "escalation", "handoff", "decision", "report"}]
    assert kinds[-5:] == [
        ("tool", "finance", "ok"),
        ("escalation", "finance", "approved"),
        ("handoff", "finance", "done"),
        ("decision", "supervisor", "finish"),
        ("report", "finalize", "resolved"),
    ]


def test_reasons_and_approvers_are_recorded(recorded_return: RecordedReturn) -> None:
    rows = read_rows(
        recorded_return.database,
        "SELECT kind, why, json_extract(metadata, '$.approver') AS approver, "
        "json_extract(metadata, '$.confidence') AS confidence FROM chain WHERE kind IN ('decision', 'escalation')",
    )
    route_row = rows[0]
    assert route_row["kind"] == "decision" and route_row["why"] == "scripted" and route_row["confidence"] == 0.9
    answered = [r for r in rows if r["kind"] == "escalation" and r["approver"]]
    assert [r["approver"] for r in answered] == ["alice"]
    assert "above the $500 limit" in answered[0]["why"]


def test_runs_tokens_and_the_budget_alert(recorded_return: RecordedReturn) -> None:
    runs = read_rows(recorded_return.database, "SELECT task, status, tokens, alerts FROM runs ORDER BY started_ts")
    assert [(r["task"], r["status"]) for r in runs] == [("return everything", "paused"), ("resume", "completed")]
    assert all(r["tokens"] > 0 for r in runs)
    llm = read_rows(recorded_return.database, "SELECT agent, tokens_estimated FROM events WHERE kind = 'llm'")
    assert {r["agent"] for r in llm} == {"supervisor", "finance"} and all(r["tokens_estimated"] for r in llm)
    alerts = read_rows(recorded_return.database, "SELECT detector, severity, message FROM alerts")
    assert alerts and alerts[0]["detector"] == "budget" and "run_tokens spent" in alerts[0]["message"]
    assert recorded_return.monitor.alerts[0].detector == "budget"


async def test_an_unanswered_question_is_an_open_escalation(
    settings: Settings, retail_db: Path, mia: Any, tmp_path: Path
) -> None:
    config = MonitoringConfig(telemetry_db=tmp_path / "telemetry.sqlite", sinks=())
    model = ScriptedChatModel(steps=return_script(retail_db, mia)[:3])
    with recording(config=config) as monitor:
        assert monitor is not None
        result = await start_run("return everything", thread_id="open-1", settings=settings, model=model)
        assert result.status == "paused"
    (row,) = read_rows(config.database(), "SELECT thread_id, agent, question FROM open_escalations")
    assert row["thread_id"] == "open-1" and row["agent"] == "finance" and "$500" in row["question"]


async def test_a_question_answered_with_a_reply_is_closed(settings: Settings, mia: Any, tmp_path: Path) -> None:
    """A customer's reply answers the question: it is no open escalation, and ``alerts --check`` does not page."""
    config = MonitoringConfig(telemetry_db=tmp_path / "telemetry.sqlite", sinks=())
    model = ScriptedChatModel(
        steps=[route("customer_service", "look her up", skill="identify_customer"), finish("found")],
        agents={
            "customer_service": [
                call("ask_customer", question="What is the email on your account?"),
                call("find_user_id_by_email", email=mia.email),
                handoff("found"),
            ]
        },
    )
    with recording(config=config):
        paused = await start_run("who am i?", thread_id="asked", settings=settings, model=model)
        assert paused.status == "paused"
        done = await reply_run("asked", mia.email, settings=settings, model=model)
        assert done.status == "completed"
    assert read_rows(config.database(), "SELECT thread_id FROM open_escalations") == []
    (answer,) = read_rows(
        config.database(), "SELECT who, what, outcome FROM chain WHERE kind = 'escalation' AND outcome != 'waiting'"
    )
    assert answer == {"who": "customer_service", "what": "question", "outcome": "answered"}
    assert check_escalations(config, time.time() + 10 * config.thresholds.escalation_wait_s) == []


async def test_a_run_goes_on_when_the_telemetry_database_cannot_be_opened(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Telemetry watches the business and must not stop it: no telemetry for the run, and a loud warning."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    config = MonitoringConfig(telemetry_db=blocker / "telemetry.sqlite", sinks=())
    model = ScriptedChatModel(steps=[finish("nothing to do")])
    with caplog.at_level(logging.WARNING, logger="switchboard"), recording(config=config) as monitor:
        assert monitor is None
        result = await start_run("say hello", thread_id="unrecorded", settings=settings, model=model)
    assert result.status == "completed"
    assert "telemetry is off" in caplog.text and str(blocker) in caplog.text


async def test_provider_usage_and_prices_make_the_cost(settings: Settings, retail_db: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  switchboard-scripted: {input: 1000, output: 2000}\n")
    config = MonitoringConfig(telemetry_db=tmp_path / "telemetry.sqlite", prices=prices, sinks=())
    decision = route("customer_service", "look her up", skill="identify_customer")
    decision.usage_metadata = {"input_tokens": 1500, "output_tokens": 10, "total_tokens": 1510}
    model = ScriptedChatModel(
        steps=[decision, finish("found")],
        agents={"customer_service": [call("find_user_id_by_email", email="mia.chen@example.com"), handoff("found")]},
    )
    monitor = Monitor(config)
    try:
        with recording(monitor):
            result = await start_run("who is mia?", thread_id="priced", settings=settings, model=model)
        assert result.status == "completed"
        rows = monitor.store.rows(
            "SELECT tokens_in, tokens_out, tokens_estimated, cost FROM events WHERE kind = 'llm' ORDER BY started"
        )
    finally:
        monitor.close()
    assert rows[0] == {"tokens_in": 1500, "tokens_out": 10, "tokens_estimated": 0, "cost": 1.52}
    assert all(r["tokens_estimated"] for r in rows[1:]) and all(r["cost"] > 0 for r in rows[1:])


async def test_a_refused_tool_call_is_a_denial(settings: Settings, retail_db: Path, tmp_path: Path) -> None:
    config = MonitoringConfig(telemetry_db=tmp_path / "telemetry.sqlite", sinks=())
    model = ScriptedChatModel(
        steps=[route("customer_service", "refund it", skill="identify_customer"), finish("refused")],
        agents={
            "customer_service": [
                call("issue_return_refund", order_id="#W1"),  # not on the front desk's card
                handoff("I may not refund.", status="failed", confidence=0.9),
            ]
        },
    )
    with recording(config=config):
        await start_run("refund order #W1", thread_id="denied", settings=settings, model=model)
    (row,) = read_rows(config.database(), "SELECT who, what, why FROM chain WHERE kind = 'denial'")
    assert row["who"] == "customer_service" and row["what"] == "issue_return_refund"
    assert "may not use" in row["why"]


def test_pause_point_finds_the_monitor_in_a_runs_config(tmp_path: Path) -> None:
    from switchboard.monitoring import pause_point
    from switchboard.monitoring.events import TelemetryEvent

    config = MonitoringConfig(telemetry_db=tmp_path / "telemetry.sqlite", sinks=(), pause_on=frozenset({"ping_pong"}))
    monitor = Monitor(config)
    for target in ["finance", "logistics"] * 3:
        monitor.observe(TelemetryEvent(kind="decision", name=target, thread_id="t9", outcome="route"))
    run_config: Any = {"callbacks": [monitor.handler], "configurable": {"thread_id": "t9"}}
    alert = pause_point(run_config)
    assert alert is not None and alert.detector == "ping_pong"
    assert pause_point(run_config) is None
    monitor.close()


async def test_an_instrumented_graph_records_without_any_context(tmp_path: Path) -> None:
    """The wiring for ``langgraph dev``: the handler in the graph's own config."""
    from switchboard.agents.card import AgentCard, Skill, Team
    from switchboard.checkpoints import open_checkpointer
    from switchboard.graph import build_graph
    from switchboard.monitoring import instrument
    from switchboard.policies import PolicyFile

    team = Team(
        name="desk_team",
        agents=(AgentCard(name="desk", description="Answers.", skills=(Skill(id="answer", description="Answer."),)),),
    )
    model = ScriptedChatModel(
        steps=[route("desk", "answer it", skill="answer"), finish("answered")],
        agents={"desk": [handoff("Answered.")]},
    )
    monitor = Monitor(MonitoringConfig(telemetry_db=tmp_path / "telemetry.sqlite", sinks=()))
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(team=team, model=model, policy=PolicyFile(name="p"), checkpointer=saver)
        await instrument(graph, monitor).ainvoke({"task": "a question"}, {"configurable": {"thread_id": "dev-1"}})
    monitor.close()
    assert chain(tmp_path / "telemetry.sqlite", "dev-1")[-3:] == [
        ("decision", "supervisor", "finish", "finish"),
        ("step", "finalize", "finalize", "ok"),
        ("report", "finalize", "resolved", "resolved"),
    ]


class _PinnedAnthropic(GenericFakeChatModel):
    """Reports what ``ChatAnthropic`` reports for a pinned model: provider, dated name, usage."""

    model: str = "claude-sonnet-4-5-20250929"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        return LangSmithParams(ls_provider="anthropic", ls_model_name=self.model, ls_model_type="chat")


def test_a_pinned_model_call_is_priced_as_its_family(tmp_path: Path) -> None:
    usage = UsageMetadata(input_tokens=1_000_000, output_tokens=100_000, total_tokens=1_100_000)
    monitor = Monitor(MonitoringConfig(telemetry_db=tmp_path / "t.sqlite", sinks=()))
    try:
        model = _PinnedAnthropic(messages=iter([AIMessage("ok", usage_metadata=usage)]))
        model.invoke([HumanMessage("hi")], config={"callbacks": [monitor.handler], "metadata": {"thread_id": "p1"}})
        monitor.flush()
        (row,) = monitor.store.rows("SELECT name, cost FROM events WHERE kind = 'llm'")
    finally:
        monitor.close()
    assert row["name"] == "anthropic:claude-sonnet-4-5-20250929"
    assert row["cost"] == pytest.approx(4.5)  # 1M in at $3 and 0.1M out at $15, as the graph's own accounting says
