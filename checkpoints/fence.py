"""Fencing: a process that lost a thread's lock writes none of its checkpoints.

A SQLite thread lock is taken over once its holder looks dead: its claim
expired (a holder stopped by ``SIGSTOP``, a suspended machine, a stall past
the lock's time-to-live) or its process is gone. A holder that was only
stopped wakes up still believing it holds the thread, and would go on
writing checkpoints after the new holder's: the history forks, and a
finished thread can be overwritten with a stale pause.

So every checkpoint write made under a lock carries the lock's owner token
(this module's context variable, set by ``hold_thread``), and the SQLite
saver checks, in the write's own transaction, that the lock row still names
that owner. A takeover commits before or after that transaction, never in
the middle, so a write either lands while its process holds the thread or
is refused with :class:`~switchboard.errors.ThreadError`.

The owner token reaches the write through the context: ``asyncio.to_thread``
(how the saver's async methods reach their worker thread) carries it, but a
bare ``loop.run_in_executor`` would not, and such a write would go unfenced.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

from switchboard.errors import ThreadError

__all__ = ["check", "holding", "owner_of"]

_HELD: ContextVar[Mapping[str, str]] = ContextVar("switchboard_held_threads", default=MappingProxyType({}))
"""Thread id -> lock owner token, for the threads the current context holds."""


@contextmanager
def holding(thread_id: str, owner: str) -> Iterator[None]:
    """Mark ``thread_id`` as held by ``owner`` in this context (the run's tasks and their worker threads)."""
    token = _HELD.set(MappingProxyType({**_HELD.get(), thread_id: owner}))
    try:
        yield
    finally:
        _HELD.reset(token)


def owner_of(thread_id: str) -> str | None:
    """The lock owner token this context holds ``thread_id`` under, if it holds it."""
    return _HELD.get().get(thread_id)


def check(conn: sqlite3.Connection, thread_id: str, owner: str) -> None:
    """Begin the write's transaction and refuse it unless the lock row still names ``owner``.

    ``BEGIN IMMEDIATE`` takes the database's write lock before the read, so
    no takeover can commit between this check and the write that follows
    it on the same connection (the caller commits both, or neither).

    Raises:
        ThreadError: Another process took the thread over (or the claim is gone).
    """
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")
    row = conn.execute("SELECT owner FROM switchboard_thread_locks WHERE thread_id = ?", (thread_id,)).fetchone()
    if row is None:
        raise ThreadError(
            f"this process no longer holds thread {thread_id!r} (its lock was released or expired and cleared); "
            "it stops without writing: `switchboard show` the thread for where it stands"
        )
    if row[0] != owner:
        raise ThreadError(
            f"this process lost thread {thread_id!r} to another (its lock expired while it was stopped or stalled); "
            "it stops without writing: `switchboard show` the thread for where the other left it"
        )
