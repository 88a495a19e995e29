"""Runs share one compiled graph per process, and concurrent threads overlap their model waits (issue 8)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.throughput import PacedModel, team_file
from switchboard import graph_cache
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


# --- MCP servers kept between runs (issue 8: "every run starts a new MCP stdio server") ---

LAUNCHER = """
import os, runpy, sys
log, db = sys.argv[1], sys.argv[2]
open(log, "a").write(f"start {os.getpid()}\\n")
sys.argv = ["server", "--db", db]
try:
    runpy.run_module("switchboard.domains.retail.server", run_name="__main__")
finally:
    open(log, "a").write(f"stop {os.getpid()}\\n")  # reached when the client closes the session, not when killed
"""


def _served_desk(tmp_path: Path, retail_db: Path, keepalive: float) -> tuple[Settings, Path]:
    """The one-desk team with a tool on a real retail MCP server that logs its starts and stops."""
    launcher, log = tmp_path / "launcher.py", tmp_path / "servers.log"
    launcher.write_text(LAUNCHER)
    team = tmp_path / "served-team.yaml"
    team.write_text(
        team_file(tmp_path).read_text().replace("    skills:", "    tools: [find_user_id_by_email]\n    skills:")
        + f"servers:\n  retail:\n    transport: stdio\n    command: {sys.executable}\n"
        + f"    args: [{str(launcher)!r}, {str(log)!r}, {str(retail_db)!r}]\n"
    )
    settings = Settings(
        team=str(team),
        checkpoint_db=str(tmp_path / "checkpoints.sqlite"),
        health_db=str(tmp_path / "health.sqlite"),
        mcp_keepalive=keepalive,
    )
    return settings, log


def _events(log: Path) -> list[str]:
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


async def _until(check: Callable[[], bool], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not hold in time")


async def test_runs_one_after_another_reuse_the_mcp_servers_until_they_idle(tmp_path: Path, retail_db: Path) -> None:
    settings, log = _served_desk(tmp_path, retail_db, keepalive=1.0)
    model = PacedModel(delay=0)
    for _ in range(3):
        result = await start_run("Where is parcel 42?", settings=settings, model=model)
        assert result.status == "completed"
    assert _events(log) == ["start"]  # one server for three runs
    await _until(lambda: _events(log) == ["start", "stop"])  # stopped once idle for the keepalive
    assert (await start_run("Where is parcel 42?", settings=settings, model=model)).status == "completed"
    assert _events(log) == ["start", "stop", "start"]


async def test_keepalive_zero_stops_the_servers_with_every_run(tmp_path: Path, retail_db: Path) -> None:
    settings, log = _served_desk(tmp_path, retail_db, keepalive=0)
    model = PacedModel(delay=0)
    for _ in range(2):
        assert (await start_run("Where is parcel 42?", settings=settings, model=model)).status == "completed"
    assert _events(log) == ["start", "stop", "start", "stop"]


async def test_a_server_killed_while_idle_is_started_again_by_the_next_run(tmp_path: Path, retail_db: Path) -> None:
    settings, log = _served_desk(tmp_path, retail_db, keepalive=60.0)
    model = PacedModel(delay=0)
    assert (await start_run("Where is parcel 42?", settings=settings, model=model)).status == "completed"
    pid = _last_pid(log)
    os.kill(pid, signal.SIGKILL)
    await _until(lambda: not _alive(pid))
    assert (await start_run("Where is parcel 42?", settings=settings, model=model)).status == "completed"
    assert _events(log) == ["start", "start"]  # the dead one never wrote "stop"; a new one served the run


def test_a_process_ending_its_event_loop_ends_the_servers(tmp_path: Path, retail_db: Path) -> None:
    # What the CLI does: one event loop per command. The keepalive must not
    # outlive the loop, nor keep the next loop from starting servers of its own.
    settings, log = _served_desk(tmp_path, retail_db, keepalive=60.0)
    model = PacedModel(delay=0)
    result = asyncio.run(start_run("Where is parcel 42?", settings=settings, model=model))
    assert result.status == "completed"
    # Ended with the loop's tasks (it may still be exiting as the loop returns). Whether it
    # got to log its "stop" is a race between its exit on a closed stdin and the cancellation.
    first = _last_pid(log)
    asyncio.run(_until(lambda: not _alive(first), seconds=10.0))
    assert _events(log) in (["start"], ["start", "stop"])
    before = len(_events(log))
    result = graph_cache.run(start_run("Where is parcel 42?", settings=settings, model=model))
    assert result.status == "completed"
    assert _events(log)[before:] == ["start", "stop"]  # the CLI's way: told to stop, so it closes cleanly
    assert not _alive(_last_pid(log))


def _last_pid(log: Path) -> int:
    return int([line for line in log.read_text().splitlines() if line.startswith("start")][-1].split()[1])


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_loop_closed_without_ending_its_tasks_leaves_nothing_the_next_loop_uses(
    tmp_path: Path, retail_db: Path
) -> None:
    settings, log = _served_desk(tmp_path, retail_db, keepalive=60.0)
    model = PacedModel(delay=0)
    loop = asyncio.new_event_loop()
    try:
        assert (
            loop.run_until_complete(start_run("Where is parcel 42?", settings=settings, model=model)).status
            == "completed"
        )
    finally:
        loop.close()  # the keepalive timer is left pending, its servers with it
    result = asyncio.run(start_run("Where is parcel 42?", settings=settings, model=model))
    assert result.status == "completed"
    assert _events(log)[:2] == ["start", "start"]  # the second loop started a server of its own


async def test_only_the_most_recent_idle_teams_keep_their_servers(tmp_path: Path, retail_db: Path) -> None:
    # An evaluation gives every trial a recipe of its own; idle servers must not pile up.
    model = PacedModel(delay=0)
    log = tmp_path / "servers.log"
    for keepalive in range(60, 60 + graph_cache.IDLE_TOOLBOXES + 1):  # a setting apart is a recipe apart
        settings, log = _served_desk(tmp_path, retail_db, keepalive=float(keepalive))
        assert (await start_run("Where is parcel 42?", settings=settings, model=model)).status == "completed"
    started = [line.split()[1] for line in log.read_text().splitlines() if line.startswith("start")]
    assert len(started) == graph_cache.IDLE_TOOLBOXES + 1
    await _until(lambda: "stop" in _events(log))
    stopped = [line.split()[1] for line in log.read_text().splitlines() if line.startswith("stop")]
    assert stopped == started[:1]  # the least recently used one...
    assert all(_alive(int(pid)) for pid in started[1:])  # ...and the others still serve


async def test_a_replaced_database_file_gets_servers_that_open_the_new_one(tmp_path: Path, retail_db: Path) -> None:
    # `switchboard retail demo-db` writes a new file over the old one; a kept
    # server would go on reading the old file, which it holds open.
    settings, log = _served_desk(tmp_path, retail_db, keepalive=60.0)
    model = PacedModel(delay=0)
    assert (await start_run("Where is parcel 42?", settings=settings, model=model)).status == "completed"
    replacement = tmp_path / "replacement.sqlite"
    shutil.copyfile(retail_db, replacement)
    os.replace(replacement, retail_db)
    assert (await start_run("Where is parcel 42?", settings=settings, model=model)).status == "completed"
    assert _events(log)[:3] == ["start", "stop", "start"]  # the old server told to stop, a new one on the new file
