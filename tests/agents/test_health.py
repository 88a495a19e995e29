"""Live load and health: leases, error rates and the circuit breaker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from switchboard.agents.health import HealthRegistry


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


def test_paused_steps_release_capacity_without_an_outcome() -> None:
    registry = HealthRegistry()
    registry.forget(registry.acquire("a"))
    health = registry.health("a")
    assert health.in_flight == 0 and health.error_rate == 0.0 and health.latency_ms == 0.0


def test_load_is_shared_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "health.sqlite"
    script = (
        "import sys; from switchboard.agents.health import HealthRegistry;"
        "r = HealthRegistry(sys.argv[1]); r.acquire('finance'); r.acquire('finance');"
        "r.release(r.acquire('finance'), ok=False)"
    )
    subprocess.run([sys.executable, "-c", script, str(db)], check=True, cwd=Path(__file__).parents[2])
    mine = HealthRegistry(db)
    health = mine.health("finance")
    assert health.in_flight == 2 and health.error_rate == 1.0
