"""The telemetry database's schema: created once, safely, whoever opens it first."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from switchboard.monitoring.events import TelemetryEvent
from switchboard.monitoring.store import TelemetryStore, ensure_schema, read_rows
from switchboard.monitoring.views import VIEWS


def _open_many(path: str) -> int:
    for _ in range(20):
        ensure_schema(path)
    return 0


def test_workers_opening_one_database_at_once_do_not_collide(tmp_path: Path) -> None:
    path = str(tmp_path / "telemetry.sqlite")
    with ProcessPoolExecutor(max_workers=4) as pool:  # four workers, as `switchboard worker` runs them
        assert list(pool.map(_open_many, [path] * 4)) == [0, 0, 0, 0]
    names = {r["name"] for r in read_rows(path, "SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert names == set(VIEWS)


def test_a_changed_view_is_replaced_and_rows_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.sqlite"
    store = TelemetryStore(path)
    store.record(TelemetryEvent(kind="run", name="r", thread_id="t", outcome="completed"))
    store.close()
    with sqlite3.connect(path) as conn:  # an older release's definition of a view
        conn.execute("DROP VIEW alerts")
        conn.execute("CREATE VIEW alerts AS SELECT 1 AS old")
    ensure_schema(path)
    assert "old" not in {r["name"] for r in read_rows(path, "SELECT name FROM pragma_table_info('alerts')")}
    assert [r["name"] for r in read_rows(path, "SELECT name FROM events")] == ["r"]


def test_a_row_the_database_cannot_take_is_skipped_and_the_writer_goes_on(tmp_path: Path) -> None:
    """A task with undecodable bytes killed the writer thread: its telemetry was lost and flush() hung forever."""
    path = tmp_path / "telemetry.sqlite"
    store = TelemetryStore(path)
    store.record(TelemetryEvent(kind="run", name="bad \udcff", thread_id="t1", outcome="completed"))
    store.record(TelemetryEvent(kind="run", name="good", thread_id="t2", outcome="completed"))
    done = threading.Thread(target=store.flush, daemon=True)
    done.start()
    done.join(10)
    assert not done.is_alive()  # flush returned
    store.close()
    assert [r["name"] for r in read_rows(path, "SELECT name FROM events")] == ["good"]
