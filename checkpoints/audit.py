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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Write-ahead log, still synchronous=FULL: every append is on disk when it returns, with one
            # sync per commit instead of the rollback journal's several (the cost of each audited event).
            ensure_wal(self.path)
            self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            self._conn.execute("PRAGMA synchronous=FULL")
            self._db = sqlite_utils.Database(self._conn)
            self._create()
        except sqlite3.Error as exc:
            raise AuditError(f"cannot open the audit log {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def _create(self) -> None:
        if "audit_log" not in self._db.table_names():
            self._db["audit_log"].create(  # type: ignore[union-attr]
                {
                    "seq": int,
                    "event_id": str,
                    "thread": str,
                    "kind": str,
                    "at": str,
                    "payload": str,
                    "prev": str,
                    "thread_prev": str,
                    "hash": str,
                },
                pk="seq",
                not_null={"event_id", "thread", "kind", "at", "payload", "prev", "thread_prev", "hash"},
                if_not_exists=True,
            )
            self._db["audit_log"].create_index(["event_id"], unique=True, if_not_exists=True)  # type: ignore[union-attr]
            self._db["audit_log"].create_index(["thread", "seq"], if_not_exists=True)  # type: ignore[union-attr]
        if "audit_heads" not in self._db.table_names():
            self._db["audit_heads"].create(  # type: ignore[union-attr]
                {"scope": str, "seq": int, "hash": str, "count": int, "mac": str}, pk="scope", if_not_exists=True
            )

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
        if kind not in KINDS:
            raise AuditError(f"unknown audit kind {kind!r}; use one of {', '.join(sorted(KINDS))}")
        text = canonical_json(json.loads(json.dumps(dict(payload), default=str)))
        stamp = (at or datetime.fromtimestamp(self.clock(), UTC)).astimezone(UTC).isoformat(timespec="microseconds")
        try:
            with self._transaction():
                existing = self._by_event(event_id)
                if existing is not None:
                    return existing
                head_all = self._head(ALL)
                head_thread = self._head(thread)
                seq = (head_all["seq"] if head_all else 0) + 1
                prev = head_all["hash"] if head_all else GENESIS
                thread_prev = head_thread["hash"] if head_thread else GENESIS
                digest = entry_hash(seq, event_id, thread, kind, stamp, text, prev, thread_prev)
                self._db["audit_log"].insert(  # type: ignore[union-attr]
                    {
                        "seq": seq,
                        "event_id": event_id,
                        "thread": thread,
                        "kind": kind,
                        "at": stamp,
                        "payload": text,
                        "prev": prev,
                        "thread_prev": thread_prev,
                        "hash": digest,
                    }
                )
                self._set_head(ALL, seq, digest, (head_all["count"] if head_all else 0) + 1)
                self._set_head(thread, seq, digest, (head_thread["count"] if head_thread else 0) + 1)
        except sqlite3.Error as exc:
            raise AuditError(f"cannot write to the audit log {self.path}: {exc}") from exc
        return AuditEntry(seq, event_id, thread, kind, stamp, json.loads(text), prev, thread_prev, digest)

    def _set_head(self, scope: str, seq: int, digest: str, count: int) -> None:
        self._db["audit_heads"].upsert(  # type: ignore[union-attr]
            {"scope": scope, "seq": seq, "hash": digest, "count": count, "mac": self._mac(scope, seq, digest, count)},
            pk="scope",
        )

    def _mac(self, scope: str, seq: int, digest: str, count: int) -> str:
        if self._key is None:
            return ""
        message = canonical_json([scope, seq, digest, count]).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    # Reading -----------------------------------------------------------------------

    def _by_event(self, event_id: str) -> AuditEntry | None:
        rows = list(self._db.query("select * from audit_log where event_id = ?", [event_id]))
        return _entry(rows[0]) if rows else None

    def _head(self, scope: str) -> dict[str, Any] | None:
        rows = list(self._db.query("select * from audit_heads where scope = ?", [scope]))
        return rows[0] if rows else None

    def entries(self, thread: str | None = None) -> list[AuditEntry]:
        """Entries in order, of one thread or of the whole log."""
        with self._lock:
            if thread is None:
                rows = list(self._db.query("select * from audit_log order by seq"))
            else:
                rows = list(self._db.query("select * from audit_log where thread = ? order by seq", [thread]))
        return [_entry(row) for row in rows]

    def head(self, thread: str | None = None) -> tuple[int, str] | None:
        """The last ``(seq, hash)`` of the log or a thread: an anchor to keep elsewhere."""
        with self._lock:
            row = self._head(thread or ALL)
        return None if row is None else (row["seq"], row["hash"])

    def consumed_approvals(self, thread: str) -> frozenset[str]:
        """Token ids of approvals used up in ``thread`` (``approval_consumed`` entries)."""
        return frozenset(str(e.payload.get("token_id")) for e in self.entries(thread) if e.kind == "approval_consumed")

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
                rows = list(self._db.query("select * from audit_log order by seq"))
            else:
                rows = list(self._db.query("select * from audit_log where thread = ? order by seq", [thread]))
            heads = {row["scope"]: row for row in self._db.query("select * from audit_heads")}
        problem = verify_rows(rows, heads, thread=thread, mac=self._mac if self._key else None, anchor=anchor)
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
