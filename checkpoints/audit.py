"""The audit trail: one append-only, hash-chained log of what the graph decided.

Every routing decision, tool call, policy decision, approval (given or
refused) and handoff is one entry. Each entry's hash covers its own fields and
the hash of the entry before it, both in the whole log (``prev``) and in its
thread (``thread_prev``), so changing, deleting or reordering an entry breaks
a link that :meth:`AuditLog.verify` finds and names.

A chain alone cannot show that its *tail* was cut off, so a head record per
scope (the whole log, and each thread) holds the last sequence number, hash
and entry count. With an audit key (``$SWITCHBOARD_HOME/keys/audit.key``,
outside the database) the head records carry an HMAC, so someone who can
write the database but not read the key can neither truncate the log nor
rewrite it consistently. What stays undetectable without an outside anchor:
replacing the whole database (and heads) by an older copy of itself. For
that, record ``switchboard audit head`` elsewhere and pass it back as an
anchor to ``verify``.

Appends are idempotent by a caller-supplied event id: a node that runs again
after a resume writes nothing new for the events it already recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from switchboard.checkpoints.sqlite_wal import ensure_wal
from switchboard.errors import AuditError
from switchboard.policies.approvals import canonical_json

AuditKind = Literal[
    "routing",
    "tool_call",
    "policy",
    "approval",
    "approval_refused",
    "approval_consumed",
    "handoff",
    "handoff_refused",
    "guardian",
    "budget",
    "escalation",
]
KINDS: frozenset[str] = frozenset(AuditKind.__args__)  # type: ignore[attr-defined]
GENESIS = "0" * 64
"""The ``prev`` of the first entry of the log, and of each thread."""
ALL = "*"
"""Scope of the whole log's head record."""

Event = tuple[str, str, AuditKind, Mapping[str, Any]]
"""One event to append: ``(event_id, thread, kind, payload)``."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS [audit_log] (
   [seq] INTEGER PRIMARY KEY, [event_id] TEXT NOT NULL, [thread] TEXT NOT NULL, [kind] TEXT NOT NULL,
   [at] TEXT NOT NULL, [payload] TEXT NOT NULL, [prev] TEXT NOT NULL, [thread_prev] TEXT NOT NULL,
   [hash] TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS [idx_audit_log_event_id] ON [audit_log] ([event_id]);
CREATE INDEX IF NOT EXISTS [idx_audit_log_thread_seq] ON [audit_log] ([thread], [seq]);
CREATE INDEX IF NOT EXISTS [idx_audit_log_policy_key] ON [audit_log] (json_extract([payload], '$.key'))
   WHERE [kind] = 'policy';
CREATE TABLE IF NOT EXISTS [audit_heads] (
   [scope] TEXT PRIMARY KEY, [seq] INTEGER, [hash] TEXT, [count] INTEGER, [mac] TEXT
);
"""
_KEY_OF = "json_extract(payload, '$.key')"
"""A ``policy`` entry's idempotency key (indexed: :meth:`AuditLog.seen_keys`)."""
_INSERT = (
    "insert into audit_log (seq, event_id, thread, kind, at, payload, prev, thread_prev, hash)"
    " values (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_HEAD = (
    "insert into audit_heads (scope, seq, hash, count, mac) values (?, ?, ?, ?, ?)"
    " on conflict(scope) do update set seq = excluded.seq, hash = excluded.hash, count = excluded.count,"
    " mac = excluded.mac"
)

Problem = Literal["changed", "missing", "reordered", "truncated", "head", "anchor"]


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the log."""

    seq: int
    """Position in the whole log, from 1, without gaps."""
    event_id: str
    """The caller's id for the event; appending it again is a no-op."""
    thread: str
    kind: str
    at: str
    """ISO time the entry was written (UTC)."""
    payload: Mapping[str, Any]
    prev: str
    """Hash of entry ``seq - 1`` (``GENESIS`` for the first)."""
    thread_prev: str
    """Hash of this thread's previous entry (``GENESIS`` for its first)."""
    hash: str

    @property
    def timestamp(self) -> float:
        """``at`` as Unix seconds: for a re-run node, when the event first happened."""
        return datetime.fromisoformat(self.at).timestamp()


