"""An approver pins the question they approve (outside red team, round 5, F2).

Two finance managers review the same question, Q1. fred answers it first;
the thread goes on and pauses on Q2, a $606.63 refund. alice then runs the
command she prepared for Q1, ``switchboard resume THREAD --approve --as
alice``: it signed whatever was pending *then*, so Q2 ran on a signature
she never meant for it. Now she pins what she approves (``--interrupt ID``,
``interrupt_id=``): a question that moved on is refused, naming what is
pending now, and nothing is signed; the listings she approves from print
each question's id and the exact command; and an unpinned approval says
which question it signed.

The model is scripted; the retail MCP server, the checkpoints, the policy,
the keys and the audit log are real.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from switchboard import runs
from switchboard.checkpoints.audit import open_audit
from switchboard.cli import main
from switchboard.errors import ThreadError
from switchboard.runs import RunResult, resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, escalate, finish, handoff, make_principals, route
from switchboard.workers import _resume_job, submit_resume
from tests.policies.helpers import snapshot

ESPRESSO = "1000960840"
"""The $606.63 item of Mia's delivered order: returning it alone is above the $500 limit."""


@pytest.fixture
def approvers(principals: Path) -> Path:
    """alice (tests/conftest.py) and fred: two finance managers working one queue."""
    make_principals(principals, {"fred": "finance_manager"})
    return principals


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI (and a worker) read the same checkpoints as the test's own calls."""
    monkeypatch.setenv("SWITCHBOARD_CHECKPOINT_DB", str(settings.checkpoint_target))
    monkeypatch.setenv("COLUMNS", "400")  # one console line per printed line
    return settings


def _script(mia: Any) -> ScriptedChatModel:
    """Q1: the supervisor escalates; once it is approved, Q2: finance's $606.63 refund, held by the policy."""
    order = mia.orders["delivered_over_500"]
    return ScriptedChatModel(
        steps=[escalate("a goodwill refund outside the rules"), route("finance", "refund", skill="process_return"),
               finish("done")],
        agents={"finance": [
            call("find_user_id_by_email", email="mia.chen@example.com"),
            call("return_delivered_order_items", order_id=order, item_ids=[ESPRESSO],
                 payment_method_id=mia.payment_methods["credit_card"]),
            handoff("Return requested."),
        ]},
    )  # fmt: skip


async def _fred_answered_q1(settings: Settings, model: ScriptedChatModel, thread: str) -> tuple[str, RunResult]:
    """Both approvers saw Q1; fred approved it (pinned); returns Q1's id and the thread paused on Q2."""
    paused = await start_run("refund Mia's espresso machine", thread_id=thread, settings=settings, model=model)
    assert paused.status == "paused" and paused.pending is not None
    q1 = str(paused.pending["interrupt_id"])
    moved = await resume_run(thread, approved=True, approver="fred", interrupt_id=q1, settings=settings, model=model)
    assert moved.status == "paused" and moved.pending is not None and moved.pending["interrupt_id"] != q1
    assert moved.answered is not None and moved.answered["interrupt_id"] == q1
    assert "$606.63" in moved.pending["question"]
    return q1, moved


def _approvals_by(settings: Settings, thread: str, name: str) -> list[Any]:
    log = open_audit(settings.data_dir)
    try:
        entries = log.entries(thread)
    finally:
        log.close()
    return [e for e in entries if e.kind == "approval" and e.payload.get("principal") == name]


