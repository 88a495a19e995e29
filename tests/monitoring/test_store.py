"""The telemetry database's schema: created once, safely, whoever opens it first."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from switchboard.monitoring.events import TelemetryEvent
from switchboard.monitoring.store import TelemetryStore, ensure_schema, read_rows
from switchboard.monitoring.views import VIEWS


def _returns(call: Callable[[], None], seconds: float = 20) -> bool:
    """Whether ``call``, on a thread of its own, returned within ``seconds``: a hang fails one test, not the suite."""
    done = threading.Thread(target=call, daemon=True)
    done.start()
    done.join(seconds)
    return not done.is_alive()


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


def _holding_the_write_lock(path: Path) -> sqlite3.Connection:
    """Another process's open write transaction (a `sqlite3` shell, a backup), as the tester held it."""
    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    lock.execute("INSERT INTO events (id, kind, name, started) VALUES ('x', 'run', 'x', 0)")
    return lock


def test_an_existing_schema_opens_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    """Opening took a write lock to check the schema: a held lock stopped `switchboard run` for 35 s, then failed it."""
    path = tmp_path / "telemetry.sqlite"
    ensure_schema(path)
    lock = _holding_the_write_lock(path)
    try:
        opened = threading.Thread(target=ensure_schema, args=(path,), daemon=True)
        started = time.monotonic()
        opened.start()
        opened.join(5)
        assert not opened.is_alive() and time.monotonic() - started < 5
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def test_a_lock_held_mid_run_delays_events_without_losing_them_or_blocking_flush(tmp_path: Path) -> None:
    """A write lock taken while a store was open lost every batch after a 30 s wait each, and flush() waited it out."""
    path = tmp_path / "telemetry.sqlite"
    store = TelemetryStore(path)
    lock = _holding_the_write_lock(path)
    try:
        store.record(TelemetryEvent(kind="run", name="during", thread_id="t", outcome="completed"))
        flushed = threading.Thread(target=store.flush, daemon=True)
        started = time.monotonic()
        flushed.start()
        flushed.join(10)
        assert not flushed.is_alive() and time.monotonic() - started < 10
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    store.record(TelemetryEvent(kind="run", name="after", thread_id="t", outcome="completed"))
    store.close()
    assert sorted(r["name"] for r in read_rows(path, "SELECT name FROM events")) == ["after", "during"]


def test_a_deleted_database_is_made_again_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Deleted under a long-lived process, the file took every later event with it, unlinked, and nobody was told."""
    path = tmp_path / "telemetry.sqlite"
    store = TelemetryStore(path)
    store.record(TelemetryEvent(kind="run", name="before", thread_id="t", outcome="completed"))
    store.flush()
    for file in tmp_path.glob("telemetry.sqlite*"):  # a clean-up script, a retention job
        file.unlink()
    with caplog.at_level(logging.WARNING, logger="switchboard"):
        store.record(TelemetryEvent(kind="run", name="after", thread_id="t", outcome="completed"))
        store.close()
    assert [r["name"] for r in read_rows(path, "SELECT name FROM events")] == ["after"]
    assert set(VIEWS) <= {r["name"] for r in read_rows(path, "SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert "made again" in caplog.text


def test_a_removed_directory_is_not_made_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Removing the whole data directory (a temporary one, a reset) is not a file to restore: nothing comes back."""
    home = tmp_path / "home"
    store = TelemetryStore(home / "telemetry.sqlite")
    store.record(TelemetryEvent(kind="run", name="before", thread_id="t", outcome="completed"))
    store.flush()
    shutil.rmtree(home)
    with caplog.at_level(logging.WARNING, logger="switchboard"):
        store.record(TelemetryEvent(kind="run", name="after", thread_id="t", outcome="completed"))
        store.close()
    assert not home.exists()
    assert "was removed" in caplog.text


def test_flush_and_close_do_not_wait_out_the_writers_gathering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run's end flushed its telemetry, and waited the writer's whole batching pause first (50 ms a run)."""
    monkeypatch.setattr("switchboard.monitoring.store._GATHER_S", 60.0)  # a pause no flush could hide
    path = tmp_path / "telemetry.sqlite"
    store = TelemetryStore(path)
    try:
        store.record(TelemetryEvent(kind="run", name="flushed", thread_id="t", outcome="completed"))
        assert _returns(store.flush)
        assert [r["name"] for r in read_rows(path, "SELECT name FROM events")] == ["flushed"]
        store.record(TelemetryEvent(kind="run", name="closed", thread_id="t", outcome="completed"))
        time.sleep(0.2)  # the writer is in its pause now, not yet told to hurry
    finally:
        assert _returns(store.close)
    assert sorted(r["name"] for r in read_rows(path, "SELECT name FROM events")) == ["closed", "flushed"]


def test_close_keeps_the_writer_hurrying_when_a_flush_ends_as_it_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``close`` raised the flag before it counted itself: a flush ending in between lowered it again."""
    monkeypatch.setattr("switchboard.monitoring.store._GATHER_S", 60.0)
    path = tmp_path / "telemetry.sqlite"
    store = TelemetryStore(path)

    def a_flush_ends() -> None:  # what flush() does as it returns, when no one else waits
        with store._waiting_guard:
            if not store._waiting:
                store._urgent.clear()

    class EndingFlush(threading.Event):
        def set(self) -> None:
            super().set()
            if store._closed:  # close() raising it: a flush ends right then, on another thread
                ending = threading.Thread(target=a_flush_ends, daemon=True)
                ending.start()
                ending.join(1)

    store._urgent = EndingFlush()
    store.record(TelemetryEvent(kind="run", name="last", thread_id="t", outcome="completed"))
    time.sleep(0.2)  # the writer is in its pause
    assert _returns(store.close)
    assert [r["name"] for r in read_rows(path, "SELECT name FROM events")] == ["last"]


class _NoPragmas(sqlite3.Connection):
    """A connection whose file fails the writer's journal setting, as a file deleted under it did (disk I/O error)."""

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.startswith("PRAGMA synchronous"):
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(sql, *args)  # type: ignore[arg-type]


def test_a_writer_whose_first_connection_fails_a_pragma_still_writes_and_flushes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer thread set ``synchronous`` outside its guard: the error killed it, and every flush hung."""
    connect = sqlite3.connect
    monkeypatch.setattr(
        "switchboard.monitoring.store.sqlite3.connect", lambda *a, **k: connect(*a, **k, factory=_NoPragmas)
    )
    path = tmp_path / "telemetry.sqlite"
    store = TelemetryStore(path)
    try:
        store.record(TelemetryEvent(kind="run", name="kept", thread_id="t", outcome="completed"))
        assert _returns(store.flush)
    finally:
        monkeypatch.undo()
        store.close()
    assert [r["name"] for r in read_rows(path, "SELECT name FROM events")] == ["kept"]
