"""Runs taken from a Postgres queue by several worker processes.

Everything is real: the queue is procrastinate's in a throwaway Postgres, the
workers are separate processes, each run starts the retail MCP server over
stdio and drives the embedded engine, and checkpoints go to the same Postgres.
The tasks need no approval, so a run that does not complete is an error.

``SWITCHBOARD_TEST_WORKER_RUNS`` sets how many runs the load test queues
(default 12, to stay fast on a 2-core CI machine; the issue's figure is 64).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from switchboard.checkpoints import open_checkpointer
from switchboard.domains.retail import RetailStore
from switchboard.errors import ConfigError, TaskError, ThreadError
from switchboard.runs import read_thread
from switchboard.settings import Settings
from switchboard.workers import RUN_TASK, build_app, submit, submit_resume
from tests.workers.conftest import Workers

RUNS = int(os.environ.get("SWITCHBOARD_TEST_WORKER_RUNS", "12"))
DEADLINE_S = 150.0


def _tracking(persona: Any) -> str:
    order_id = next(iter(persona.orders.values()))
    return f"Where is my order {order_id}? I'm {persona.name}, {persona.email}"


async def _jobs(url: str) -> list[tuple[str, str, int | None]]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute("SELECT args->>'thread_id', status::text, worker_id FROM procrastinate_jobs")
        return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]


async def _settle(url: str, count: int) -> tuple[dict[str, str], set[int]]:
    """Wait until ``count`` jobs have ended; their statuses by thread, and the workers that ran them."""
    ran_on: set[int] = set()
    start = time.monotonic()
    while time.monotonic() - start < DEADLINE_S:
        jobs = await _jobs(url)
        ran_on |= {worker for _, _, worker in jobs if worker is not None}
        ended = [(thread, status) for thread, status, _ in jobs if status in ("succeeded", "failed")]
        if len(ended) == count:
            return dict(ended), ran_on
        await asyncio.sleep(0.2)
    pytest.fail(f"jobs did not finish within {DEADLINE_S:.0f}s: {await _jobs(url)}")


async def test_many_runs_across_four_workers_end_without_an_error(
    queue_db: str, workers: Callable[[int], Workers], mia: Any, omar: Any
) -> None:
    settings = Settings()
    tasks = [_tracking(mia), _tracking(omar)]
    pool = workers(4)
    threads = [(await submit(tasks[i % 2], thread_id=f"load-{i:03d}", settings=settings))[0] for i in range(RUNS)]
    statuses, ran_on = await _settle(queue_db, RUNS)
    assert pool.stop() == [0, 0, 0, 0], pool.stderr()
    assert statuses == dict.fromkeys(threads, "succeeded"), pool.stderr()
    assert len(ran_on) >= 2, f"every run was taken by one worker: {ran_on}"
    for thread_id in threads:
        thread = await read_thread(thread_id, settings=settings)
        assert thread["status"] == "completed" and thread["outcome"] == "resolved", thread
        assert [e["agent"] for e in thread["trail"] if e["kind"] == "handoff"] == ["logistics"]


async def test_two_writers_on_one_thread_one_wins_and_history_does_not_fork(
    queue_db: str, workers: Callable[[int], Workers], mia: Any, omar: Any
) -> None:
    settings = Settings()
    pool = workers(2)
    first, second = _tracking(mia), _tracking(omar)
    await submit(first, thread_id="contested", settings=settings)
    app = build_app(settings)  # a second submitter past submit's checks: the thread lock alone must hold
    async with app.open_async():
        await app.tasks[RUN_TASK].defer_async(task=second, thread_id="contested")
    async with await psycopg.AsyncConnection.connect(queue_db) as conn:
        cursor = await conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s", [RUN_TASK])
        assert (await cursor.fetchone()) == (2,)
    ended: list[str] = []
    start = time.monotonic()
    while len(ended) < 2 and time.monotonic() - start < DEADLINE_S:
        ended = [status for _, status, _ in await _jobs(queue_db) if status in ("succeeded", "failed")]
        await asyncio.sleep(0.2)
    assert pool.stop() == [0, 0]
    assert sorted(ended) == ["failed", "succeeded"], pool.stderr()
    log = pool.stderr()
    assert "ThreadError" in log
    assert "being run or resumed by another process" in log or "already exists" in log

    thread = await read_thread("contested", settings=settings)
    assert thread["status"] == "completed"
    assert thread["task"] in (first, second)
    async with open_checkpointer(queue_db, key=settings.checkpoint_key()) as saver:
        history = [c async for c in saver.alist({"configurable": {"thread_id": "contested", "checkpoint_ns": ""}})]
    ids = [c.config["configurable"]["checkpoint_id"] for c in history]
    parents = [c.parent_config["configurable"]["checkpoint_id"] if c.parent_config else None for c in history]
    assert parents.count(None) == 1, "two runs started the thread: its history forked"
    assert parents[:-1] == ids[1:], "each checkpoint follows the one before it: one line, no branch"
    inputs = [c for c in history if c.metadata.get("source") == "input"]
    assert len(inputs) == 1


async def test_submit_refuses_bad_input_and_a_non_postgres_store(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="SWITCHBOARD_CHECKPOINT_DB=postgresql"):
        await submit("Where is my order?", settings=Settings(checkpoint_db=str(tmp_path / "c.sqlite")))
    with pytest.raises(TaskError):
        await submit("   ", settings=Settings(checkpoint_db="postgresql://nobody@/nowhere?host=/nonexistent"))


async def test_submit_refuses_a_thread_that_is_queued_or_exists(
    queue_db: str, workers: Callable[[int], Workers], mia: Any
) -> None:
    settings = Settings()
    await submit(_tracking(mia), thread_id="twice", settings=settings)
    with pytest.raises(ThreadError, match="already queued"):
        await submit(_tracking(mia), thread_id="twice", settings=settings)
    with pytest.raises(ThreadError, match="no thread 'twice'"):
        await submit_resume("twice", approved=False, settings=settings)  # queued, not started: nothing to answer
    pool = workers(1)
    assert await _wait_for_jobs(queue_db, 1) == ["succeeded"]
    assert pool.stop() == [0], pool.stderr()
    with pytest.raises(ThreadError, match="exists already"):
        await submit(_tracking(mia), thread_id="twice", settings=settings)
    assert len(await _jobs(queue_db)) == 1


async def _wait_for_jobs(url: str, count: int) -> list[str]:
    start = time.monotonic()
    while time.monotonic() - start < DEADLINE_S:
        ended = [status for _, status, _ in await _jobs(url) if status in ("succeeded", "failed")]
        if len(ended) >= count:
            return ended
        await asyncio.sleep(0.2)
    pytest.fail(f"jobs did not finish within {DEADLINE_S:.0f}s: {await _jobs(url)}")


async def test_a_paused_run_is_answered_through_the_queue_from_the_command_line(
    queue_db: str, workers: Callable[[int], Workers], retail_db: Path, mia: Any, principals: Path
) -> None:
    task = (
        f"Hi, this is {mia.name} ({mia.email}). The espresso machine and the headphones from my last "
        "delivered order arrived damaged. I want to return both and get my money back on the card I paid with."
    )
    pool = workers(1)
    queued = _cli("submit", task, "--thread", "q-return", "--json")
    assert json.loads(queued.stdout)["thread_id"] == "q-return", queued.stderr
    assert await _wait_for_jobs(queue_db, 1) == ["succeeded"], pool.stderr()
    settings = Settings()
    paused = await read_thread("q-return", settings=settings)
    assert paused["status"] == "paused", paused

    answered = _cli("submit", "--resume", "q-return", "--approve", "--as", "alice", "--note", "photos")
    assert answered.returncode == 0 and "queued job" in answered.stdout, answered.stderr
    assert await _wait_for_jobs(queue_db, 2) == ["succeeded", "succeeded"], pool.stderr()
    assert pool.stop() == [0]
    done = await read_thread("q-return", settings=settings)
    assert done["status"] == "completed" and done["outcome"] == "resolved", done
    with RetailStore.open(retail_db) as store:
        order = store.get_order(mia.orders["delivered_over_500"])
    assert order is not None and order["status"] == "returned"

    refused = _cli("submit", "--resume", "q-return")
    assert refused.returncode == 2 and "--approve or --reject" in refused.stderr
    late = _cli("submit", "--resume", "q-return", "--reject")  # was queued, to fail in the worker's log
    assert late.returncode == 2 and "is not waiting for an answer (completed)" in late.stderr
    assert len(await _jobs(queue_db)) == 2  # a refused submit queues nothing


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli_workers", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
