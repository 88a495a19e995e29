"""The telemetry database: one ``events`` table and its views, written off the event loop.

Recording must never slow a run or block its event loop, so writes go
through a queue to one background thread that owns the write connection and
inserts in batches. Readers (``trace``, the dashboard, tests) open their own
connections; SQLite's WAL mode lets them read while the writer writes.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
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
with the event loop for the interpreter."""
_STOP = object()


_SQL_TYPES = {str: "TEXT", int: "INTEGER", float: "FLOAT"}
_NOT_NULL = {"kind", "name", "started"}
_INDEXES = (("thread_id", "started"), ("run_id",), ("agent", "kind", "started"))


def ensure_schema(path: str | Path) -> None:
    """Create the table, its indexes and the views (idempotent, and safe when processes race).

    Several workers may open the same database at once, so the schema is
    written in one ``BEGIN IMMEDIATE`` transaction (one writer at a time) and
    a view is only replaced when its definition changed.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ensure_wal(path)
    with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as conn:
        columns = ", ".join(
            f"[{name}] {_SQL_TYPES[kind]}{' PRIMARY KEY' if name == 'id' else ''}"
            f"{' NOT NULL' if name in _NOT_NULL else ''}"
            for name, kind in COLUMNS.items()
        )
        wanted = {name: f"CREATE VIEW [{name}] AS {sql}" for name, sql in VIEWS.items()}
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"CREATE TABLE IF NOT EXISTS [events] ({columns})")
            for index in _INDEXES:
                name = "idx_events_" + "_".join(index)
                conn.execute(f"CREATE INDEX IF NOT EXISTS [{name}] ON [events] ({', '.join(index)})")
            existing = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
            for name, sql in wanted.items():
                if existing.get(name) != sql:
                    conn.execute(f"DROP VIEW IF EXISTS [{name}]")
                    conn.execute(sql)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


class TelemetryStore:
    """Append events to a telemetry database from any thread, without blocking.

    Args:
        path: The SQLite file; created with its schema if missing.

    Raises:
        ConfigError: The file cannot be created or opened.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            ensure_schema(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"cannot open the telemetry database {self.path}: {exc}; "
                "set SWITCHBOARD_TELEMETRY_DB to a writable file, or to off"
            ) from exc
        self._queue: queue.Queue[Any] = queue.Queue()
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
        """Wait until every queued event is on disk."""
        self._queue.join()

    def close(self) -> None:
        """Write what is queued and stop the writer thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._writer.join()

    def rows(self, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Run a read query on a fresh connection (after a flush) and return dict rows."""
        self.flush()
        return read_rows(self.path, sql, params)

    def _write_loop(self) -> None:
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            db = sqlite_utils.Database(conn)
            stop = False
            while not stop:
                batch = [self._queue.get()]
                time.sleep(_GATHER_S)
                while len(batch) < _BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                rows = [item for item in batch if item is not _STOP]
                stop = len(rows) < len(batch)
                try:
                    if rows:
                        _insert(db, rows, self.path)
                finally:
                    for _ in batch:
                        self._queue.task_done()


def _insert(db: sqlite_utils.Database, rows: list[dict[str, Any]], path: Path) -> None:
    """Write a batch; nothing may stop the writer thread, or every later event is lost and ``flush`` never returns.

    A full disk or a locked file loses the batch (logged). A row SQLite
    cannot take (text with undecodable bytes, a value of the wrong type)
    loses only itself: the batch is written again row by row.
    """
    try:
        db.table("events").insert_all(rows, replace=True)
        return
    except sqlite3.OperationalError:  # a full disk or a locked file: no row would fare better; log and go on
        log.exception("could not write %d telemetry events to %s", len(rows), path)
        return
    except Exception:  # one row SQLite cannot take (undecodable text, a wrong type): write the others
        pass
    for row in rows:
        try:
            db.table("events").insert(row, replace=True)
        except Exception:
            log.exception("could not write a %s telemetry event to %s; skipped", row.get("kind"), path)


def read_rows(path: str | Path, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of a read-only query on the telemetry database at ``path``."""
    with closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def iter_events(path: str | Path, thread_id: str) -> Iterator[dict[str, Any]]:
    """Every event of a thread, in order."""
    yield from read_rows(path, "SELECT * FROM events WHERE thread_id = ? ORDER BY started", (thread_id,))
