"""Live load and health of agents, shared by every thread and process.

Routing by workload needs to know how busy each agent is *right now*, across
concurrent threads and across processes that share state. The registry keeps
that in a small SQLite database (WAL mode, short transactions): one row per
in-flight step (a lease) and one row per finished step (an outcome). From
those it derives, per agent, the work in flight, the recent error rate and
latency, and a circuit breaker:

- closed: the agent is offered normally;
- open: after ``failure_threshold`` consecutive failures; not offered until
  ``cooldown`` seconds have passed since the last failure;
- half-open: after the cool-down, one trial step is offered; a success
  closes the breaker, a failure opens it again.

The breaker and ``max_concurrency`` are limits, not hints: a step takes its
slot in one write transaction when it starts (:meth:`HealthRegistry.acquire`
with a ``limit``), so runs that saw the same free slot, or the same
half-open agent, cannot all start.

Leases of a process that died are not leaked: each names the process that
took it (host and pid), and one whose process is known to be gone (same host,
pid no longer running, as for thread locks) holds no slot from then on. Any
other lease (another host, a platform where a pid cannot be probed, one an
earlier release wrote) expires after ``lease_ttl`` seconds.

The registry is used from graph nodes, on an event loop that a server shares
with every other request, so it never touches the disk there: the database is
opened on first use, and the ``a``-prefixed methods (``aacquire``,
``asnapshot``...) run the SQLite work in a worker thread. The plain methods
are for synchronous callers (the CLI, scripts, tests).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

from switchboard.checkpoints.locks import HOST, process_gone
from switchboard.checkpoints.sqlite_wal import ensure_wal

Breaker = Literal["closed", "open", "half_open"]

KEPT_S = 30 * 24 * 3600.0
"""How long a step's lease row is kept, parked or expired, for the step to
come back to (a step resumed later than that is treated as a new one)."""

# ``parked`` and ``lease_owners`` are tables of their own, not columns of ``leases``:
# processes of an earlier release may share the file, and they read and write
# ``leases`` as it was. They write no owners, and may re-take or replace a lease
# that has one, so an owner row speaks for its lease only while its ``started``
# is the lease's: otherwise the lease's process is unknown, and the TTL decides.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, agent TEXT NOT NULL, started REAL NOT NULL);
CREATE INDEX IF NOT EXISTS leases_agent ON leases(agent);
CREATE TABLE IF NOT EXISTS parked (id TEXT PRIMARY KEY, agent TEXT NOT NULL, since REAL NOT NULL);
CREATE TABLE IF NOT EXISTS lease_owners (
    id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, started REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, agent TEXT NOT NULL, ok INTEGER NOT NULL,
    latency REAL NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS outcomes_agent ON outcomes(agent, seq);
"""

_LIVE = """
SELECT o.host, o.pid FROM leases AS l LEFT JOIN lease_owners AS o ON o.id = l.id AND o.started = l.started
WHERE l.agent = ? AND l.started > ?"""
"""The agent's leases younger than the TTL, each with its process if known (else ``NULL, NULL``)."""


@dataclass(frozen=True)
class AgentHealth:
    """One agent's load and health at a moment."""

    agent: str
    in_flight: int
    error_rate: float
    """Share of failures among the last ``window`` outcomes."""
    latency_ms: float
    """Mean latency of the last ``window`` outcomes."""
    breaker: Breaker
    consecutive_failures: int

    def available(self, max_concurrency: int) -> bool:
        """Whether routing may offer this agent now."""
        if self.breaker == "half_open":
            return self.in_flight == 0  # one trial step at a time
        return self.breaker == "closed" and self.in_flight < max_concurrency

    def why_unavailable(self, max_concurrency: int) -> str | None:
        """A reason for the trail when the agent is not offered."""
        if self.breaker == "half_open" and self.in_flight:
            return "circuit half-open: a trial step is already running"
        if self.breaker == "open":
            return f"circuit open after {self.consecutive_failures} consecutive failures"
        if self.in_flight >= max_concurrency:
            return f"at capacity ({self.in_flight}/{max_concurrency} steps in flight)"
        return None


