"""SQLite checkpoints wait out other connections' writes instead of failing "database is locked" (issue 8).

Runs, workers, thread locks, the store and the health registry all write to
SQLite files at the same moments when many threads start together. The
saver's connection used to be opened with the driver's five-second busy
timeout and its tables made lazily, inside a run's first step, where a busy
file failed the run.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from switchboard.checkpoints import open_checkpointer, open_store
from switchboard.checkpoints.factory import SQLITE_BUSY_TIMEOUT_S, setup_sqlite

HOLD_S = 1.0


async def test_the_saver_is_set_up_when_opened_with_a_long_busy_timeout(tmp_path: Path) -> None:
    target = tmp_path / "checkpoints.sqlite"
    async with open_checkpointer(target) as saver, open_store(target) as store:
        (timeout,) = saver.conn.execute("PRAGMA busy_timeout").fetchone()  # type: ignore[attr-defined]
        cursor = await store.conn.execute("PRAGMA busy_timeout")  # type: ignore[attr-defined]
        assert timeout == (await cursor.fetchone())[0] == int(SQLITE_BUSY_TIMEOUT_S * 1000)
        # The tables exist before any run touched the saver.
        with sqlite3.connect(target) as other:
            tables = {row[0] for row in other.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"checkpoints", "writes"} <= tables


async def test_a_saver_opened_while_another_connection_writes_waits_for_it(tmp_path: Path) -> None:
    target = tmp_path / "checkpoints.sqlite"
    sqlite3.connect(target).execute("PRAGMA journal_mode=WAL").close()
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another process's long write: a thread-lock claim, a worker's queue
        with sqlite3.connect(target, isolation_level=None) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE held (x)")
            holding.set()
            release.wait(HOLD_S)
            db.execute("COMMIT")

    holder = threading.Thread(target=hold)
    holder.start()
    await asyncio.to_thread(holding.wait)
    async with open_checkpointer(target) as saver:  # its set-up writes: it must wait, not fail
        assert await saver.aget_tuple({"configurable": {"thread_id": "t"}}) is None
    holder.join()


async def test_set_up_is_tried_again_when_the_file_is_locked(tmp_path: Path) -> None:
    # A connection switching the journal mode makes others fail at once, busy timeout or not.
    attempts: list[int] = []

    async def setup() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise sqlite3.OperationalError("database is locked")

    await setup_sqlite(tmp_path / "any.sqlite", setup)
    assert len(attempts) == 2
