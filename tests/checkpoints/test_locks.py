"""Thread locks live with the checkpoint store, SQLite or Postgres.

Holders are real processes: a lock that only works inside one process, or
only between processes that share some folder, is the defect these tests
exist for.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from switchboard.checkpoints import hold_thread
from switchboard.errors import ThreadError
from switchboard.runs import resume_run, start_run, thread_lock
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel

BUSY = "being run or resumed by another process"

HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from switchboard.runs import thread_lock
    from switchboard.settings import Settings

    target, health, thread_id, ttl = sys.argv[1:5]

    async def main():
        settings = Settings(checkpoint_db=target, health_db=health, lock_ttl=float(ttl))
        async with thread_lock(settings, thread_id):
            print("held", flush=True)
            await asyncio.to_thread(sys.stdin.readline)  # hold until told to stop
        print("released", flush=True)

    asyncio.run(main())
    """
)


class Holder:
    """A separate process holding a thread lock until told to stop."""

    def __init__(self, target: str, health: Path, thread_id: str, ttl: float = 30.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, target, str(health), thread_id, str(ttl)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line == "held\n", self.process.stderr.read() if self.process.stderr else line

    def stop(self) -> str:
        """Let it release the lock and exit; its remaining output."""
        out, err = self.process.communicate("\n", timeout=60)
        assert self.process.returncode == 0, err
        return out

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=60)  # reaped: its process id is gone

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill()


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        holder.close()


async def _claim(target: str | Path, thread_id: str, *, ttl: float = 30.0) -> None:
    async with hold_thread(target, thread_id, ttl=ttl):
        pass


