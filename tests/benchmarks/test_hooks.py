"""What the benchmarks rely on in the product still exists, so ``make bench`` cannot silently rot.

The benchmarks are run by hand, not by the test suite, and each hooks into
the product somewhere (a team file's ``${PYTHON}``, a build option, the
telemetry a run attaches, the scripted model's state). These tests exercise
each hook directly, in seconds, instead of running the benchmarks.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from types import ModuleType

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from benchmarks import mcp_keepalive, run, same_task
from benchmarks.recording import ReplayChatModel, Request
from benchmarks.report import Report
from switchboard.agents.card import ASK_TOOL, load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.domains.retail.demo import DB_VARIABLE
from switchboard.graph import build_graph
from switchboard.run_telemetry import run_telemetry


def test_every_benchmark_has_a_run_that_returns_a_report() -> None:
    for module in run.BENCHMARKS:
        assert callable(module.run), module.__name__
        assert inspect.signature(module.run).return_annotation in (Report, "Report"), module.__name__


def test_a_benchmark_that_raises_is_a_failed_row_not_a_crash() -> None:
    broken = ModuleType("benchmarks.broken")

    def explode() -> Report:
        raise AttributeError("type object 'Toolbox' has no attribute '_load'")

    broken.run = explode  # type: ignore[attr-defined]
    report = run.run_one(broken)
    assert not report.ok
    (row,) = report.summary
    assert row.met is False and "_load" in row.ours


def test_the_server_start_count_sees_a_real_start(pristine_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mcp_keepalive counts starts through the team's ${PYTHON}: opening the toolbox must log exactly one."""
    monkeypatch.setenv(DB_VARIABLE, str(pristine_db))
    folder = pristine_db.parent / "starts"
    folder.mkdir(exist_ok=True)

    async def open_and_close() -> None:
        async with Toolbox.for_team(load_team()) as toolbox:
            assert toolbox.names

    with mcp_keepalive.counting_starts(folder) as log:
        assert load_team().connections()["retail"]["command"] != "python"
        asyncio.run(open_and_close())
        assert mcp_keepalive.starts(log) == 1


def test_the_whole_card_lever_shows_every_tool_of_the_card() -> None:
    team = same_task.whole_card(load_team())
    for card in team.agents:
        for skill in card.skills:
            assert card.tools_of(skill.id, known=("user_id", "order_id")) == (*card.tools, ASK_TOOL)


def test_build_graph_still_takes_sync_turns() -> None:
    assert "sync_turns" in inspect.signature(build_graph).parameters


def test_a_run_gets_telemetry_callbacks() -> None:
    async def callbacks() -> list[object]:
        async with run_telemetry() as handlers:
            return list(handlers)

    assert asyncio.run(callbacks()), "same_task times ours with its telemetry; it must be on by default"


def test_a_replay_model_rewinds_to_play_its_script_again() -> None:
    model = ReplayChatModel(steps=[AIMessage("once")])
    for _ in range(2):
        model.rewind()
        assert model.invoke([HumanMessage("hi")]).content == "once"
        model.assert_complete()
        assert len(model.requests) == len(model.calls) == 1


def test_tool_calls_in_ai_messages_are_counted() -> None:
    call = {"name": "get_order_details", "args": {"order_id": "#W1"}, "id": "c1", "type": "tool_call"}
    bare = Request([AIMessage("")], [])
    calling = Request([AIMessage("", tool_calls=[call])], [])
    assert calling.tokens > bare.tokens
    assert "get_order_details" in calling.text and "#W1" in calling.text
