"""Postgres checkpoints: the same runs, interrupts and resumes as on SQLite."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from switchboard.checkpoints import is_postgres, open_checkpointer, open_store
from switchboard.domains.retail import RetailStore
from switchboard.runs import read_thread, resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

pytestmark = pytest.mark.usefixtures("principals")  # alice, bob, sam and their keys (tests/conftest.py)


async def test_checkpointer_round_trip(postgres_url: str) -> None:
    assert is_postgres(postgres_url)
    async with open_checkpointer(postgres_url) as saver:
        assert type(saver).__name__ == "AsyncPostgresSaver"


async def test_paused_run_resumes_from_postgres_in_a_new_session(
    postgres_url: str, retail_db: Path, tmp_path: Path, mia: Any
) -> None:
    settings = Settings(checkpoint_db=postgres_url, health_db=str(tmp_path / "health.sqlite"))
    order_id = mia.orders["delivered_over_500"]
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
    assert order is not None
    item_ids = [item["item_id"] for item in order["items"]]
    method = order["payment_history"][0]["payment_method_id"]
    model = ScriptedChatModel(
        steps=[route("finance", "return all", skill="process_return"), finish()],
        agents={
            "finance": [
                call("find_user_id_by_email", email="mia.chen@example.com"),
                call("return_delivered_order_items", order_id=order_id, item_ids=item_ids, payment_method_id=method),
                handoff("Return requested."),
            ]
        },
    )
    paused = await start_run("return all", thread_id="pg-1", settings=settings, model=model)
    assert paused.status == "paused" and paused.pending is not None and paused.pending["rule"] == "large-refund"
    done = await resume_run("pg-1", approved=True, approver="alice", settings=settings, model=model)
    model.assert_complete()
    assert done.status == "completed"
    thread = await read_thread("pg-1", settings=settings)
    assert [e["kind"] for e in thread["trail"]] == ["decision", "escalation", "handoff", "decision", "report"]
    with RetailStore.open(retail_db) as store:
        assert store.get_order(order_id)["status"] == "return requested"


async def test_processes_opening_a_fresh_database_together_all_get_a_saver_and_a_store(postgres_url: str) -> None:
    """Workers starting together each run LangGraph's table set-up; none may fail on the others' migrations."""
    name = f"fresh_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
        await conn.execute(f'CREATE DATABASE "{name}"')
    fresh = postgres_url.replace("/postgres?", f"/{name}?", 1)

    async def open_both() -> tuple[str, str]:
        async with open_checkpointer(fresh) as saver, open_store(fresh) as store:
            return type(saver).__name__, type(store).__name__

    opened = await asyncio.gather(*(open_both() for _ in range(6)))
    assert opened == [("AsyncPostgresSaver", "AsyncPostgresStore")] * 6


async def test_postgres_checkpoints_are_signed_and_a_planted_blob_is_refused(
    postgres_url: str, retail_db: Path, tmp_path: Path
) -> None:
    from switchboard.checkpoints.signing import SUFFIX
    from switchboard.errors import CheckpointTampered

    settings = Settings(checkpoint_db=postgres_url, health_db=str(tmp_path / "health.sqlite"))
    thread = f"pg-signed-{uuid.uuid4().hex[:8]}"
    model = ScriptedChatModel(steps=[finish("hi")])
    assert (await start_run("hello", thread_id=thread, settings=settings, model=model)).status == "completed"
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
        kinds = await (
            await conn.execute(
                "SELECT type FROM checkpoint_blobs WHERE thread_id = %s AND type <> 'empty' "
                "UNION ALL SELECT type FROM checkpoint_writes WHERE thread_id = %s",
                (thread, thread),
            )
        ).fetchall()
        assert kinds and all(kind.endswith(SUFFIX) for (kind,) in kinds)
        await conn.execute(  # someone with the database's password, not the data directory's key
            "UPDATE checkpoint_blobs SET blob = overlay(blob placing '\\x00'::bytea from 2 for 1) "
            "WHERE thread_id = %s AND channel = 'messages'",
            (thread,),
        )
    with pytest.raises(CheckpointTampered):
        await read_thread(thread, settings=settings)
