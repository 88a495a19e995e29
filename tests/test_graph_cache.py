"""Runs share one compiled graph per process, and concurrent threads overlap their model waits (issue 8)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from benchmarks.throughput import PacedModel, team_file
from switchboard.runs import open_graph, read_thread, start_run
from switchboard.settings import Settings

THREADS = 8


@pytest.fixture
def desk(tmp_path: Path) -> Settings:
    """A one-desk team without MCP servers, with private checkpoints and health."""
    return Settings(
        team=str(team_file(tmp_path)),
        checkpoint_db=str(tmp_path / "checkpoints.sqlite"),
        health_db=str(tmp_path / "health.sqlite"),
    )


async def test_runs_in_one_process_compile_the_graph_once(desk: Settings) -> None:
    model = PacedModel(delay=0)
    async with open_graph(desk, model=model) as first:
        pass
    async with open_graph(desk, model=model) as second:
        assert second.nodes["desk"] is first.nodes["desk"]  # the same compiled node: built once
        assert second.checkpointer is not None
    other = PacedModel(delay=0)
    async with open_graph(desk, model=other) as third:
        assert third.nodes["desk"] is not first.nodes["desk"]  # another model object, another graph


async def test_an_edited_policy_file_builds_a_new_graph(tmp_path: Path, desk: Settings) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: desk\n")
    team = Path(desk.team)
    team.write_text(team.read_text() + "policy: policy.yaml\n")
    model = PacedModel(delay=0)
    async with open_graph(desk, model=model) as before:
        pass
    policy.write_text("name: desk\nrouting: {min_confidence: 0.5}\n")
    stat = policy.stat()
    os.utime(policy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    async with open_graph(desk, model=model) as after:
        assert after.nodes["desk"] is not before.nodes["desk"]


async def test_concurrent_threads_overlap_their_model_calls(desk: Settings) -> None:
    # Each call waits one second on asyncio.sleep; if anything serialised the
    # threads (a lock held across the run, one build per run on the event
    # loop, a model slot), fewer calls would ever be waiting at once.
    model = PacedModel(delay=1.0)
    results = await asyncio.gather(
        *(start_run("Where is parcel 42?", settings=desk, model=model) for _ in range(THREADS))
    )
    assert [r.status for r in results] == ["completed"] * THREADS
    assert len({r.thread_id for r in results}) == THREADS
    assert model.peak == THREADS
    thread = await read_thread(results[-1].thread_id, settings=desk)
    assert [e["agent"] for e in thread["trail"] if e["kind"] == "handoff"] == ["desk"]
