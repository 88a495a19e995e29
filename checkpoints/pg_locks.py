"""Postgres thread locks: session advisory locks, on connections kept between runs.

A thread's lock is a session-level advisory lock, so a run holds a
connection of its own for as long as it runs, and the server frees the lock
the moment that connection ends (a killed holder frees it at once). Opening
that connection (a server backend, authentication, the keep-alive settings)
cost a run more CPU than all its checkpoint queries, on the event loop that
every concurrent run shares. So a connection whose lock was given back is
kept for the next run of the same event loop and server: at most
:data:`IDLE_MAX` of them, none idle longer than :data:`IDLE_S` (checked
whenever a lock is taken, and at exit).

A kept connection must hold no lock, since advisory locks are re-entrant
within a session: a connection is kept only when the server confirmed the
unlock; one in doubt (an error, a cancelled release, a failed unlock) is
closed, which frees whatever it held. A kept connection the server has since
dropped is replaced on the next run.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from switchboard.errors import ConfigError, ThreadError

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__ = ["APPLICATION_NAME", "IDLE_MAX", "IDLE_S", "held_postgres", "hold_postgres", "lock_key"]

IDLE_MAX = 16
"""Lock connections kept per event loop and server once their runs ended."""
IDLE_S = 60.0
"""Seconds a kept connection may wait for a run before it is closed."""
APPLICATION_NAME = "switchboard-thread-lock"
"""How the lock connections show in ``pg_stat_activity``."""
_KEEPALIVES = "SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3"
"""Over TCP, the server notices a vanished holder within about a minute, not the kernel's two hours."""
_TRY = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"


@dataclass
class _Kept:
    conn: AsyncConnection[Any]
    url: str
    loop: asyncio.AbstractEventLoop
    since: float


_kept: list[_Kept] = []
"""Connections whose lock was given back, newest last."""
_guard = threading.Lock()
"""Event loops in several threads share ``_kept``; each takes only its own loop's connections."""


def lock_key(thread_id: str) -> str:
    """The advisory lock's text key for a thread (hashed by the server)."""
    return f"switchboard:thread:{thread_id}"


@asynccontextmanager
async def hold_postgres(url: str, thread_id: str, busy: Callable[[str], ThreadError]) -> AsyncIterator[None]:
    """Hold ``thread_id``'s advisory lock on the server at ``url`` for the block.

    Args:
        url: The ``postgresql://`` URL.
        thread_id: The thread.
        busy: The error to raise when another session holds the lock.

    Raises:
        ThreadError: Another session holds it (``busy``).
        ConfigError: The Postgres driver is not installed.
    """
    key = lock_key(thread_id)
    conn, held = await _lock(url, key)
    if not held:
        _keep(conn, url)  # it took nothing
        raise busy(thread_id)
    try:
        yield
    finally:
        await _give_back(conn, url, key)


async def held_postgres(url: str, thread_ids: list[str]) -> set[str]:
    """Which of ``thread_ids`` a session holds now (a run or resume in some process).

    Each lock is tried on a connection of this call's own and, if won,
    given straight back; never on a kept connection, which would take a lock
    it still held again.
    """
    import psycopg

    held: set[str] = set()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for thread_id in thread_ids:
            key = lock_key(thread_id)
            cursor = await conn.execute(_TRY, (key,))
            row = await cursor.fetchone()
            if row and row[0]:
                await conn.execute(_UNLOCK, (key,))
            else:
                held.add(thread_id)
    return held


async def _lock(url: str, key: str) -> tuple[AsyncConnection[Any], bool]:
    """Try the lock on a kept connection of this loop, else a new one; the connection and whether it is held."""
    loop = asyncio.get_running_loop()
    _prune()
    while True:
        with _guard:
            kept = next((k for k in reversed(_kept) if k.loop is loop and k.url == url), None)
            if kept is not None:
                _kept.remove(kept)
        conn = kept.conn if kept is not None else await _connect(url)
        try:
            cursor = await conn.execute(_TRY, (key,))
            row = await cursor.fetchone()
        except BaseException as exc:
            await conn.close()
            if kept is not None and _dropped(exc):
                continue  # the server ended it while it waited: the next one, or a new one
            raise
        return conn, bool(row and row[0])


async def _connect(url: str) -> AsyncConnection[Any]:
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigError("Postgres checkpoints need `pip install 'switchboard[postgres]'`") from exc
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True, application_name=APPLICATION_NAME)
    try:
        await conn.execute(_KEEPALIVES)
    except BaseException:
        await conn.close()
        raise
    return conn


async def _give_back(conn: AsyncConnection[Any], url: str, key: str) -> None:
    """Unlock; keep the connection only if the server confirmed it, else close it (which unlocks)."""
    try:
        cursor = await conn.execute(_UNLOCK, (key,))
        row = await cursor.fetchone()
    except BaseException:
        await conn.close()
        raise
    if row and row[0] is True:
        _keep(conn, url)
    else:
        await conn.close()


def _keep(conn: AsyncConnection[Any], url: str) -> None:
    loop = asyncio.get_running_loop()
    if conn.closed:
        return
    with _guard:
        _kept.append(_Kept(conn, url, loop, time.monotonic()))
        mine = [k for k in _kept if k.loop is loop and k.url == url]
        extra = mine[: max(0, len(mine) - IDLE_MAX)]  # the oldest go first
        for k in extra:
            _kept.remove(k)
    for k in extra:
        _close_now(k.conn)


def _prune() -> None:
    """Close what waited too long, and what belongs to an event loop that has closed."""
    now = time.monotonic()
    with _guard:
        gone = [k for k in _kept if k.loop.is_closed() or now - k.since > IDLE_S]
        for k in gone:
            _kept.remove(k)
    for k in gone:
        _close_now(k.conn)


def _dropped(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection is gone (not that the query was wrong)."""
    import psycopg

    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def _close_now(conn: AsyncConnection[Any]) -> None:
    """Close without an event loop: psycopg's ``close`` of a connection outside a pool never waits."""
    step: Coroutine[Any, Any, None] = conn.close()
    try:
        step.send(None)
    except StopIteration:
        return
    step.close()  # it would have waited: the server ends the session when the process does


@atexit.register
def _close_kept() -> None:
    with _guard:
        gone = list(_kept)
        _kept.clear()
    for k in gone:
        _close_now(k.conn)
