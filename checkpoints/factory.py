"""Checkpointers: SQLite by default, Postgres at scale.

Both are LangGraph's own savers; this module only picks one from a setting
and opens it for the length of a run.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from switchboard.checkpoints.crashpoints import armed
from switchboard.checkpoints.sqlite_wal import ensure_wal
from switchboard.errors import ConfigError


def is_postgres(target: str | Path) -> bool:
    """Whether a checkpoint target is a Postgres URL rather than a file."""
    return str(target).startswith(("postgres://", "postgresql://"))


_SETUP_LOCK = "switchboard:setup"
"""Advisory lock key under which one process at a time creates or migrates tables."""
_SETUP_POLL_S = 0.05


async def setup_once(conn: Any, setup: Callable[[], Awaitable[None]]) -> None:
    """Run a LangGraph saver's or store's ``setup`` with no other process doing the same.

    ``setup`` creates and migrates tables, and two processes running it at
    once on a fresh database both insert the same migration rows, so one
    fails. Workers starting together do exactly that. A session-level
    advisory lock on the saver's own (autocommit) connection serialises them;
    the second finds the tables made and does nothing.

    The lock is polled with ``pg_try_advisory_lock`` rather than waited for:
    a migration builds indexes ``CONCURRENTLY``, which waits for every open
    statement, a blocked ``pg_advisory_lock`` included, and the two would deadlock.
    """
    while True:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0)) AS held", (_SETUP_LOCK,))
        row = await cursor.fetchone()
        if row is not None and (row["held"] if isinstance(row, dict) else row[0]):
            break
        await asyncio.sleep(_SETUP_POLL_S)
    try:
        await setup()
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (_SETUP_LOCK,))


_SQLITE_SETUP_ATTEMPTS = 5
_sqlite_setups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
"""Per event loop, a lock per SQLite file under which its store is set up."""


async def setup_sqlite(path: Path, setup: Callable[[], Awaitable[None]]) -> None:
    """Run a SQLite store's ``setup`` while other runs or processes may be running theirs.

    ``setup`` reads the last migration applied, then applies and records the
    rest, so two runs starting together on a fresh file apply the same
    migration twice and one fails (a duplicate key or column). Runs of one
    event loop take turns; a run that loses the race to another process
    tries again, and finds the migrations applied.
    """
    locks = _sqlite_setups.setdefault(asyncio.get_running_loop(), {})
    lock = locks.setdefault(str(path.resolve()), asyncio.Lock())
    async with lock:
        for attempt in range(_SQLITE_SETUP_ATTEMPTS):
            try:
                await setup()
                return
            except (sqlite3.IntegrityError, sqlite3.OperationalError) as exc:
                race = isinstance(exc, sqlite3.IntegrityError) or "duplicate column" in str(exc)
                if not race or attempt == _SQLITE_SETUP_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(_SETUP_POLL_S)


@asynccontextmanager
async def open_checkpointer(target: str | Path) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Open the checkpointer named by ``target`` for the length of a block.

    Args:
        target: A SQLite file path or a ``postgresql://`` URL
            (``Settings.checkpoint_target`` gives the configured one).

    Raises:
        ConfigError: Postgres was asked for without the ``postgres`` extra.
    """
    if is_postgres(target):
        try:
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        except ImportError as exc:
            raise ConfigError("Postgres checkpoints need `pip install 'switchboard[postgres]'`") from exc
        async with AsyncPostgresSaver.from_conn_string(str(target)) as saver:
            await setup_once(saver.conn, saver.setup)
            yield armed(saver)
        return
    path = Path(target)
    await asyncio.to_thread(ensure_wal, path)  # before the saver's setup, which would switch it under other runs
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        yield armed(saver)
