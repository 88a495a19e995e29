"""Leases of a process known to be dead free their slot at once; others keep the TTL rule.

A step's process killed mid-step (SIGKILL, OOM) releases nothing: before,
its lease held the agent's slot for ``lease_ttl`` (10 minutes), so with
``max_concurrency: 1`` every other thread queued and then asked a human.
The holders here are real child processes, so the liveness check is the
real one; another host is a child told a different host name.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from switchboard.agents.health import HealthRegistry

ROOT = Path(__file__).parents[2]


class Clock:
    """Wall time, moved forward by hand: the children's leases are stamped with real time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@contextmanager
def holder(db: Path, body: str, *, host: str | None = None) -> Iterator[subprocess.Popen[str]]:
    """A child process that runs ``body`` with ``r``, a registry on ``db``, then stays alive until killed.

    Args:
        db: The shared health file.
        body: Python statements run in the child once ``r`` exists.
        host: A host name the child believes it runs on (another machine sharing the file).
    """
    fake_host = f"import socket; socket.gethostname = lambda: {host!r}; " if host else ""
    script = (
        f"{fake_host}import sys; from switchboard.agents.health import HealthRegistry; "
        f"r = HealthRegistry(sys.argv[1]); {body}; print('ready', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        kill(proc)


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the child and reap it: it gets no chance to release anything."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def test_a_killed_process_lease_frees_its_slot_at_once(tmp_path: Path) -> None:
    db = tmp_path / "health.sqlite"
    registry = HealthRegistry(db)
    with holder(db, "assert r.acquire('logistics', limit=1, lease='killed-step')") as proc:
        assert registry.acquire("logistics", limit=1) is None  # a live process's lease counts
        assert registry.health("logistics").why_unavailable(1) == "at capacity (1/1 steps in flight)"
        kill(proc)
    health = registry.health("logistics")
    assert health.in_flight == 0 and health.available(1)  # routing sees the slot free, not only the claim
    assert registry.acquire("logistics", limit=1) is not None
    assert registry.holds("killed-step")  # the dead step's trace stays: it may have acted


def test_a_lease_of_a_process_that_exited_without_releasing_holds_no_slot(tmp_path: Path) -> None:
    db = tmp_path / "health.sqlite"
    script = (
        "import sys; from switchboard.agents.health import HealthRegistry; HealthRegistry(sys.argv[1]).acquire('a')"
    )
    subprocess.run([sys.executable, "-c", script, str(db)], check=True, cwd=ROOT)
    registry = HealthRegistry(db)
    assert registry.health("a").in_flight == 0 and registry.acquire("a", limit=1) is not None


def test_a_live_process_lease_still_counts_and_only_dead_ones_are_freed(tmp_path: Path) -> None:
    db = tmp_path / "health.sqlite"
    registry = HealthRegistry(db)
    with holder(db, "assert r.acquire('a', limit=2)"), holder(db, "assert r.acquire('a', limit=2)") as dying:
        assert registry.acquire("a", limit=2) is None
        kill(dying)
        assert registry.health("a").in_flight == 1
        assert registry.acquire("a", limit=2) is not None and registry.acquire("a", limit=2) is None


def test_a_lease_from_another_host_counts_until_its_ttl(tmp_path: Path) -> None:
    """Its process cannot be looked up from here: only its lease's age says it is dead."""
    db, clock = tmp_path / "health.sqlite", Clock()
    registry = HealthRegistry(db, lease_ttl=60, clock=clock)
    with holder(db, "assert r.acquire('a', limit=1)", host="another-machine") as proc:
        kill(proc)  # no process of that pid runs here, which says nothing about the other machine
    assert registry.acquire("a", limit=1) is None and registry.health("a").in_flight == 1
    clock.offset += 61
    assert registry.acquire("a", limit=1) is not None


def test_a_step_rerun_after_its_process_was_killed_takes_its_slot_back_if_free(tmp_path: Path) -> None:
    db = tmp_path / "health.sqlite"
    registry, other = HealthRegistry(db), HealthRegistry(db)
    with holder(db, "assert r.acquire('a', limit=1, lease='killed-step')") as proc:
        kill(proc)
    assert registry.acquire("a", limit=1, lease="killed-step") == "killed-step"
    assert other.acquire("a", limit=1) is None  # now held by this live process, not by the dead one
    assert registry.health("a").in_flight == 1


def test_a_step_rerun_after_its_slot_went_to_another_waits_like_an_expired_one(tmp_path: Path) -> None:
    """Freeing a dead lease must not let the step, when re-run, take its slot back over the limit."""
    db = tmp_path / "health.sqlite"
    registry = HealthRegistry(db)
    with holder(db, "assert r.acquire('a', limit=1, lease='killed-step')") as proc:
        kill(proc)
    taken = registry.acquire("a", limit=1)
    assert taken is not None and registry.acquire("a", limit=1, lease="killed-step") is None
    assert registry.holds("killed-step")  # so it waits for the slot rather than be handed back as not run
    registry.release(taken, ok=True)
    assert registry.acquire("a", limit=1, lease="killed-step") == "killed-step"


def test_a_paused_step_resumed_in_a_process_that_is_then_killed_frees_its_slot(tmp_path: Path) -> None:
    db = tmp_path / "health.sqlite"
    registry = HealthRegistry(db)
    registry.forget(registry.acquire("a", limit=1, lease="paused-step"))
    with holder(db, "assert r.acquire('a', limit=1, lease='paused-step')") as proc:
        assert registry.acquire("a", limit=1) is None
        kill(proc)
    assert registry.acquire("a", limit=1) is not None


def test_a_lease_retaken_by_an_earlier_release_is_not_judged_by_its_former_owner(tmp_path: Path) -> None:
    """An older worker re-runs the dead step and takes its lease back as it always did: that lease is live."""
    db = tmp_path / "health.sqlite"
    registry = HealthRegistry(db)
    with holder(db, "assert r.acquire('a', limit=1, lease='killed-step')") as proc:
        kill(proc)
    with sqlite3.connect(db) as old:  # an earlier release's re-take of a step's own lease, verbatim
        old.execute("UPDATE leases SET started = ? WHERE id = ?", (time.time(), "killed-step"))
    assert registry.acquire("a", limit=1) is None and registry.health("a").in_flight == 1