async def cli(*args: str) -> tuple[int, str]:
    """The real entry point, in a thread of its own (it runs its own event loop)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = await asyncio.to_thread(main, list(args))
    return code, out.getvalue()


@pytest.mark.usefixtures("approvers")
async def test_an_approval_pinned_to_a_question_that_moved_on_signs_nothing(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    model = _script(mia)
    q1, moved = await _fred_answered_q1(settings, model, "t-pin")
    assert moved.pending is not None
    q2 = moved.pending["interrupt_id"]
    before = snapshot(retail_db)

    with pytest.raises(ThreadError) as refused:
        await resume_run("t-pin", approved=True, approver="alice", interrupt_id=q1, settings=settings, model=model)
    message = str(refused.value)
    assert f"is now {q2}" in message and "$606.63" in message and f"you approved {q1}" in message
    assert "nothing was signed" in message
    assert snapshot(retail_db) == before and _approvals_by(settings, "t-pin", "alice") == []
    with pytest.raises(ThreadError, match="nothing was sent"):  # a pinned rejection is held to the same question
        await resume_run("t-pin", approved=False, approver="alice", interrupt_id=q1, settings=settings, model=model)

    done = await resume_run("t-pin", approved=True, approver="alice", interrupt_id=q2, settings=settings, model=model)
    assert done.status == "completed" and done.outcome == "resolved"
    assert done.answered == {"interrupt_id": q2, "question": moved.pending["question"], "approved": True,
                             "approver": "alice"}  # fmt: skip
    assert snapshot(retail_db) != before


@pytest.mark.usefixtures("approvers")
async def test_the_cli_refuses_a_moved_question_and_names_what_it_signed(
    env: Settings, retail_db: Path, mia: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _script(mia)
    monkeypatch.setattr(runs, "resolve_model", lambda *_, **__: model)  # the CLI's graph runs the same script
    q1, moved = await _fred_answered_q1(env, model, "t-cli")
    assert moved.pending is not None
    q2, question = moved.pending["interrupt_id"], moved.pending["question"]
    before = snapshot(retail_db)

    code, out = await cli("resume", "t-cli", "--approve", "--as", "alice", "--interrupt", q1, "--json")
    error = json.loads(out)["error"]
    assert code == 1 and f"the question pending on t-cli is now {q2}: {question}" in error, out
    assert f"you approved {q1}; nothing was signed" in error
    assert snapshot(retail_db) == before and _approvals_by(env, "t-cli", "alice") == []

    # the listings people approve from: each question's id and the exact command, pinned
    command = f"switchboard resume t-cli --approve|--reject --interrupt {q2}"
    code, out = await cli("escalations")
    assert code == 0 and q2 in out and command in out, out
    code, out = await cli("show", "t-cli")
    assert code == 0 and command in out, out

    # unpinned, the approval still goes through, and says which question it signed
    code, out = await cli("resume", "t-cli", "--approve", "--as", "alice")
    assert code == 0, out
    assert f"approved {q2} as alice: {question}" in out
    assert _approvals_by(env, "t-cli", "alice") != []


@pytest.mark.usefixtures("approvers")
async def test_the_paused_report_prints_the_pinned_command(env: Settings, mia: Any) -> None:
    model = _script(mia)
    paused = await start_run("refund Mia's espresso machine", thread_id="t-report", settings=env, model=model)
    assert paused.pending is not None
    code, out = await cli("resume", "t-report")  # no answer: says what it waits for
    assert code == 1 and paused.pending["interrupt_id"] in out, out
    code, out = await cli("resume", "t-report", "--approve", "--as", "fred", "--interrupt", "no-such-question")
    assert code == 1 and f"is now {paused.pending['interrupt_id']}" in out and "nothing was signed" in out, out


@pytest.mark.usefixtures("approvers")
async def test_a_queued_answer_is_held_to_its_question(env: Settings, mia: Any) -> None:
    model = _script(mia)
    q1, moved = await _fred_answered_q1(env, model, "t-queue")
    with pytest.raises(ThreadError, match="nothing was signed"):
        await submit_resume("t-queue", approved=True, approver="alice", interrupt_id=q1, settings=env)
    # a job queued for Q1 (a rejection needs no signature) rejects nothing else when a worker takes it
    with pytest.raises(ThreadError, match="nothing was sent"):
        await _resume_job("t-queue", {"approved": False, "note": "", "approver": "alice"}, interrupt_id=q1)
    assert moved.pending is not None
    still = await runs.read_thread("t-queue", settings=env)
    assert still["status"] == "paused" and still["pending"]["interrupt_id"] == moved.pending["interrupt_id"]


def test_a_question_without_an_interrupt_id_is_queued_unpinned() -> None:
    """Review, round 5: an agent's own interrupt() has no ``interrupt_id``; the queued answer was pinned to
    the string "None", which no question has, so no worker could ever apply it."""
    from switchboard.workers import _question_id

    assert _question_id({"question": "Which colour?"}) is None
    assert _question_id({"interrupt_id": "ab" * 16, "question": "Refund?"}) == "ab" * 16