@dataclass(frozen=True)
class AuditProblem:
    """The first thing ``verify`` found wrong."""

    problem: Problem
    seq: int | None
    """The first bad entry, where one can be named."""
    event_id: str | None
    message: str


@dataclass(frozen=True)
class AuditReport:
    """The result of :meth:`AuditLog.verify`."""

    checked: int
    """Entries checked."""
    thread: str | None
    first_bad: AuditProblem | None = None
    keyed: bool = False
    """Whether head records were checked against the audit key."""

    @property
    def ok(self) -> bool:
        """No tampering found."""
        return self.first_bad is None


def event_id(*parts: object) -> str:
    """A stable event id from what identifies an event (thread, node namespace, call id, kind).

    The same parts give the same id when a node re-runs after a resume, so
    :meth:`AuditLog.append` records the event once.
    """
    return hashlib.sha256(canonical_json([str(p) for p in parts]).encode()).hexdigest()[:32]


def audit_key(data_dir: Path) -> bytes:
    """The audit key in ``data_dir/keys/audit.key``, made (mode 0600) on first use."""
    file = data_dir / "keys" / "audit.key"
    try:
        if not file.exists():
            file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
        return bytes.fromhex(file.read_text().strip())
    except FileExistsError:
        return bytes.fromhex(file.read_text().strip())
    except (OSError, ValueError) as exc:
        raise AuditError(f"cannot read or create the audit key {file}: {exc}; check its permissions") from exc


def open_audit(data_dir: Path, *, clock: Callable[[], float] | None = None) -> AuditLog:
    """The data directory's audit log (``audit.sqlite``), keyed with its audit key (``clock``: see AuditLog)."""
    return AuditLog(data_dir / "audit.sqlite", key=audit_key(data_dir), clock=clock)


