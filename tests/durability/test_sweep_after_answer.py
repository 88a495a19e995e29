"""The sweeper leaves a question that was answered before its process died to ``resume`` (outside review, finding 1).

``switchboard resume T --approve --as alice`` killed just after the approved
return request landed leaves a thread that still lists the question, though
its answer is on the audit record and stands. Once the escalation path's
deadline passed, ``switchboard escalations --sweep`` sent its timeout claim
anyway: the graph went on under alice's approval and ran the rest of the
return (pickup, restock, the refund, the customer's message) inside the
sweeper, with no telemetry, and the sweeper reported the question
"rejected". ``threads`` and ``escalations`` meanwhile listed the thread as
waiting for a finance manager, whose answer ``resume`` then refused.

Now the sweeper reports the question ``answered`` and runs nothing, the
listings say it was answered and that ``switchboard resume T`` continues it,
and that resume completes the return with one refund. What the sweeper
reports for a claim it does send is what the graph recorded in the audit
trail, and the run the claim leads to is recorded in telemetry like a resume.

The default model (the embedded engine), the retail MCP server, the policy's
``money`` path and SQLite checkpoints are real; the kill lands just after the
approved write through the crash-point hook, in a child process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from langgraph.graph import START, StateGraph

from switchboard import sweeper
from switchboard.agents.card import load_team
from switchboard.checkpoints import open_checkpointer
from switchboard.checkpoints.audit import open_audit
from switchboard.checkpoints.crashpoints import CRASH_VARIABLE
from switchboard.cli import main
from switchboard.cli_governance import waiting
from switchboard.domains.retail import RetailStore
from switchboard.errors import ConfigError
from switchboard.runs import open_graph, read_thread, resume_run, start_run
from switchboard.settings import HOME_VARIABLE, Settings
from switchboard.sweeper import sweep
from switchboard.testing import make_principals
from switchboard.threads import list_threads
from tests.policies.helpers import large_refund_model, snapshot

pytestmark = pytest.mark.usefixtures("principals")

TASK = (
    "Hi, this is Mia Chen (mia.chen@example.com). The espresso machine and the headphones from my last "
    "delivered order arrived damaged. I want to return both and get my money back on the card I paid with."
)
HOUR = 3600.0

APPROVE = textwrap.dedent(
    """
    import asyncio, sys
    from switchboard.runs import resume_run
    from switchboard.settings import Settings

    asyncio.run(resume_run(sys.argv[1], approved=True, approver="alice", note="damage confirmed", settings=Settings()))
    """
)


async def _approved_then_killed(settings: Settings, retail_db: Path, mia: Any, thread: str) -> dict[str, Any]:
    """Pause on the large refund, then approve it as alice in a process killed just after the write landed."""
    paused = await start_run(TASK, thread_id=thread, settings=settings)
    assert paused.status == "paused" and paused.pending is not None, paused
    assert paused.pending["rule"] == "large-refund" and paused.pending["escalation"] == "money"
    env = {**os.environ, "SWITCHBOARD_CHECKPOINT_DB": str(settings.checkpoint_db), CRASH_VARIABLE: "effect-after:1"}
    child = subprocess.run(
        [sys.executable, "-c", APPROVE, thread], env=env, capture_output=True, timeout=180, check=False
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert _order(retail_db, mia)["status"] == "return requested"  # the approved write landed before the kill
    return paused.pending


def _order(retail_db: Path, mia: Any) -> dict[str, Any]:
    with RetailStore.open(retail_db) as store:
        order = store.get_order(mia.orders["delivered_over_500"])
    assert order is not None
    return order


def _refunds(retail_db: Path, mia: Any) -> list[dict[str, Any]]:
    return [p for p in _order(retail_db, mia)["payment_history"] if p["transaction_type"] == "refund"]


def _telemetry_runs(settings: Settings, thread: str) -> int:
    database = settings.data_dir / "telemetry.sqlite"
    if not database.exists():
        return 0
    with sqlite3.connect(database) as conn:
        return int(conn.execute("select count(*) from runs where thread_id = ?", [thread]).fetchone()[0])


async def test_the_sweeper_leaves_an_answered_question_to_resume_and_runs_nothing(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    pending = await _approved_then_killed(settings, retail_db, mia, "sw1")
    before = snapshot(retail_db)
    audit_before = len(open_audit(settings.data_dir).entries("sw1"))
    runs_before = _telemetry_runs(settings, "sw1")
    much_later = pending["asked_at"] + 30 * HOUR  # past the whole `money` path: a timeout would reject

    [result] = await sweep(settings, clock=lambda: much_later)
    assert result.thread == "sw1" and result.interrupt_id == pending["interrupt_id"], result
    assert result.action == "answered", result  # not "rejected": alice's approval stands
    assert result.answer == "approved by alice" and "$923.23" in result.question
    assert snapshot(retail_db) == before  # the sweeper ran nothing: no pickup, no refund, no message
    assert len(open_audit(settings.data_dir).entries("sw1")) == audit_before  # and claimed no timeout
    assert _telemetry_runs(settings, "sw1") == runs_before
    [again] = await sweep(settings, clock=lambda: much_later + HOUR)  # still left for `resume`, every sweep
    assert again.action == "answered" and snapshot(retail_db) == before

    [info] = [t for t in await list_threads(settings=settings) if t.thread_id == "sw1"]
    assert info.status == "failed", info  # not paused for a human
    assert info.waiting_for is not None and "approved by alice" in info.waiting_for
    assert "`switchboard resume sw1` continues it" in info.waiting_for
    [row] = await waiting(settings, load_team(settings.team).load_policy(), now=much_later)
    assert row["thread"] == "sw1" and row["state"] == "answered" and row["answer"] == "approved by alice", row

    done = await resume_run("sw1", settings=settings)
    assert done.status == "completed" and done.outcome == "resolved", done
    order = _order(retail_db, mia)
    assert order["status"] == "returned"
    assert len(_refunds(retail_db, mia)) == 1  # one refund, run by the operator's resume
    assert _telemetry_runs(settings, "sw1") > runs_before
    assert (await read_thread("sw1", settings=settings))["outcome"] == "resolved"
    assert await sweep(settings, clock=lambda: much_later) == []


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_cli_says_answered_where_it_said_waiting_and_rejected(
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    retail_db: Path,
    mia: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_CHECKPOINT_DB", str(settings.checkpoint_target))
    monkeypatch.setenv("COLUMNS", "400")  # one table row per line
    pending = asyncio.run(_approved_then_killed(settings, retail_db, mia, "sw2"))
    before = snapshot(retail_db)

    code, out = cli(capsys, "escalations")
    assert code == 0 and "sw2" in out and "waiting since" not in out, out
    assert "answered: approved by alice" in out and "`switchboard resume sw2` continues it" in out
    code, out = cli(capsys, "threads")
    assert code == 0 and "paused" not in out and "approved by alice" in out, out

    # the sweeper's clock (cron's) says the whole escalation path is over
    later = pending["asked_at"] + 30 * HOUR
    monkeypatch.setattr(sweeper, "time", SimpleNamespace(time=lambda: later))
    code, out = cli(capsys, "escalations", "--sweep")
    assert code == 0 and "rejected" not in out, out
    assert "sw2 answered" in out and "`switchboard resume sw2` continues it" in out
    [result] = json.loads(cli(capsys, "escalations", "--sweep", "--json")[1])
    assert result["action"] == "answered" and result["answer"] == "approved by alice"
    assert snapshot(retail_db) == before and _refunds(retail_db, mia) == []


async def test_a_timeout_the_sweeper_applies_is_a_recorded_run_and_reported_from_the_audit(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    """The rest of the run a rejection by time leads to is recorded like any resume's; the report is the graph's."""
    model = large_refund_model(retail_db, mia)
    paused = await start_run("Mia Chen: refund my order", thread_id="sw3", settings=settings, model=model)
    assert paused.status == "paused" and paused.pending is not None
    asked = paused.pending["asked_at"]
    runs = _telemetry_runs(settings, "sw3")
    # the sweeper's clock is past the path, the graph's is not: the graph refuses, and the report says so
    [refused] = await sweep(settings, now=asked + 30 * HOUR, model=model, clock=lambda: asked + HOUR)
    assert refused.action == "refused" and refused.roles == ("finance_manager",), refused
    [rejected] = await sweep(settings, model=model, clock=lambda: asked + 30 * HOUR)
    assert rejected.action == "rejected" and rejected.interrupt_id == paused.pending["interrupt_id"], rejected
    assert (await read_thread("sw3", settings=settings))["outcome"] == "rejected"
    assert _telemetry_runs(settings, "sw3") == runs + 2  # each claim ran as a resume does: recorded


def _elsewhere(tmp_path: Path) -> Settings:
    """Settings whose data directory (principals, keys, audit trail, checkpoints) is not the environment's."""
    home = tmp_path / "elsewhere"
    make_principals(home)
    elsewhere = Settings(home=home, checkpoint_db=str(home / "checkpoints.sqlite"))
    assert elsewhere.data_dir != Settings().data_dir
    return elsewhere


