"""Live load and health: leases, error rates and the circuit breaker."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from blockbuster import BlockingError, blockbuster_ctx

from switchboard.agents.card import AgentCard
from switchboard.agents.health import HealthRegistry
from switchboard.graph.backpressure import claim_slot
from tests.agents.test_dead_leases import holder


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_and_half_opens_after_cooldown() -> None:
    clock = Clock()
    registry = HealthRegistry(failure_threshold=3, cooldown=30, clock=clock)
    for _ in range(2):
        registry.release(registry.acquire("a"), ok=False)
    assert registry.health("a").breaker == "closed"
    registry.release(registry.acquire("a"), ok=False)
    assert registry.health("a").breaker == "open"
    assert not registry.health("a").available(max_concurrency=5)
    clock.now += 31
    health = registry.health("a")
    assert health.breaker == "half_open" and health.available(5)
    trial = registry.acquire("a")
    assert not registry.health("a").available(5)  # one trial at a time
    registry.release(trial, ok=True)
    assert registry.health("a").breaker == "closed"


def test_a_tripped_breaker_is_a_limit_too_one_trial_step_at_a_time(tmp_path: Path) -> None:
    """Two runs that both saw the agent half-open must not both start a trial: the claim decides."""
    clock = Clock()
    one, other = (
        HealthRegistry(tmp_path / "health.sqlite", failure_threshold=3, cooldown=30, clock=clock) for _ in range(2)
    )
    paused = one.acquire("a", limit=5, lease="paused-step")
    one.forget(paused)
    for _ in range(3):
        one.release(one.acquire("a"), ok=False)
    assert one.acquire("a", limit=5) is None  # open: no new step starts
    assert other.acquire("a", limit=5, lease="paused-step") == "paused-step"  # a step under way comes back
    other.forget("paused-step")
    clock.now += 31
    trial = one.acquire("a", limit=5)
    assert trial is not None and other.acquire("a", limit=5) is None  # half-open: one trial at a time
    one.release(trial, ok=False)  # the trial failed: open again
    assert other.acquire("a", limit=5) is None
    clock.now += 31
    other.release(other.acquire("a", limit=5) or "", ok=True)  # this trial succeeds: closed
    assert all(one.acquire("a", limit=5) for _ in range(5)) and one.acquire("a", limit=5) is None


async def test_a_step_with_nowhere_else_to_go_waits_out_an_open_circuit_and_takes_the_one_trial() -> None:
    """A routed step is handed back from an open circuit or a running trial; a workflow step waits for its turn."""
    clock = Clock()
    registry = HealthRegistry(failure_threshold=3, cooldown=30, clock=clock)
    skills = [{"id": "s", "description": "S."}]
    card = AgentCard.model_validate({"name": "a", "description": "A.", "max_concurrency": 4, "skills": skills})
    for _ in range(3):
        registry.release(registry.acquire("a"), ok=False)
    routed = await claim_slot(registry, card, 30.0)
    assert routed.lease is None and routed.why == "circuit open after 3 consecutive failures"
    waiting = asyncio.create_task(claim_slot(registry, card, float("inf"), "workflow-step"))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    clock.now += 31  # the cool-down is over: the waiting step is the trial
    trial = await asyncio.wait_for(waiting, 5)
    assert trial.lease == "workflow-step" and trial.why == "circuit open after 3 consecutive failures"
    behind = await claim_slot(registry, card, 0.1)
    assert behind.lease is None and behind.why == "circuit half-open: a trial step is already running"


async def test_a_step_cancelled_while_its_claim_commits_leaves_no_slot_taken() -> None:
    """The claim's transaction runs on in its thread after a cancel; the slot it took must not stay held."""
    committing, committed = threading.Event(), threading.Event()

    class SlowDisk(HealthRegistry):
        def acquire(self, agent: str, *, limit: int | None = None, lease: str | None = None) -> str | None:
            committing.set()
            time.sleep(0.3)  # the commit is under way when the step is cancelled
            try:
                return super().acquire(agent, limit=limit, lease=lease)
            finally:
                committed.set()

    registry = SlowDisk()
    skills = [{"id": "s", "description": "S."}]
    card = AgentCard.model_validate({"name": "a", "description": "A.", "max_concurrency": 1, "skills": skills})
    claim = asyncio.create_task(claim_slot(registry, card, 30.0, "cancelled-step"))
    while not committing.is_set():
        await asyncio.sleep(0.01)
    claim.cancel()
    with pytest.raises(asyncio.CancelledError):
        await claim
    while not committed.is_set():
        await asyncio.sleep(0.01)
    assert registry.health("a").in_flight == 0  # not held for the lease's 10 minutes
    assert registry.holds("cancelled-step")  # parked: a re-run of the step takes it back


def test_capacity_counts_leases_and_expires_dead_ones() -> None:
    clock = Clock()
    registry = HealthRegistry(lease_ttl=60, clock=clock)
    registry.acquire("a")
    registry.acquire("a")
    assert registry.health("a").in_flight == 2
    assert not registry.health("a").available(max_concurrency=2)
    assert registry.health("a").why_unavailable(2) == "at capacity (2/2 steps in flight)"
    clock.now += 61  # the process holding them died
    assert registry.health("a").in_flight == 0


def test_a_limited_claim_takes_only_a_free_slot_across_registries(tmp_path: Path) -> None:
    clock = Clock()
    one, other = (HealthRegistry(tmp_path / "health.sqlite", lease_ttl=60, clock=clock) for _ in range(2))
    held = one.acquire("a", limit=1)
    assert held is not None and other.acquire("a", limit=1) is None  # another process's view: the slot is taken
    assert other.acquire("a", limit=2) is not None and other.acquire("a", limit=2) is None
    one.release(held, ok=True)
    assert other.acquire("a", limit=2) is not None
    clock.now += 61  # their holders died: dead leases free their slots
    assert other.acquire("a", limit=1) is not None and one.health("a").in_flight == 1