class HealthRegistry:
    """Leases, outcomes and breakers over one SQLite file.

    Args:
        path: The database; ``None`` keeps it private to this registry (one
            process). Give a file to share load across processes.
        failure_threshold: Consecutive failures that open the breaker.
        cooldown: Seconds an open breaker waits before a half-open trial.
        window: How many recent outcomes the rates are computed over.
        lease_ttl: Seconds after which a lease is presumed dead.
        clock: Time source, replaceable in tests.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        failure_threshold: int = 3,
        cooldown: float = 30.0,
        window: int = 20,
        lease_ttl: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._path = Path(path) if path is not None else None
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.window = window
        self.lease_ttl = lease_ttl
        self._clock = clock

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """The connection, opened on first use, held by one thread at a time.

        Opening is deferred so that building a graph does no I/O; the lock
        lets worker threads share one connection without interleaving a
        transaction with another thread's statements.
        """
        with self._lock:
            if self._db is None:
                self._db = self._open()
            yield self._db

    def _open(self) -> sqlite3.Connection:
        if self._path is None:
            db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        else:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            ensure_wal(self._path)
            db = sqlite3.connect(str(self._path), timeout=30, isolation_level=None, check_same_thread=False)
            # Load and outcomes are advisory and rewritten every step: a commit
            # survives a crash of the process (WAL), it need not wait for the
            # disk (fsync) as a checkpoint must.
            db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        return db

    def close(self) -> None:
        """Close the database connection, if it was ever opened."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @overload
    def acquire(self, agent: str, *, lease: str | None = None) -> str: ...
    @overload
    def acquire(self, agent: str, *, limit: int | None, lease: str | None = None) -> str | None: ...
    def acquire(self, agent: str, *, limit: int | None = None, lease: str | None = None) -> str | None:
        """Record a step starting on ``agent``; returns the lease id.

        Args:
            agent: The agent taking the step.
            limit: Its ``max_concurrency``: with a limit, no lease is given
                while that many live leases are out, and ``None`` is returned.
                The count and the insert are one write transaction, which
                SQLite serialises across threads and processes, so two steps
                that saw the same free slot cannot both take it. The breaker
                is a limit too, read in the same transaction: none while it
                is open, one trial step while it is half-open.
            lease: The step's own id for its lease. A step already under way
                gets its slot back whatever the limit: one resumed after a
                pause (:meth:`forget` parked its lease), or one run again
                after its process died while its lease is still live.
                Handing such a step back would drop the answer it resumes
                with, or lock it out behind its own lease. (Once its lease
                has expired, or its process is known to be gone, which
                frees its slot for others, it counts like any step: see
                :meth:`holds`.)
        """
        lease = lease or uuid.uuid4().hex
        now = self._clock()
        with self._connection() as db:
            if limit is None:
                with _transaction(db):
                    db.execute("DELETE FROM parked WHERE id = ?", (lease,))
                    _take(db, lease, agent, now)
                return lease
            with _transaction(db):
                if db.execute("DELETE FROM parked WHERE id = ? AND agent = ?", (lease, agent)).rowcount:
                    _take(db, lease, agent, now)  # resumed after a pause
                    return lease
                if self._still_holds(db, lease, agent, now):
                    _take(db, lease, agent, now)  # its process died unseen (another host): its slot is still its own
                    return lease
                db.execute("DELETE FROM leases WHERE started <= ?", (now - KEPT_S,))
                db.execute("DELETE FROM lease_owners WHERE started <= ?", (now - KEPT_S,))
                db.execute("DELETE FROM parked WHERE since <= ?", (now - KEPT_S,))
                taken = self._in_flight(db, agent, now)
                breaker, _ = self._breaker(self._recent(db, agent), now)
                if taken >= {"closed": limit, "half_open": 1, "open": 0}[breaker]:
                    return None
                _take(db, lease, agent, now)
        return lease

    def _still_holds(self, db: sqlite3.Connection, lease: str, agent: str, now: float) -> bool:
        """Whether the step's own lease on ``agent`` still holds a slot: younger than the TTL, its process not gone.

        Only then may the step take it back over the limit. A slot freed
        because its process was seen gone may have gone to another step
        since, so taking it back regardless would overrun the limit.
        """
        own = db.execute(
            "SELECT l.started, o.host, o.pid FROM leases AS l LEFT JOIN lease_owners AS o"
            " ON o.id = l.id AND o.started = l.started WHERE l.id = ? AND l.agent = ?",
            (lease, agent),
        ).fetchone()
        return own is not None and own[0] > now - self.lease_ttl and not process_gone(own[1], own[2])

    def _in_flight(self, db: sqlite3.Connection, agent: str, now: float) -> int:
        """The leases holding ``agent``'s slots: younger than the TTL, and not of a process known to be gone.

        One query, and a liveness probe (a signal 0, no I/O) only for the
        leases of this host: those are the only ones whose process can be
        seen from here.
        """
        rows = db.execute(_LIVE, (agent, now - self.lease_ttl)).fetchall()
        return sum(1 for host, pid in rows if not process_gone(host, pid))

    def holds(self, lease: str) -> bool:
        """Whether a step has been here before under ``lease``: running, parked, or expired with its process.

        Such a step is under way (it may have acted), so it must not be
        handed back as not run: it waits for a slot instead.
        """
        with self._connection() as db:
            found = db.execute(
                "SELECT 1 FROM leases WHERE id = ? UNION ALL SELECT 1 FROM parked WHERE id = ?", (lease, lease)
            ).fetchone()
        return found is not None

    def release(self, lease: str, *, ok: bool | None) -> None:
        """Record the step's end and its outcome; releasing twice is a no-op.

        Args:
            lease: The step's lease.
            ok: Whether the step tells the agent works (``True``) or not
                (``False``: a failure, counted by the breaker). ``None``: it
                tells nothing either way (its tool server failed under it,
                say): its slot is freed, and no outcome is recorded, so the
                agent's error rate, latency and breaker stay as they were.
        """
        now = self._clock()
        with self._connection() as db, _transaction(db):
            row = db.execute("SELECT agent, started FROM leases WHERE id = ?", (lease,)).fetchone()
            db.execute("DELETE FROM lease_owners WHERE id = ?", (lease,))
            if row is None:
                return
            db.execute("DELETE FROM leases WHERE id = ?", (lease,))
            if ok is None:
                return
            db.execute(
                "INSERT INTO outcomes (agent, ok, latency, at) VALUES (?, ?, ?, ?)",
                (row[0], int(ok), now - row[1], now),
            )

    def forget(self, lease: str) -> None:
        """Park a lease without an outcome: the step paused, it did not end.

        A parked lease holds no capacity. It is kept (for :data:`KEPT_S`)
        so that the step, when resumed, gets its slot back even at the limit.
        """
        with self._connection() as db, _transaction(db):
            row = db.execute("SELECT agent FROM leases WHERE id = ?", (lease,)).fetchone()
            db.execute("DELETE FROM leases WHERE id = ?", (lease,))
            db.execute("DELETE FROM lease_owners WHERE id = ?", (lease,))  # a parked step has no process
            if row is not None:
                db.execute(
                    "INSERT OR REPLACE INTO parked (id, agent, since) VALUES (?, ?, ?)", (lease, row[0], self._clock())
                )

    def record(self, agent: str, *, ok: bool, latency: float = 0.0) -> None:
        """Record an outcome without a lease (for failures seen from outside)."""
        with self._connection() as db:
            db.execute(
                "INSERT INTO outcomes (agent, ok, latency, at) VALUES (?, ?, ?, ?)",
                (agent, int(ok), latency, self._clock()),
            )

    def health(self, agent: str) -> AgentHealth:
        """The current load and health of one agent."""
        now = self._clock()
        with self._connection() as db:
            in_flight = self._in_flight(db, agent, now)  # as a claim counts it, or routing would queue for nothing
            recent = self._recent(db, agent)
        breaker, streak = self._breaker(recent, now)
        errors = sum(1 for ok, _, _ in recent if not ok)
        return AgentHealth(
            agent=agent,
            in_flight=int(in_flight),
            error_rate=errors / len(recent) if recent else 0.0,
            latency_ms=1000 * sum(r[1] for r in recent) / len(recent) if recent else 0.0,
            breaker=breaker,
            consecutive_failures=streak,
        )

    def _recent(self, db: sqlite3.Connection, agent: str) -> list[tuple[int, float, float]]:
        """The agent's last ``window`` outcomes, newest first: ``(ok, latency, at)``."""
        return db.execute(
            "SELECT ok, latency, at FROM outcomes WHERE agent = ? ORDER BY seq DESC LIMIT ?", (agent, self.window)
        ).fetchall()

    def _breaker(self, recent: list[tuple[int, float, float]], now: float) -> tuple[Breaker, int]:
        """The breaker over ``recent`` outcomes (newest first), and the failures in a row it counts."""
        streak = 0
        for ok, _, _ in recent:
            if ok:
                break
            streak += 1
        if streak < self.failure_threshold:
            return "closed", streak
        return ("open" if now - recent[0][2] < self.cooldown else "half_open"), streak

    def snapshot(self, agents: Iterable[str]) -> dict[str, AgentHealth]:
        """Health of several agents at once."""
        return {agent: self.health(agent) for agent in agents}

    @overload
    async def aacquire(self, agent: str, *, lease: str | None = None) -> str: ...
    @overload
    async def aacquire(self, agent: str, *, limit: int | None, lease: str | None = None) -> str | None: ...
    async def aacquire(self, agent: str, *, limit: int | None = None, lease: str | None = None) -> str | None:
        """:meth:`acquire`, off the event loop."""
        return await asyncio.to_thread(lambda: self.acquire(agent, limit=limit, lease=lease))

    async def arelease(self, lease: str, *, ok: bool | None) -> None:
        """:meth:`release`, off the event loop."""
        await asyncio.to_thread(self.release, lease, ok=ok)

    async def aholds(self, lease: str) -> bool:
        """:meth:`holds`, off the event loop."""
        return await asyncio.to_thread(self.holds, lease)

    async def aforget(self, lease: str) -> None:
        """:meth:`forget`, off the event loop."""
        await asyncio.to_thread(self.forget, lease)

    async def ahealth(self, agent: str) -> AgentHealth:
        """:meth:`health`, off the event loop."""
        return await asyncio.to_thread(self.health, agent)

    async def asnapshot(self, agents: Iterable[str]) -> dict[str, AgentHealth]:
        """:meth:`snapshot`, off the event loop."""
        return await asyncio.to_thread(self.snapshot, list(agents))


def _take(db: sqlite3.Connection, lease: str, agent: str, now: float) -> None:
    """Write ``lease`` for ``agent`` as of ``now``, and this process as its owner.

    The owner row carries the lease's ``started``, so it is void once an
    earlier release re-takes or replaces the lease (it writes no owner).
    """
    db.execute("INSERT OR REPLACE INTO leases (id, agent, started) VALUES (?, ?, ?)", (lease, agent, now))
    db.execute(
        "INSERT OR REPLACE INTO lease_owners (id, host, pid, started) VALUES (?, ?, ?, ?)",
        (lease, HOST, os.getpid(), now),
    )


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