async def test_sweep_graph_reads_the_answer_on_the_graphs_own_audit_trail(
    tmp_path: Path, retail_db: Path, mia: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sweep_graph`` from Python, given no settings, on a graph whose data directory is not the environment's.

    The answer on record is on the graph's own audit trail: the sweeper
    used to read the environment's (empty here), send its claim, and the
    graph went on under alice's approval inside the sweep (code review,
    defect 2).
    """
    elsewhere = _elsewhere(tmp_path)
    environment = Settings().data_dir
    with monkeypatch.context() as child_env:  # the approver's process, killed, works in that data directory
        child_env.setenv(HOME_VARIABLE, str(elsewhere.data_dir))
        pending = await _approved_then_killed(elsewhere, retail_db, mia, "sw4")
    assert Settings().data_dir == environment
    before = snapshot(retail_db)
    much_later = pending["asked_at"] + 30 * HOUR
    policy = load_team(elsewhere.team).load_policy()

    async with open_graph(elsewhere, clock=lambda: much_later) as graph:
        [result] = await sweeper.sweep_graph(graph, policy, now=much_later)
    assert result.action == "answered" and result.answer == "approved by alice", result
    assert snapshot(retail_db) == before and _refunds(retail_db, mia) == []  # nothing ran
    assert open_audit(environment).entries("sw4") == []  # nothing is read from, or written to, the environment's


async def test_sweep_graph_reports_what_the_graph_recorded_on_its_own_audit_trail(
    tmp_path: Path, retail_db: Path, mia: Any
) -> None:
    """The graph records its decision on a claim in its own log; the report is read from there, not ``unknown``."""
    elsewhere = _elsewhere(tmp_path)
    model = large_refund_model(retail_db, mia)
    paused = await start_run("Mia Chen: refund my order", thread_id="sw5", settings=elsewhere, model=model)
    assert paused.status == "paused" and paused.pending is not None
    later = paused.pending["asked_at"] + 30 * HOUR
    policy = load_team(elsewhere.team).load_policy()

    async with open_graph(elsewhere, model=model, clock=lambda: later) as graph:
        [result] = await sweeper.sweep_graph(graph, policy, now=later)
    assert result.action == "rejected" and result.interrupt_id == paused.pending["interrupt_id"], result
    assert (await read_thread("sw5", settings=elsewhere))["outcome"] == "rejected"
    entries = open_audit(elsewhere.data_dir).entries("sw5")
    assert [e.payload["outcome"] for e in entries if e.kind == "escalation" and "outcome" in e.payload] == ["rejected"]


async def test_sweep_graph_asks_for_settings_when_the_graph_has_no_audit_trail_of_its_own(tmp_path: Path) -> None:
    """A graph not built by ``build_graph``: no log is guessed from the environment."""
    builder: StateGraph[dict[str, Any]] = StateGraph(dict)
    builder.add_node("step", lambda state: state)
    builder.add_edge(START, "step")
    policy = load_team(Settings().team).load_policy()
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = builder.compile(checkpointer=saver)
        with pytest.raises(ConfigError, match="pass settings="):
            await sweeper.sweep_graph(graph, policy, now=0.0)
        assert await sweeper.sweep_graph(graph, policy, now=0.0, settings=Settings(home=tmp_path)) == []
