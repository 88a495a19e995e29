"""``switchboard threads`` lists every thread with where it stands: nothing is forgotten."""

from __future__ import annotations

import asyncio
import json

import pytest

from switchboard.checkpoints import hold_thread
from switchboard.cli import main
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, escalate, finish
from switchboard.threads import list_threads


async def test_lists_paused_running_and_completed_threads(settings: Settings) -> None:
    assert await list_threads(settings=settings) == []  # a fresh store has none, and no error
    await start_run("hello", thread_id="done-1", settings=settings, model=ScriptedChatModel(steps=[finish("hi")]))
    paused = ScriptedChatModel(steps=[escalate("Which warehouse?")])
    await start_run("move stock", thread_id="ask-1", settings=settings, model=paused)

    threads = {t.thread_id: t for t in await list_threads(settings=settings)}
    assert threads["done-1"].status == "completed" and threads["done-1"].outcome == "resolved"
    assert threads["ask-1"].status == "paused" and threads["ask-1"].waiting_for == "Which warehouse?"
    assert threads["ask-1"].updated_at and threads["ask-1"].task == "move stock"
    assert [t.thread_id for t in await list_threads(status="paused", settings=settings)] == ["ask-1"]

    async with hold_thread(settings.checkpoint_target, "ask-1"):  # as a process resuming it would
        (running,) = await list_threads(status="running", settings=settings)
    assert running.thread_id == "ask-1"
    assert (await list_threads(status="paused", settings=settings))[0].thread_id == "ask-1"  # released


def test_cli_lists_threads_as_json(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ScriptedChatModel(steps=[finish("hi")])
    asyncio.run(start_run("hello", thread_id="done-2", settings=settings, model=model))
    monkeypatch.setenv("SWITCHBOARD_CHECKPOINT_DB", str(settings.checkpoint_db))
    assert main(["threads", "--status", "completed", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["thread_id"] == "done-2" and listed["outcome"] == "resolved"
    assert main(["threads", "--status", "paused", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_the_cli_offers_every_thread_status_the_listing_knows() -> None:
    from switchboard.cli_threads import STATUSES
    from switchboard.threads import THREAD_STATUSES

    assert STATUSES == THREAD_STATUSES  # the parser keeps its own copy so that --help stays light


async def test_an_unreadable_audit_trail_leaves_a_paused_thread_listed_by_its_checkpoint(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchboard import threads
    from switchboard.errors import AuditError

    paused = ScriptedChatModel(steps=[escalate("Which warehouse?")])
    await start_run("move stock", thread_id="ask-2", settings=settings, model=paused)

    async def locked(*_: object) -> None:
        raise AuditError("cannot read the audit log: database is locked")

    monkeypatch.setattr(threads, "answered_question", locked)
    (listed,) = await list_threads(settings=settings)
    assert listed.status == "paused"  # not "tampered": nobody changed anything
    assert listed.waiting_for is not None and "Which warehouse?" in listed.waiting_for
    assert "database is locked" in listed.waiting_for
