"""Thread locks that live with the checkpoint store.

Two processes driving one thread would both run its next steps, and every
write in them twice. Every process that can reach a thread's state uses the
same checkpoint store, so that is where the lock lives, and nothing else
(a health folder, a working directory, a machine) decides who sees it:

- **SQLite**: a row in a ``switchboard_thread_locks`` table of the checkpoint
  database itself, claimed under ``BEGIN IMMEDIATE`` so that two claims can
  never both succeed. The row names its holder (a random owner token, the
  host and the process id) and an expiry the holder pushes forward every
  third of its time-to-live, from the process's one heartbeat thread. A row is stale, and is
  taken over, when its process is gone (same host, process id no longer
  running; checked on POSIX) or when it has expired (any host, any platform:
  a hung holder, or one on another machine).
- **Postgres**: a session-level advisory lock (``pg_try_advisory_lock``) on
  a connection of its own, held for the length of the run. The server frees
  it when that connection ends, so a killed holder frees it at once. The
  connection is kept for the process's next run (:mod:`.pg_locks`).

Neither blocks the event loop: SQLite work runs in the process's one lock
worker thread, Postgres work on an async connection. No thread is started
per run: a thread start waits for the new thread to run, and under many
concurrent runs that held up the event loop for all of them. Each thread
that claims or beats keeps its connection to the lock table (see
``_connection``), so a claim is one short transaction, not an open, a
schema check and a close.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, closing
from pathlib import Path

from switchboard.checkpoints import fence
from switchboard.checkpoints.factory import is_postgres
from switchboard.checkpoints.pg_locks import held_postgres, hold_postgres
from switchboard.checkpoints.sqlite_wal import ensure_wal
from switchboard.errors import ThreadError

DEFAULT_TTL = 30.0
"""Seconds a SQLite claim stays valid without a heartbeat."""

_log = logging.getLogger(__name__)
HOST = socket.gethostname()
"""This machine, as recorded beside a claim (a thread lock, a capacity lease) to tell its process's fate later."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS switchboard_thread_locks (
    thread_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    acquired_at REAL NOT NULL,
    expires_at REAL NOT NULL
)
"""


def _busy(thread_id: str) -> ThreadError:
    """The error for a thread another process holds."""
    return ThreadError(f"thread {thread_id!r} is being run or resumed by another process; try again when it is done")


@asynccontextmanager
async def hold_thread(target: str | Path, thread_id: str, *, ttl: float = DEFAULT_TTL) -> AsyncIterator[None]:
    """Hold ``thread_id`` exclusively in the checkpoint store ``target``.

    Args:
        target: The checkpoint store: a SQLite file or a ``postgresql://`` URL
            (``Settings.checkpoint_target``).
        thread_id: The thread to hold.
        ttl: SQLite only: seconds the claim stays valid without a
            heartbeat (it beats every ``ttl / 3``); after that another
            process may take it over.

    Raises:
        ThreadError: Another process holds the thread.
    """
    if is_postgres(target):
        async with hold_postgres(str(target), thread_id, _busy):
            yield
        return
    lock = SqliteThreadLock(Path(target), thread_id, ttl=ttl)
    # The process's one lock worker runs claims and releases in the order
    # they were asked for, so a release always runs after its acquire, even
    # when the waiting task is cancelled half-way. Starting a thread per run
    # instead blocked the event loop until it ran, under every other run.
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(_WORKER, lock.acquire)
        _HEARTBEAT.add(lock)  # from a thread, so that a busy event loop does not make a live holder look dead
        with fence.holding(thread_id, lock.owner):  # its checkpoint writes check the claim is still its own
            yield
    finally:
        await loop.run_in_executor(_WORKER, lock.release)  # which stops the heartbeats first


async def held_threads(target: str | Path, thread_ids: list[str]) -> set[str]:
    """Which of ``thread_ids`` a live process holds now (is running or resuming).

    Read-only on SQLite (a stale claim counts as free, and is left for the
    next holder to take over); on Postgres each advisory lock is tried and,
    if won, given straight back.
    """
    if not thread_ids:
        return set()
    if is_postgres(target):
        return await held_postgres(str(target), thread_ids)
    return await asyncio.to_thread(_held_sqlite, Path(target), thread_ids)


def _held_sqlite(path: Path, thread_ids: list[str]) -> set[str]:
    if not path.exists():
        return set()
    with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as db:
        db.execute(_SCHEMA)
        rows = db.execute("SELECT thread_id, host, pid, expires_at FROM switchboard_thread_locks").fetchall()
    now, wanted = time.time(), set(thread_ids)
    return {row[0] for row in rows if row[0] in wanted and not SqliteThreadLock._stale(row[1], row[2], row[3], now)}


class SqliteThreadLock:
    """One claim on one thread, in the checkpoint database's lock table.

    The methods block; ``hold_thread`` runs them in a worker thread.
    """

    def __init__(self, path: Path, thread_id: str, *, ttl: float = DEFAULT_TTL) -> None:
        self.path = path
        self.thread_id = thread_id
        self.ttl = ttl
        self.owner = uuid.uuid4().hex
        """This claim's token: only the claim that wrote a row may refresh or delete it."""
        self.lost = False
        """Set when a heartbeat found the row taken over by another process."""

    def acquire(self) -> None:
        """Claim the thread, taking over a stale claim.

        Raises:
            ThreadError: A live holder has it.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = _connection(self.path)
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT host, pid, expires_at FROM switchboard_thread_locks WHERE thread_id = ?",
                (self.thread_id,),
            ).fetchone()
            now = time.time()
            if row is not None and not self._stale(row[0], row[1], row[2], now):
                raise _busy(self.thread_id)
            if row is not None:
                _log.warning("taking over thread %r from a holder that is gone (%s pid %s)", self.thread_id, *row[:2])
            db.execute(
                "INSERT OR REPLACE INTO switchboard_thread_locks VALUES (?, ?, ?, ?, ?, ?)",
                (self.thread_id, self.owner, HOST, os.getpid(), now, now + self.ttl),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def beat(self) -> bool:
        """Push the expiry forward; ``False`` when the claim is no longer ours."""
        cursor = _connection(self.path).execute(
            "UPDATE switchboard_thread_locks SET expires_at = ? WHERE thread_id = ? AND owner = ?",
            (time.time() + self.ttl, self.thread_id, self.owner),
        )
        return cursor.rowcount == 1

    def release(self) -> None:
        """Stop the heartbeats and give the thread up (nothing happens if this claim never got it)."""
        _HEARTBEAT.discard(self)
        if not self.path.exists():
            return
        _connection(self.path).execute(
            "DELETE FROM switchboard_thread_locks WHERE thread_id = ? AND owner = ?", (self.thread_id, self.owner)
        )

    def beat_or_log(self) -> bool:
        """One heartbeat; ``False`` when the claim was lost (and is no longer beaten)."""
        try:
            if not self.beat():
                self.lost = True
                _log.error("thread %r was taken over while this process held it", self.thread_id)
                return False
        except sqlite3.OperationalError as exc:  # busy database: the next beat tries again
            _log.warning("lock heartbeat for thread %r failed: %s", self.thread_id, exc)
        return True

    @staticmethod
    def _stale(host: str, pid: int, expires_at: float, now: float) -> bool:
        if now > expires_at:
            return True
        return process_gone(host, pid)


_CONNECTIONS = 8
"""Lock databases each thread keeps a connection to; the least recently used is closed first."""
_local = threading.local()


def _connection(path: Path) -> sqlite3.Connection:
    """This thread's connection to the lock table in ``path``, opened on first use and then kept.

    Opening a connection, and creating the table if missing, cost more than
    the claim itself; the lock worker runs every claim and release of the
    process in turn, so concurrent runs queued behind that work. A kept
    connection is checked against the file on every use: one that was
    removed or replaced (another data directory made at the same path), or
    one opened before this process forked, is closed and opened again.

    Commits use ``synchronous=NORMAL``: in WAL mode each is atomic and seen
    at once by every process, and survives the process being killed; only
    an operating-system crash can lose the last ones, and that crash ends
    the holder too, so the claim it would have recorded is void anyway. The
    checkpoints and the audit log keep full syncs on their own connections.
    """
    cache: OrderedDict[str, tuple[sqlite3.Connection, tuple[int, int, int]]] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = OrderedDict()
    key = str(path)
    found = cache.pop(key, None)
    if found is not None:
        if found[1] == _identity(path):
            cache[key] = found
            return found[0]
        _drop(found)
    ensure_wal(path)  # before any table is made: the checkpointer's own setup would switch modes under claims
    db = sqlite3.connect(path, timeout=10, isolation_level=None)  # autocommit: transactions are explicit
    try:
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
    except BaseException:
        db.close()
        raise
    cache[key] = (db, _identity(path))
    while len(cache) > _CONNECTIONS:
        _drop(cache.popitem(last=False)[1])
    return db


def _drop(kept: tuple[sqlite3.Connection, tuple[int, int, int]]) -> None:
    """Close a kept connection, unless a parent process opened it: SQLite must not close it in a child."""
    if kept[1][2] == os.getpid():
        kept[0].close()


def _identity(path: Path) -> tuple[int, int, int]:
    """The file behind ``path`` and the process asking: a kept connection is valid only for the same."""
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1, os.getpid())
    return (stat.st_dev, stat.st_ino, os.getpid())


class _Heartbeat:
    """One daemon thread that refreshes every SQLite claim this process holds, each every ``ttl / 3``.

    Started on first use and kept for the life of the process.
    """

    def __init__(self) -> None:
        self._due: dict[SqliteThreadLock, float] = {}
        self._changed = threading.Condition()
        self._beating = threading.Lock()
        """Held while a beat runs: a release waits for it."""
        self._thread: threading.Thread | None = None

    def add(self, lock: SqliteThreadLock) -> None:
        with self._changed:
            self._due[lock] = time.monotonic() + lock.ttl / 3
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="switchboard-lock-heartbeat", daemon=True)
                self._thread.start()
            self._changed.notify()

    def discard(self, lock: SqliteThreadLock) -> None:
        """Stop beating ``lock``; waits for a beat of it in progress, so none comes after a release."""
        with self._beating, self._changed:
            self._due.pop(lock, None)

    def _run(self) -> None:
        while True:
            with self._changed:
                now = time.monotonic()
                due = [lock for lock, at in self._due.items() if at <= now]
                if not due:
                    self._changed.wait(min(self._due.values(), default=now + 60.0) - now)
                    continue
                for lock in due:
                    self._due[lock] = now + lock.ttl / 3
            for lock in due:  # outside the condition: a beat may wait on a busy file
                with self._beating:
                    if lock in self._due and not lock.beat_or_log():
                        with self._changed:
                            self._due.pop(lock, None)


_HEARTBEAT = _Heartbeat()
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="switchboard-lock")
"""Runs every SQLite claim and release of the process, in order (SQLite writes one at a time anyway)."""


def process_gone(host: str | None, pid: int | None) -> bool:
    """Whether the process that made a claim is known to have ended: it ran on this host and runs no more.

    Another host's process, or one not known (``None``), or one that cannot
    be probed here, is not known to be gone: the claim's expiry decides. A
    pid reused since by another process reads as alive, which errs the same way.
    """
    return host == HOST and pid is not None and not _running(pid)


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (``True`` when it cannot be told)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # no cheap, safe probe here: the claim's expiry decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    return True
