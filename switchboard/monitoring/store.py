"""The telemetry database: one ``events`` table and its views, written off the event loop.

Recording must never slow a run or block its event loop, so writes go
through a queue to one background thread that owns the write connection and
inserts in batches. Readers (``trace``, the dashboard, tests) open their own
connections; SQLite's WAL mode lets them read while the writer writes.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import sqlite_utils

from switchboard.checkpoints.sqlite_wal import ensure_wal
from switchboard.errors import ConfigError
from switchboard.monitoring.events import TelemetryEvent
from switchboard.monitoring.views import VIEWS

log = logging.getLogger(__name__)

COLUMNS: dict[str, type] = {
    "id": str,
    "kind": str,
    "name": str,
    "run_id": str,
    "thread_id": str,
    "agent": str,
    "parent_id": str,
    "started": float,
    "ended": float,
    "duration_ms": float,
    "tokens_in": int,
    "tokens_out": int,
    "tokens_estimated": int,
    "cost": float,
    "outcome": str,
    "reason": str,
    "metadata": str,
}
_BATCH = 500
_GATHER_S = 0.05
"""After the first queued row, the writer waits this long and writes what came in as one batch:
one short transaction per burst instead of one per event, and no wake-up per event competing
with the event loop for the interpreter. A ``flush`` or ``close`` cuts the wait short: whoever
waits for the rows to be written must not also wait for more to come."""
_BUSY_S = 2.0
"""How long a write waits for another process's lock before the batch is held back for the next try.
A healthy writer holds the file for milliseconds; waiting longer only held up ``flush``."""
_RETRY_S = 1.0
"""With events held back and nothing new queued, the writer tries them again this often."""
_HELD = 50_000
"""At most this many events are held back while the file stays locked; older ones are dropped (logged)."""
_STOP = object()


_SQL_TYPES = {str: "TEXT", int: "INTEGER", float: "FLOAT"}
_NOT_NULL = {"kind", "name", "started"}
_INDEXES = (("thread_id", "started"), ("run_id",), ("agent", "kind", "started"))


class TelemetryUnavailable(ConfigError):
    """The telemetry database cannot be created or opened: locked, unwritable, or not a database.

    A kind of ``ConfigError`` (the fix is the file or ``SWITCHBOARD_TELEMETRY_DB``),
    apart so that runs can go on without telemetry (see ``open_monitor``)
    while a mistake in the monitoring configuration still stops them.
    """


def ensure_schema(path: str | Path) -> None:
    """Create the table, its indexes and the views (idempotent, and safe when processes race).

    Several workers may open the same database at once, so the schema is
    written in one ``BEGIN IMMEDIATE`` transaction (one writer at a time) and
    a view is only replaced when its definition changed. That transaction is
    only begun when something is missing: checking takes no lock, so a file
    another process holds a write lock on (a ``sqlite3`` shell, a backup)
    still opens at once instead of waiting out the busy timeout.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ensure_wal(path)
    # As sqlite_master keeps them, without trailing whitespace: else no view ever compared equal,
    # and every open dropped and rewrote them all.
    wanted = {name: f"CREATE VIEW [{name}] AS {sql.rstrip()}" for name, sql in VIEWS.items()}
    with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as conn:
        if _schema_is_current(conn, wanted):
            return
        columns = ", ".join(
            f"[{name}] {_SQL_TYPES[kind]}{' PRIMARY KEY' if name == 'id' else ''}"
            f"{' NOT NULL' if name in _NOT_NULL else ''}"
            for name, kind in COLUMNS.items()
        )
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"CREATE TABLE IF NOT EXISTS [events] ({columns})")
            for index in _INDEXES:
                conn.execute(f"CREATE INDEX IF NOT EXISTS [{_index_name(index)}] ON [events] ({', '.join(index)})")
            existing = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
            for name, sql in wanted.items():
                if existing.get(name) != sql:
                    conn.execute(f"DROP VIEW IF EXISTS [{name}]")
                    conn.execute(sql)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _schema_is_current(conn: sqlite3.Connection, views: dict[str, str]) -> bool:
    """Whether the table, every index and every view (as ``views`` defines it) are there: a read, no lock."""
    found = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index', 'view')"))
    return (
        "events" in found
        and all(_index_name(index) in found for index in _INDEXES)
        and all(found.get(name) == sql for name, sql in views.items())
    )