class AuditLog:
    """The append-only, hash-chained log in one SQLite file."""

    def __init__(self, path: str | Path, *, key: bytes | None = None, clock: Callable[[], float] | None = None) -> None:
        """Open (and create) the log.

        Args:
            path: The SQLite file.
            key: HMAC key for head records; without it truncation is detected
                only against an honest head record (see module doc).
            clock: Unix seconds now; ``time.time`` by default. The log is the
                graph's clock of record (when a question was asked, when an
                answer arrived, whether a timeout expired), so tests inject
                one here instead of sleeping, and a resume value can never
                bring its own.
        """
        self.path = Path(path)
        self._key = key
        self.clock = clock or time.time
        self._lock = threading.RLock()
        """One connection serves every thread (parallel branches append through
        ``asyncio.to_thread``); a transaction must not interleave with another's."""
        self._readers = threading.local()
        self._opened: list[sqlite3.Connection] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Write-ahead log, still synchronous=FULL: every append is on disk when it returns, with one
            # sync per commit instead of the rollback journal's several (the cost of each audited event).
            ensure_wal(self.path)
            self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise AuditError(f"cannot open the audit log {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the database connections."""
        self._conn.close()
        for reader in self._opened:
            reader.close()
        self._opened.clear()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # Writing -----------------------------------------------------------------------

    def append(
        self, event_id: str, thread: str, kind: AuditKind, payload: Mapping[str, Any], *, at: datetime | None = None
    ) -> AuditEntry:
        """Record one event, once.

        Args:
            event_id: Stable id of the event (for a node: thread, node task
                and position), so a re-run writes nothing new.
            thread: The thread it belongs to.
            kind: What it is.
            payload: JSON-able details.
            at: When; defaults to now.

        Returns:
            The entry written, or the one already recorded under ``event_id``.
        """
        return self.append_many([(event_id, thread, kind, payload)], at=at)[0]

    def append_many(self, events: Sequence[Event], *, at: datetime | None = None) -> list[AuditEntry]:
        """Record several events, each once, in order, in one transaction (one sync to disk).

        The chain is the same as appending them one by one; only the cost
        differs. Either all are recorded or, on an error, none.

        Args:
            events: ``(event_id, thread, kind, payload)`` each, as for :meth:`append`.
            at: When; defaults to now.

        Returns:
            Per event, the entry written or the one already recorded under its id.
        """
        for _, _, kind, _ in events:
            if kind not in KINDS:
                raise AuditError(f"unknown audit kind {kind!r}; use one of {', '.join(sorted(KINDS))}")
        texts = [canonical_json(json.loads(json.dumps(dict(payload), default=str))) for *_, payload in events]
        stamp = (at or datetime.fromtimestamp(self.clock(), UTC)).astimezone(UTC).isoformat(timespec="microseconds")
        written: list[AuditEntry] = []
        try:
            with self._transaction():
                heads: dict[str, tuple[int, str, int]] = {}
                found: set[str] = set()
                for (event, thread, kind, _), text in zip(events, texts, strict=True):
                    if thread == ALL:
                        raise AuditError(f"{ALL!r} names the whole log's head, not a thread; use another thread id")
                    existing = self._by_event(event)
                    if existing is not None:
                        if (existing.thread, existing.kind) != (thread, kind):
                            raise AuditError(self._forged(
                                f"entry {existing.seq} holds the id of thread {thread!r}'s {kind} event, but is "
                                f"a {existing.kind} entry of thread {existing.thread!r}"
                            ))  # fmt: skip
                        found.add(thread)
                        written.append(existing)
                        continue
                    seq, prev, total = heads.get(ALL) or self._sound_head(ALL)
                    _, thread_prev, in_thread = heads.get(thread) or self._sound_head(thread)
                    seq += 1
                    digest = entry_hash(seq, event, thread, kind, stamp, text, prev, thread_prev)
                    self._conn.execute(_INSERT, (seq, event, thread, kind, stamp, text, prev, thread_prev, digest))
                    heads[ALL] = (seq, digest, total + 1)
                    heads[thread] = (seq, digest, in_thread + 1)
                    written.append(AuditEntry(seq, event, thread, kind, stamp, json.loads(text), prev, thread_prev,
                                              digest))  # fmt: skip
                for scope, (seq, digest, count) in heads.items():
                    self._conn.execute(_UPSERT_HEAD, (scope, seq, digest, count, self._mac(scope, seq, digest, count)))
                for thread in found:  # a re-run's events, already recorded: are they of the thread's own chain?
                    self._verified_rows(thread)
        except sqlite3.Error as exc:
            raise AuditError(f"cannot write to the audit log {self.path}: {exc}") from exc
        return written

    def _mac(self, scope: str, seq: int, digest: str, count: int) -> str:
        if self._key is None:
            return ""
        message = canonical_json([scope, seq, digest, count]).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    # Reading -----------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self._conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _by_event(self, event_id: str) -> AuditEntry | None:
        rows = self._rows("select * from audit_log where event_id = ?", [event_id])
        return _entry(rows[0]) if rows else None

    def _head(self, scope: str) -> dict[str, Any] | None:
        rows = self._rows("select * from audit_heads where scope = ?", [scope])
        return rows[0] if rows else None

    def _sound_head(self, scope: str) -> tuple[int, str, int]:
        """``(seq, hash, count)`` of a scope's head, checked before an append extends and signs it.

        ``(0, GENESIS, 0)`` before the scope's first entry. The head must
        carry its HMAC (with a key) and name the scope's last entry: an
        append that extended a head moved by someone without the key would
        sign their rows, and ``verify`` would then pass a rewritten log.

        Raises:
            AuditError: The head or the scope's last entry was changed
                outside the log; nothing is appended until it is looked into.
        """
        row = self._conn.execute("select seq, hash, count, mac from audit_heads where scope = ?", [scope]).fetchone()
        if scope == ALL:
            last = self._conn.execute("select seq, hash from audit_log order by seq desc limit 1").fetchone()
            first = self._conn.execute("select min(seq) from audit_log").fetchone()[0]
            if first is not None and first < 1:
                raise AuditError(self._forged(f"entry {first} is outside the log (entries are numbered from 1)"))
        else:
            last = self._conn.execute(
                "select seq, hash from audit_log where thread = ? order by seq desc limit 1", [scope]
            ).fetchone()
        if row is None and last is None:
            return (0, GENESIS, 0)
        name = "the log" if scope == ALL else f"thread {scope!r}"
        if row is None:
            problem = f"the head record of {name} is missing"
        elif self._key is not None and row[3] != self._mac(scope, row[0], row[1], row[2]):
            problem = f"the head record of {name} was rewritten without the audit key"
        elif last is None or (row[0], row[1]) != (last[0], last[1]):
            problem = f"{name} does not end where its head record says (entry {row[0]})"
        else:
            return (row[0], row[1], row[2])
        raise AuditError(self._forged(problem))

    def _forged(self, problem: str) -> str:
        return (
            f"the audit log {self.path} was changed outside Switchboard: {problem}. Nothing more is recorded "
            "(and so nothing runs) until it is looked into: `switchboard audit verify` names the first bad entry"
        )

    def seen_keys(self, keys: Iterable[str]) -> frozenset[str]:
        """Which idempotency keys a ``policy`` entry already names (see :mod:`~switchboard.agents.guard`).

        The guard records a call's decision, with its key, before the call
        runs, so a key not named here has never been sent: the call cannot
        have run before. A named key is no proof that it was sent (a denied
        call's decision names its key too); the guard tells that from the
        thread's verified entries (``switchboard.agents.guard.sent_keys``).
        Read through the calling thread's own read-only connection (WAL
        readers never wait for a writer, nor for this log's lock); it is
        still disk I/O, so call it off the event loop.
        """
        wanted = sorted(set(keys))
        if not wanted:
            return frozenset()
        marks = ", ".join("?" * len(wanted))
        sql = f"select distinct {_KEY_OF} from audit_log where kind = 'policy' and {_KEY_OF} in ({marks})"
        try:
            rows = self._reader().execute(sql, wanted).fetchall()
        except sqlite3.Error as exc:
            raise AuditError(f"cannot read the audit log {self.path}: {exc}") from exc
        return frozenset(str(row[0]) for row in rows)

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        if conn is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
            self._readers.conn = conn
            self._opened.append(conn)
        return conn

    def entries(self, thread: str | None = None) -> list[AuditEntry]:
        """Entries in order, of one thread or of the whole log."""
        with self._lock:
            if thread is None:
                rows = self._rows("select * from audit_log order by seq")
            else:
                rows = self._rows("select * from audit_log where thread = ? order by seq", [thread])
        return [_entry(row) for row in rows]

    def head(self, thread: str | None = None) -> tuple[int, str] | None:
        """The last ``(seq, hash)`` of the log or a thread: an anchor to keep elsewhere."""
        with self._lock:
            row = self._head(thread or ALL)
        return None if row is None else (row["seq"], row["hash"])

    def trusted_entries(self, thread: str) -> list[AuditEntry]:
        """A thread's entries, once its chain and head verify: what the graph may decide on.

        The graph reads its own past decisions back (an answer that stands,
        the approvals already used up); read unchecked, a row inserted by
        someone without the audit key would count as one of them.

        Raises:
            AuditError: The thread's entries do not verify; the message names
                the first bad one.
        """
        with self._lock:
            rows = self._verified_rows(thread)
        return [_entry(row) for row in rows]

    def _verified_rows(self, thread: str) -> list[dict[str, Any]]:
        """A thread's rows, in order, once its chain and head verify (call under ``self._lock``).

        Raises:
            AuditError: They do not; the message names the first bad entry.
        """
        from switchboard.checkpoints._audit_verify import verify_rows

        self._sound_head(ALL)  # the log ends where its signed head says
        gap = self._gap()
        if gap is not None:
            raise AuditError(self._forged(gap))
        rows = self._rows("select * from audit_log where thread = ? order by seq", [thread])
        heads = {row["scope"]: row for row in self._rows("select * from audit_heads where scope = ?", [thread])}
        problem = verify_rows(rows, heads, thread=thread, mac=self._mac if self._key else None, anchor=None)
        if problem is not None:
            raise AuditError(
                f"the audit trail of thread {thread!r} in {self.path} does not verify ({problem.message}, "
                f"entry {problem.seq}); nothing is decided on it until it is looked into: `switchboard audit verify`"
            )
        return rows

    def consumed_approvals(self, thread: str) -> frozenset[str]:
        """Token ids of approvals used up in ``thread`` (``approval_consumed`` entries, verified first)."""
        entries = self.trusted_entries(thread)
        return frozenset(str(e.payload.get("token_id")) for e in entries if e.kind == "approval_consumed")

    def _gap(self) -> str | None:
        """What is missing from the whole log, told cheaply: a thread's chain alone cannot show it.

        A thread rolled back (its later entries deleted, an older signed head
        of its own put back) still verifies on its own chain. The log's
        entries are numbered 1..N without gaps (and end where its signed
        head says, which the caller checks), so deleted entries show as a gap.
        """
        count, first, last = self._conn.execute("select count(*), min(seq), max(seq) from audit_log").fetchone()
        if count and (first != 1 or last != count):
            return f"entries are missing from the log: {count} entries are numbered {first} to {last}"
        return None

    def _thread_scope_gap(self) -> str | None:
        """For ``verify(thread)``: whether the whole log still ends at its head and has no gap."""
        try:
            self._sound_head(ALL)
        except AuditError as exc:
            return str(exc)
        return self._gap()

    # Verifying ---------------------------------------------------------------------

    def verify(self, thread: str | None = None, *, anchor: tuple[int, str] | None = None) -> AuditReport:
        """Check the chain and its head records; name the first bad entry.

        Args:
            thread: Check only this thread's chain and head; ``None`` checks
                the whole log, every thread's links and every head.
            anchor: ``(seq, hash)`` recorded earlier with :meth:`head`; the
                entry at ``seq`` must still have that hash.
        """
        from switchboard.checkpoints._audit_verify import verify_rows

        with self._lock:
            if thread is None:
                rows = self._rows("select * from audit_log order by seq")
            else:
                rows = self._rows("select * from audit_log where thread = ? order by seq", [thread])
            heads = {row["scope"]: row for row in self._rows("select * from audit_heads")}
            gap = self._thread_scope_gap() if thread is not None else None  # the whole log's check finds its own
        problem = verify_rows(rows, heads, thread=thread, mac=self._mac if self._key else None, anchor=anchor)
        if problem is None and gap is not None:
            problem = AuditProblem("missing", None, None, gap)
        return AuditReport(len(rows), thread, problem, keyed=self._key is not None)


def entry_hash(
    seq: int, event_id: str, thread: str, kind: str, at: str, payload: str, prev: str, thread_prev: str
) -> str:
    """sha256 over an entry's canonical fields, its links included."""
    fields = [seq, event_id, thread, kind, at, payload, prev, thread_prev]
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def _entry(row: Mapping[str, Any]) -> AuditEntry:
    try:
        payload = json.loads(row["payload"])
    except (TypeError, ValueError):
        payload = {"unreadable": str(row["payload"])}
    return AuditEntry(
        row["seq"], row["event_id"], row["thread"], row["kind"], row["at"], payload,
        row["prev"], row["thread_prev"], row["hash"],
    )  # fmt: skip