async def _claim_within(target: str | Path, thread_id: str, seconds: float) -> None:
    """Claim the thread, retrying while a release is on its way."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return await _claim(target, thread_id)
        except ThreadError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


# --- SQLite ---------------------------------------------------------------


async def test_processes_with_different_health_folders_cannot_both_drive_a_thread(
    tmp_path: Path, holders: list[Holder], retail_db: Path
) -> None:
    """The reported defect: the lock sat beside the health database."""
    checkpoints = str(tmp_path / "shared" / "checkpoints.sqlite")
    holders.append(Holder(checkpoints, tmp_path / "a" / "health.sqlite", "t-1"))
    other = Settings(checkpoint_db=checkpoints, health_db=str(tmp_path / "b" / "health.sqlite"))
    with pytest.raises(ThreadError, match=BUSY):
        await resume_run("t-1", approved=True, settings=other, model=ScriptedChatModel(steps=[]))
    with pytest.raises(ThreadError, match=BUSY):
        await start_run("return my order", thread_id="t-1", settings=other, model=ScriptedChatModel(steps=[]))
    assert holders[0].stop() == "released\n"
    await _claim(checkpoints, "t-1")  # free again once its holder let go


async def test_the_lock_is_a_row_in_the_checkpoint_database(tmp_path: Path) -> None:
    checkpoints = tmp_path / "checkpoints.sqlite"
    async with hold_thread(checkpoints, "t-1"):
        with sqlite3.connect(checkpoints) as db:
            rows = db.execute("SELECT thread_id, pid FROM switchboard_thread_locks").fetchall()
        assert rows == [("t-1", os.getpid())]
        with pytest.raises(ThreadError, match=BUSY):  # a second claim in the same process is refused too
            await _claim(checkpoints, "t-1")
        await _claim(checkpoints, "t-2")  # other threads are not held
    with sqlite3.connect(checkpoints) as db:
        assert db.execute("SELECT count(*) FROM switchboard_thread_locks").fetchone() == (0,)


async def test_a_checkpoint_database_replaced_at_the_same_path_gets_the_next_claim(tmp_path: Path) -> None:
    """The lock worker keeps its connection between claims; a file made anew must not be missed.

    A connection kept to the removed file would record the claim there,
    where no other process looks, and the thread would look free.
    """
    checkpoints = tmp_path / "checkpoints.sqlite"
    async with hold_thread(checkpoints, "t-1"):
        pass
    for path in tmp_path.glob("checkpoints.sqlite*"):
        path.unlink()
    async with hold_thread(checkpoints, "t-2"):
        with sqlite3.connect(checkpoints) as db:
            assert db.execute("SELECT thread_id FROM switchboard_thread_locks").fetchall() == [("t-2",)]
        with pytest.raises(ThreadError, match=BUSY):
            await _claim(checkpoints, "t-2")


async def test_an_error_inside_the_lock_releases_it(tmp_path: Path) -> None:
    checkpoints = tmp_path / "checkpoints.sqlite"
    with pytest.raises(RuntimeError, match="boom"):
        async with hold_thread(checkpoints, "t-1"):
            raise RuntimeError("boom")
    await _claim(checkpoints, "t-1")


async def test_a_killed_holders_lock_is_taken_over_at_once(tmp_path: Path, holders: list[Holder]) -> None:
    checkpoints = str(tmp_path / "checkpoints.sqlite")
    holder = Holder(checkpoints, tmp_path / "health.sqlite", "t-1", ttl=3600)
    holders.append(holder)
    with pytest.raises(ThreadError, match=BUSY):
        await _claim(checkpoints, "t-1")
    holder.kill()
    # Its row is still there, with an hour to run: only the gone process frees it.
    with sqlite3.connect(checkpoints) as db:
        assert db.execute("SELECT pid FROM switchboard_thread_locks").fetchone() == (holder.process.pid,)
    await _claim(checkpoints, "t-1")


async def test_a_hung_holders_lock_expires_and_the_holder_cannot_take_it_back(
    tmp_path: Path, holders: list[Holder]
) -> None:
    """A holder that stops beating (hung, or on another machine) loses the lock after its time-to-live."""
    checkpoints = str(tmp_path / "checkpoints.sqlite")
    holder = Holder(checkpoints, tmp_path / "health.sqlite", "t-1", ttl=2.0)
    holders.append(holder)
    await asyncio.sleep(2.5)  # beats (every ttl/3) keep a live holder's claim valid past its ttl
    with pytest.raises(ThreadError, match=BUSY):
        await _claim(checkpoints, "t-1")
    os.kill(holder.process.pid, signal.SIGSTOP)  # alive, but no longer beating
    try:
        await _claim_within(checkpoints, "t-1", seconds=10)  # its claim expired
        async with hold_thread(checkpoints, "t-1"):
            os.kill(holder.process.pid, signal.SIGCONT)
            assert holder.stop() == "released\n"  # its release leaves the new claim alone
            with pytest.raises(ThreadError, match=BUSY):
                await _claim(checkpoints, "t-1")
    finally:
        if holder.process.poll() is None:
            os.kill(holder.process.pid, signal.SIGCONT)


# --- Postgres -------------------------------------------------------------


async def test_postgres_lock_is_held_across_processes_and_freed_when_its_holder_dies(
    postgres_url: str, tmp_path: Path, holders: list[Holder]
) -> None:
    holder = Holder(postgres_url, tmp_path / "a.sqlite", "pg-lock-1")
    holders.append(holder)
    other = Settings(checkpoint_db=postgres_url, health_db=str(tmp_path / "b.sqlite"))
    with pytest.raises(ThreadError, match=BUSY):
        async with thread_lock(other, "pg-lock-1"):
            pass
    await _claim(postgres_url, "pg-lock-2")  # other threads are not held
    holder.kill()
    await _claim_within(postgres_url, "pg-lock-1", seconds=10)  # the server ends the dead session


async def test_postgres_lock_is_released_after_the_block(postgres_url: str) -> None:
    async with hold_thread(postgres_url, "pg-lock-3"):
        with pytest.raises(ThreadError, match=BUSY):
            await _claim(postgres_url, "pg-lock-3")
    await _claim(postgres_url, "pg-lock-3")


async def test_many_held_locks_share_one_heartbeat_thread_and_stay_fresh(tmp_path: Path) -> None:
    # A thread per held lock (and one started per run) held up the event loop
    # under concurrent runs; one heartbeat thread refreshes them all (issue 8).
    target = tmp_path / "checkpoints.sqlite"
    ttl = 0.6
    threads_before = threading.active_count()
    async with AsyncExitStack() as stack:
        for index in range(8):
            await stack.enter_async_context(hold_thread(target, f"t-{index}", ttl=ttl))
        assert threading.active_count() - threads_before <= 2  # the heartbeat and the lock worker, once
        await asyncio.sleep(3 * ttl)  # past every claim's first expiry: only heartbeats keep them
        with sqlite3.connect(target) as db:
            expiries = [row[0] for row in db.execute("SELECT expires_at FROM switchboard_thread_locks")]
        assert len(expiries) == 8 and min(expiries) > time.time()
        with pytest.raises(ThreadError):
            await _claim(target, "t-3")
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT COUNT(*) FROM switchboard_thread_locks").fetchone()[0] == 0