def _index_name(columns: tuple[str, ...]) -> str:
    return "idx_events_" + "_".join(columns)


class TelemetryStore:
    """Append events to a telemetry database from any thread, without blocking.

    Args:
        path: The SQLite file; created with its schema if missing.

    Raises:
        TelemetryUnavailable: The file cannot be created or opened.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            ensure_schema(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise TelemetryUnavailable(
                f"cannot open the telemetry database {self.path}: {exc}; "
                "set SWITCHBOARD_TELEMETRY_DB to a writable file, or to off"
            ) from exc
        self._queue: queue.Queue[Any] = queue.Queue()
        self._urgent = threading.Event()
        """Set while someone waits for the queue to be written (``flush``, ``close``): write without gathering."""
        self._waiting = 0
        self._waiting_guard = threading.Lock()
        self._gone_warned = False
        self._writer = threading.Thread(target=self._write_loop, name="switchboard-telemetry", daemon=True)
        self._writer.start()
        self._closed = False

    def record(self, event: TelemetryEvent) -> None:
        """Queue ``event`` for writing; returns at once."""
        if self._closed:
            log.warning("telemetry store %s is closed; dropped a %s event", self.path, event.kind)
            return
        self._queue.put(event.row())

    def flush(self) -> None:
        """Wait until every queued event is written, or held back (logged) while another process locks the file.

        The writer stops gathering a batch at once rather than after
        ``_GATHER_S``: a run's end waits for its telemetry here, inside the
        run's time.
        """
        with self._waiting_guard:
            self._waiting += 1
            self._urgent.set()
        try:
            self._queue.join()
        finally:
            with self._waiting_guard:
                self._waiting -= 1
                if not self._waiting:
                    self._urgent.clear()

    def close(self) -> None:
        """Write what is queued and stop the writer thread."""
        if self._closed:
            return
        self._closed = True
        with self._waiting_guard:  # with the count, or a flush ending between the two would clear the flag
            self._waiting += 1  # for good: nothing waits for more rows now
            self._urgent.set()
        self._queue.put(_STOP)
        self._writer.join()

    def rows(self, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Run a read query on a fresh connection (after a flush) and return dict rows."""
        self.flush()
        return read_rows(self.path, sql, params)

    def _write_loop(self) -> None:
        db, inode = self._connect()
        held: list[dict[str, Any]] = []
        stop = False
        while not stop:
            batch = self._next_batch(wait=not held)
            rows = [item for item in batch if item is not _STOP]
            stop = len(rows) < len(batch)
            try:
                db, inode = self._reopen_if_gone(db, inode)
                held = self._write(db, held, rows)
            except Exception:  # nothing may stop the writer thread, or flush() never returns
                log.exception("could not write %d telemetry events to %s", len(held) + len(rows), self.path)
                held = []
            finally:
                for _ in batch:
                    self._queue.task_done()
        if held:
            log.warning("telemetry store %s closed while locked; dropped %d events", self.path, len(held))
        db.conn.close()

    def _write(
        self, db: sqlite_utils.Database, held: list[dict[str, Any]], rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Write the events held back and the new ones; the ones to hold back now, warned of once per lock."""
        if not held and not rows:
            return []
        kept = _insert(db, held + rows, self.path)
        if kept and not held:
            log.warning("telemetry database %s is locked by another process; holding events back", self.path)
        elif held and not kept:
            log.warning("telemetry database %s is free again; wrote %d held events", self.path, len(held))
        return kept

    def _next_batch(self, *, wait: bool) -> list[Any]:
        """The next burst of queued rows; with events held back, an empty one after ``_RETRY_S`` to try them again."""
        try:
            batch = [self._queue.get(timeout=None if wait else _RETRY_S)]
        except queue.Empty:
            return []
        self._urgent.wait(_GATHER_S)
        while len(batch) < _BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _connect(self) -> tuple[sqlite_utils.Database, int | None]:
        conn = sqlite3.connect(self.path, timeout=_BUSY_S)
        # WAL with synchronous=NORMAL: a written batch outlives a killed process (it is in the log the
        # next reader replays); only a power cut may take the last batches. Telemetry is a record for
        # operators, not the audit trail (which stays synchronous=FULL): no fsync per batch.
        with contextlib.suppress(sqlite3.Error):  # an unreadable file fails at the first write, reported there
            conn.execute("PRAGMA synchronous=NORMAL")
        return sqlite_utils.Database(conn), _inode(self.path)

    def _reopen_if_gone(self, db: sqlite_utils.Database, inode: int | None) -> tuple[sqlite_utils.Database, int | None]:
        """The writer's database, made again if the file was deleted or replaced since it was opened.

        A clean-up script or a retention job may delete the file under a
        long-lived process; its open connection would go on writing into the
        unlinked file, where nobody can read it. One ``stat`` per batch finds out.
        """
        now = _inode(self.path)
        if now is not None and now == inode:
            return db, inode
        if now is None and not self.path.parent.is_dir():
            # The whole directory went (a temporary home, a reset): not a file to restore behind its owner's back.
            if not self._gone_warned:
                log.warning("telemetry directory %s was removed; this process records no more events", self.path.parent)
                self._gone_warned = True
            return db, inode
        db.conn.close()
        if now is None:  # a new file must not pick up the old one's write-ahead log: SQLite would apply it
            for leftover in (self.path.with_name(self.path.name + suffix) for suffix in ("-wal", "-shm")):
                leftover.unlink(missing_ok=True)
        ensure_schema(self.path)
        log.warning("telemetry database %s was deleted or replaced while in use; made again", self.path)
        return self._connect()


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _insert(db: sqlite_utils.Database, rows: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """Write a batch; returns the rows to try again with the next one (a locked file's).

    Nothing may stop the writer thread, or every later event is lost and
    ``flush`` never returns. A file another process holds locked past
    ``_BUSY_S`` keeps the rows back (the newest ``_HELD`` of them) for the next
    try: a lock is usually short, and waiting it out here would hold up every
    ``flush``. A full disk loses the batch (logged). A row SQLite cannot take
    (text with undecodable bytes, a value of the wrong type) loses only
    itself: the batch is written again row by row.
    """
    try:
        db.table("events").insert_all(rows, replace=True)
        return []
    except sqlite3.OperationalError as exc:  # a full disk or a locked file: no row would fare better
        if "locked" in str(exc) or "busy" in str(exc):
            kept = rows[-_HELD:]
            if len(kept) < len(rows):
                log.error("telemetry database %s is locked; dropped %d older events", path, len(rows) - len(kept))
            return kept
        log.exception("could not write %d telemetry events to %s", len(rows), path)
        return []
    except Exception:  # one row SQLite cannot take (undecodable text, a wrong type): write the others
        pass
    for row in rows:
        try:
            db.table("events").insert(row, replace=True)
        except Exception:
            log.exception("could not write a %s telemetry event to %s; skipped", row.get("kind"), path)
    return []


def read_rows(path: str | Path, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of a read-only query on the telemetry database at ``path``."""
    with closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def iter_events(path: str | Path, thread_id: str) -> Iterator[dict[str, Any]]:
    """Every event of a thread, in order."""
    yield from read_rows(path, "SELECT * FROM events WHERE thread_id = ? ORDER BY started", (thread_id,))
