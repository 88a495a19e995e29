"""Switch a SQLite file to write-ahead logging, safely while other processes open it.

Every SQLite database Switchboard keeps (checkpoints and thread locks, the
audit log, health, telemetry) runs in WAL mode, so readers never block the
writer. The mode is a property of the file, set by the first connection
that asks. But the switch itself needs the file to itself: while several
processes or runs open a fresh file at once (workers starting together), a
connection asking for WAL, or setting up tables while another switches,
can get "database is locked" at once, without the busy timeout ever being
waited out. So the switch is made here, first, and retried briefly until it
holds; once a file is in WAL mode, asking again changes nothing and takes
no lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

__all__ = ["ensure_wal"]

_done: set[str] = set()
_guard = threading.Lock()


def ensure_wal(path: str | Path, *, within_s: float = 30.0) -> None:
    """Put the SQLite file at ``path`` in WAL mode (creating it), retrying while another connection holds it.

    Args:
        path: The database file.
        within_s: How long to keep retrying a locked file.

    Raises:
        sqlite3.OperationalError: The file stayed locked for ``within_s``, or
            cannot be opened at all.
    """
    key = str(Path(path).resolve())
    if key in _done and Path(path).exists():  # a file removed and made again starts over
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    deadline, delay = time.monotonic() + within_s, 0.01
    while True:
        try:
            with closing(sqlite3.connect(path, timeout=within_s, isolation_level=None)) as db:
                mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() == "wal":
                with _guard:
                    _done.add(key)
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)
