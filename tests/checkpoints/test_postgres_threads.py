"""``list_threads`` on Postgres: the same statuses as on SQLite, and a held thread shows as running."""

from __future__ import annotations

import uuid
from pathlib import Path

from switchboard.checkpoints import hold_thread
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, escalate, finish
from switchboard.threads import list_threads


async def test_lists_threads_from_postgres(postgres_url: str, retail_db: Path, tmp_path: Path) -> None:
    settings = Settings(checkpoint_db=postgres_url, health_db=str(tmp_path / "health.sqlite"))
    done, asked = f"pg-done-{uuid.uuid4().hex[:6]}", f"pg-ask-{uuid.uuid4().hex[:6]}"
    await start_run("hello", thread_id=done, settings=settings, model=ScriptedChatModel(steps=[finish("hi")]))
    paused = ScriptedChatModel(steps=[escalate("Which warehouse?")])
    await start_run("move stock", thread_id=asked, settings=settings, model=paused)

    threads = {t.thread_id: t for t in await list_threads(settings=settings)}
    assert threads[done].status == "completed" and threads[done].outcome == "resolved"
    assert threads[asked].status == "paused" and threads[asked].waiting_for == "Which warehouse?"
    async with hold_thread(postgres_url, asked):  # another process resuming it
        running = {t.thread_id for t in await list_threads(status="running", settings=settings)}
    assert asked in running and done not in running
    assert asked in {t.thread_id for t in await list_threads(status="paused", settings=settings)}  # released
