"""Postgres thread locks on kept connections (issue 8): reused, never re-entrant, replaced when dropped.

A run's lock connection is kept for the next run, because opening one cost
more CPU than the run's checkpoint queries. What must not change: another
session can take the lock the moment a run ends, and a connection the
server dropped does not fail the next run. The checks go through a
connection of their own, never through the module under test, because a
session that still held a lock would take it again (advisory locks are
re-entrant within a session).
"""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest

from switchboard.checkpoints import hold_thread
from switchboard.checkpoints.pg_locks import APPLICATION_NAME, lock_key
from switchboard.errors import ThreadError


async def _holder(url: str, thread_id: str) -> tuple[int, str]:
    """The server process holding the thread's lock, and its client's application name."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(%s, 0)",
            (lock_key(thread_id),),
        )
        rows = await cursor.fetchall()
    assert len(rows) == 1, rows
    return rows[0][0], rows[0][1]


async def _free_elsewhere(url: str, thread_id: str) -> bool:
    """Whether a session of another client can take the thread's lock now (given straight back)."""
    key = lock_key(thread_id)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (key,))
        row = await cursor.fetchone()
        if row and row[0]:
            await conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (key,))
            return True
        return False


def _thread() -> str:
    return f"pg-kept-{uuid.uuid4().hex[:8]}"


async def test_the_next_run_reuses_the_connection_and_the_lock_is_free_between(postgres_url: str) -> None:
    first, second = _thread(), _thread()
    async with hold_thread(postgres_url, first):
        holder, name = await _holder(postgres_url, first)
        assert not await _free_elsewhere(postgres_url, first)
    assert name == APPLICATION_NAME  # what an operator sees in pg_stat_activity
    assert await _free_elsewhere(postgres_url, first)  # unlocked, though its connection is kept
    async with hold_thread(postgres_url, second):
        assert (await _holder(postgres_url, second))[0] == holder  # the same server process: no new connection
        assert not await _free_elsewhere(postgres_url, second)
        with pytest.raises(ThreadError, match="another process"):
            async with hold_thread(postgres_url, second):
                pass
    assert await _free_elsewhere(postgres_url, second)


async def test_a_kept_connection_the_server_dropped_is_replaced(postgres_url: str) -> None:
    first = _thread()
    async with hold_thread(postgres_url, first):
        kept, _ = await _holder(postgres_url, first)
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (kept,))
    thread = _thread()
    async with hold_thread(postgres_url, thread):
        assert (await _holder(postgres_url, thread))[0] != kept


async def test_a_cancelled_run_leaves_the_lock_free(postgres_url: str) -> None:
    thread, inside = _thread(), asyncio.Event()

    async def run() -> None:
        async with hold_thread(postgres_url, thread):
            inside.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(run())
    await inside.wait()
    assert not await _free_elsewhere(postgres_url, thread)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _free_elsewhere(postgres_url, thread)
