"""Checkpointers: SQLite by default, Postgres at scale.

Both are LangGraph's own savers; this module only picks one from a setting
and opens it for the length of a run (or of the runs busy at the same time,
see :mod:`switchboard.graph_cache`).

- **SQLite**: LangGraph's ``SqliteSaver`` on one connection, each async
  call on a worker thread in one hop (:mod:`.sqlite_saver`), with a busy timeout
  of :data:`SQLITE_BUSY_TIMEOUT_S` rather than the driver's five seconds, so
  a write waits out other processes' writes (workers, thread locks, the
  store) instead of failing with "database is locked"; its tables are made
  before the first run uses it, retried while another connection holds the
  file.
- **Postgres**: a ``psycopg_pool`` connection pool, the way LangGraph's
  saver supports concurrent use. A saver instance serialises its own queries
  behind a lock, so concurrent runs each take a saver of their own over the
  shared pool (:func:`saver_for_run`) and their checkpoint writes overlap.
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

from switchboard.checkpoints.crashpoints import armed
from switchboard.checkpoints.signing import refuse_signed, sign
from switchboard.checkpoints.sqlite_saver import ThreadedSqliteSaver
from switchboard.checkpoints.sqlite_wal import ensure_wal
from switchboard.errors import ConfigError


def is_postgres(target: str | Path) -> bool:
    """Whether a checkpoint target is a Postgres URL rather than a file."""
    return str(target).startswith(("postgres://", "postgresql://"))


SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite checkpoint write waits for another connection's write before failing."""
POOL_SIZE = 10
"""Most Postgres connections one process's checkpointer (or store) opens: one per run writing at once.

Pools start with one and grow with concurrent runs; a run beyond the tenth
waits for a free connection. Mind the server's ``max_connections`` (100 by
default) across processes."""

_SETUP_LOCK = "switchboard:setup"
"""Advisory lock key under which one process at a time creates or migrates tables."""
_SETUP_POLL_S = 0.05


async def setup_once(conn: Any, setup: Callable[[], Awaitable[None]]) -> None:
    """Run a LangGraph saver's or store's ``setup`` with no other process doing the same.

    ``setup`` creates and migrates tables, and two processes running it at
    once on a fresh database both insert the same migration rows, so one
    fails. Workers starting together do exactly that. A session-level
    advisory lock on one (autocommit) connection of ``conn``, a connection or
    a pool, serialises them; the second finds the tables made and does nothing.

    The lock is polled with ``pg_try_advisory_lock`` rather than waited for:
    a migration builds indexes ``CONCURRENTLY``, which waits for every open
    statement, a blocked ``pg_advisory_lock`` included, and the two would deadlock.
    """
    async with connection(conn) as session:
        while True:
            cursor = await session.execute(
                "SELECT pg_try_advisory_lock(hashtextextended(%s, 0)) AS held", (_SETUP_LOCK,)
            )
            row = await cursor.fetchone()
            if row is not None and (row["held"] if isinstance(row, dict) else row[0]):
                break
            await asyncio.sleep(_SETUP_POLL_S)
        try:
            await setup()
        finally:
            await session.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (_SETUP_LOCK,))


@asynccontextmanager
async def connection(conn: Any) -> AsyncIterator[Any]:
    """One connection for a block: ``conn`` itself, or one taken from a pool (a Postgres saver's or store's)."""
    if hasattr(conn, "connection"):  # a psycopg_pool pool
        async with conn.connection() as session:
            yield session
    else:
        yield conn


@asynccontextmanager
async def postgres_pool(url: str) -> AsyncIterator[Any]:
    """A connection pool to ``url`` set up as LangGraph's Postgres saver and store expect, open for a block.

    Raises:
        ConfigError: The ``postgres`` extra is not installed.
    """
    try:
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool
    except ImportError as exc:
        raise ConfigError("Postgres checkpoints need `pip install 'switchboard[postgres]'`") from exc
    kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    async with AsyncConnectionPool(url, min_size=1, max_size=POOL_SIZE, kwargs=kwargs, open=False) as pool:
        yield pool


_SQLITE_SETUP_ATTEMPTS = 5
_sqlite_setups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
"""Per event loop, a lock per SQLite file under which its store is set up."""