def test_a_step_under_way_gets_its_own_slot_back_and_only_it() -> None:
    clock = Clock()
    registry = HealthRegistry(lease_ttl=60, clock=clock)
    registry.forget(registry.acquire("a", limit=1, lease="paused-step"))  # it waits for a human: no capacity held
    other = registry.acquire("a", limit=1)
    assert other is not None and registry.acquire("a", limit=1) is None  # full
    assert registry.acquire("a", limit=1, lease="paused-step") == "paused-step"  # resumed: its slot, over the limit
    registry.release("paused-step", ok=True)
    registry.release(other, ok=True)
    registry.acquire("a", limit=1, lease="killed-step")
    clock.now += 61  # its process died long ago: the lease expired
    taken = registry.acquire("a", limit=1)
    assert taken is not None and registry.acquire("a", limit=1, lease="killed-step") is None  # it queues like any
    assert registry.health("a").in_flight == 1


def test_processes_of_an_earlier_release_share_the_file_unchanged(tmp_path: Path) -> None:
    """A rolling upgrade: older workers keep writing leases as they did, beside the new ones."""
    db = tmp_path / "health.sqlite"
    registry = HealthRegistry(db)
    registry.forget(registry.acquire("a", limit=1, lease="paused-step"))
    with sqlite3.connect(db) as old:  # an earlier release's statements, verbatim
        old.execute("INSERT INTO leases VALUES (?, ?, ?)", ("old-worker-step", "a", time.time()))
        assert old.execute("SELECT COUNT(*) FROM leases WHERE agent = 'a'").fetchone()[0] == 1  # its load view
    assert registry.health("a").in_flight == 1 and registry.acquire("a", limit=1) is None
    with sqlite3.connect(db) as old:
        old.execute("DELETE FROM leases WHERE id = ?", ("old-worker-step",))  # its forget
    assert registry.acquire("a", limit=1) is not None


async def test_a_step_whose_lease_expired_waits_for_a_slot_rather_than_be_handed_back() -> None:
    """Past its lease's life the step counts like any other, but it may have acted: it is never refused."""
    clock = Clock()
    registry = HealthRegistry(lease_ttl=60, clock=clock)
    skills = [{"id": "s", "description": "S."}]
    card = AgentCard.model_validate({"name": "a", "description": "A.", "max_concurrency": 1, "skills": skills})
    registry.acquire("a", limit=1, lease="killed-step")
    clock.now += 61  # its process died long ago
    other = registry.acquire("a", limit=1)
    assert other is not None and registry.holds("killed-step") and not registry.holds("never-here")
    claim = asyncio.create_task(claim_slot(registry, card, 0.05, "killed-step"))
    await asyncio.sleep(0.3)
    assert not claim.done()  # far past the 0.05 s a new step would have waited
    registry.release(other, ok=True)
    got = await asyncio.wait_for(claim, 5)
    assert got.lease == "killed-step" and got.waited_s >= 0.3 and registry.health("a").in_flight == 1


def test_paused_steps_release_capacity_without_an_outcome() -> None:
    registry = HealthRegistry()
    registry.forget(registry.acquire("a"))
    health = registry.health("a")
    assert health.in_flight == 0 and health.error_rate == 0.0 and health.latency_ms == 0.0


def test_load_is_shared_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "health.sqlite"
    body = "r.acquire('finance'); r.acquire('finance'); r.release(r.acquire('finance'), ok=False)"
    with holder(db, body):  # alive: its two steps are in flight
        health = HealthRegistry(db).health("finance")
    assert health.in_flight == 2 and health.error_rate == 1.0


def test_building_a_registry_touches_no_disk_until_first_use(tmp_path: Path) -> None:
    db = tmp_path / "later" / "health.sqlite"
    registry = HealthRegistry(db)  # graphs are built on a server's event loop
    assert not db.parent.exists()
    registry.acquire("a")
    assert db.is_file()
    registry.close()


async def test_the_async_api_does_its_sqlite_work_off_the_event_loop(tmp_path: Path) -> None:
    registry = HealthRegistry(tmp_path / "health.sqlite")
    with blockbuster_ctx():  # what `langgraph dev` runs graphs under
        lease = await registry.aacquire("finance")
        assert (await registry.ahealth("finance")).in_flight == 1
        await registry.arelease(lease, ok=False)
        await registry.aforget(await registry.aacquire("finance"))
        snapshot = await registry.asnapshot(["finance", "logistics"])
        with pytest.raises(BlockingError):
            registry.health("finance")  # the same call on the loop is caught
    assert snapshot["finance"].in_flight == 0 and snapshot["finance"].error_rate == 1.0
    assert snapshot["logistics"].error_rate == 0.0


async def test_concurrent_steps_on_worker_threads_are_all_counted(tmp_path: Path) -> None:
    registry = HealthRegistry(tmp_path / "health.sqlite", window=100)
    leases = await asyncio.gather(*(registry.aacquire("a") for _ in range(40)))
    assert len(set(leases)) == 40 and (await registry.ahealth("a")).in_flight == 40
    await asyncio.gather(*(registry.arelease(lease, ok=i % 4 != 0) for i, lease in enumerate(leases)))
    health = await registry.ahealth("a")
    assert health.in_flight == 0 and health.error_rate == 0.25
