"""Concurrent threads on Postgres overlap their model waits, as on SQLite (issue 8)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from benchmarks.throughput import PacedModel, team_file
from switchboard.runs import open_graph, start_run
from switchboard.settings import Settings

THREADS = 8


def _settings(postgres_url: str, folder: Path) -> Settings:
    """The one-desk throughput team over the test's Postgres server."""
    return Settings(team=str(team_file(folder)), checkpoint_db=postgres_url, health_db=str(folder / "health.sqlite"))


async def test_eight_threads_on_postgres_have_all_their_model_calls_in_flight_at_once(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = _settings(postgres_url, tmp_path)
    model = PacedModel(delay=1.0)
    results = await asyncio.gather(
        *(start_run("Where is parcel 42?", settings=settings, model=model) for _ in range(THREADS))
    )
    assert [r.status for r in results] == ["completed"] * THREADS
    assert model.peak == THREADS  # nothing made one thread's model call wait for another's


async def test_concurrent_runs_on_postgres_write_through_savers_of_their_own_over_one_pool(
    postgres_url: str, tmp_path: Path
) -> None:
    # LangGraph's Postgres saver runs one query at a time per instance: runs
    # sharing one instance would write their checkpoints one after another.
    settings = _settings(postgres_url, tmp_path)
    model = PacedModel(delay=0)
    async with open_graph(settings, model=model) as first, open_graph(settings, model=model) as second:
        assert first.checkpointer is not second.checkpointer
        pools = {id(first.checkpointer.conn), id(second.checkpointer.conn)}  # type: ignore[union-attr]
        assert len(pools) == 1
        assert isinstance(first.checkpointer.conn, AsyncConnectionPool)  # type: ignore[union-attr]
        assert first.nodes["desk"] is second.nodes["desk"]  # still one compiled graph