async def setup_sqlite(path: Path, setup: Callable[[], Awaitable[None]]) -> None:
    """Run a SQLite saver's or store's ``setup`` while other runs or processes may be running theirs.

    ``setup`` reads the last migration applied, then applies and records the
    rest, so two runs starting together on a fresh file apply the same
    migration twice and one fails (a duplicate key or column). Runs of one
    event loop take turns; a run that loses the race to another process, or
    finds the file locked past its busy timeout (a connection switching the
    journal mode fails at once, without waiting), tries again and finds the
    migrations applied.
    """
    locks = _sqlite_setups.setdefault(asyncio.get_running_loop(), {})
    lock = locks.setdefault(str(path.resolve()), asyncio.Lock())
    async with lock:
        for attempt in range(_SQLITE_SETUP_ATTEMPTS):
            try:
                await setup()
                return
            except (sqlite3.IntegrityError, sqlite3.OperationalError) as exc:
                text = str(exc)
                race = isinstance(exc, sqlite3.IntegrityError) or any(
                    sign in text for sign in ("duplicate column", "locked", "busy")
                )
                if not race or attempt == _SQLITE_SETUP_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(_SETUP_POLL_S)


@asynccontextmanager
async def open_checkpointer(target: str | Path, *, key: bytes | None = None) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Open the checkpointer named by ``target`` for the length of a block.

    Args:
        target: A SQLite file path or a ``postgresql://`` URL
            (``Settings.checkpoint_target`` gives the configured one).
        key: Sign every checkpoint value with this key and refuse values that
            do not verify (:mod:`.signing`; ``checkpoint_key(data_dir)``).
            Runs that Switchboard opens pass the data directory's key
            (``Settings().checkpoint_key()``). Without a key, values are
            read and written unsigned as LangGraph does, and reading a
            signed value raises a ConfigError saying to pass the key.

    Raises:
        ConfigError: Postgres was asked for without the ``postgres`` extra;
            or, when a value is read, the store is signed and no key was given.
    """
    if is_postgres(target):
        try:
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        except ImportError as exc:
            raise ConfigError("Postgres checkpoints need `pip install 'switchboard[postgres]'`") from exc
        async with postgres_pool(str(target)) as pool:
            saver = AsyncPostgresSaver(conn=pool)
            await setup_once(pool, saver.setup)
            yield armed(_signed(saver, key))
        return
    path = Path(target)
    await asyncio.to_thread(ensure_wal, path)  # before the saver's setup, which would switch it under other runs
    # Opened and closed on a worker thread too: an event loop that refuses blocking calls (langgraph dev) may run this.
    conn = await asyncio.to_thread(sqlite3.connect, str(path), timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False)
    sqlite_saver = ThreadedSqliteSaver(conn)
    try:
        # Now, with retries, not lazily inside a run's first step.
        await setup_sqlite(path, lambda: asyncio.to_thread(sqlite_saver.setup))
        yield armed(_signed(sqlite_saver, key))
    finally:
        await asyncio.to_thread(_close, sqlite_saver)


def _signed(saver: BaseCheckpointSaver[Any], key: bytes | None) -> BaseCheckpointSaver[Any]:
    """The saver signing with ``key``; without one, one that names a signed store when it meets it."""
    return refuse_signed(saver) if key is None else sign(saver, key)


def _close(saver: ThreadedSqliteSaver) -> None:
    with saver.lock:  # not under a write still running on another worker thread
        saver.conn.close()


def saver_for_run(saver: BaseCheckpointSaver[Any]) -> BaseCheckpointSaver[Any]:
    """The saver one run should use, among runs sharing ``saver`` at the same time.

    LangGraph's Postgres saver holds a lock around each query even over a
    pool, so runs sharing one instance would write their checkpoints one at
    a time; each run gets an instance of its own over the same pool. Other
    savers are shared as they are (SQLite has one writer per file anyway).
    """
    if type(saver).__name__ != "AsyncPostgresSaver":  # no Postgres import for SQLite runs
        return saver
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg_pool import AsyncConnectionPool

    if not isinstance(saver, AsyncPostgresSaver) or not isinstance(saver.conn, AsyncConnectionPool):
        return saver
    return armed(AsyncPostgresSaver(conn=saver.conn, serde=saver.serde))
