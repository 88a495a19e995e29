"""LangGraph's checkpointer conformance suite, against the savers Switchboard opens.

The suite (``langgraph-checkpoint-conformance``) checks the storage contract
every saver must keep: blob round trips, metadata, namespaces, incremental
channel updates, pending writes, listing and deletion. It runs here on the
savers exactly as :func:`~switchboard.checkpoints.open_checkpointer` opens them,
each capability suite on a fresh, empty database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.report import CapabilityReport

from switchboard.checkpoints import open_checkpointer


def _failures(report: CapabilityReport) -> dict[str, list[str]]:
    return {name: result.failures for name, result in report.results.items() if result.passed is False}


def _assert_conforms(report: CapabilityReport, base: set[str]) -> None:
    assert report.passed_all_base(), _failures(report)
    assert report.passed_all(), _failures(report)  # every capability the saver implements, not just the base
    tested = {name for name, result in report.results.items() if result.passed and result.tests_passed > 0}
    assert base <= tested, report.to_dict()


BASE = {"put", "put_writes", "get_tuple", "list", "delete_thread"}


async def test_sqlite_saver_conforms(tmp_path: Path) -> None:
    @checkpointer_test(name="switchboard-sqlite")
    async def sqlite_saver() -> AsyncIterator[BaseCheckpointSaver[str]]:
        async with open_checkpointer(tmp_path / f"{uuid.uuid4().hex}.sqlite") as saver:
            yield saver

    _assert_conforms(await validate(sqlite_saver), BASE)


async def test_postgres_saver_conforms(postgres_url: str) -> None:
    async def fresh_database() -> str:
        name = f"conformance_{uuid.uuid4().hex[:12]}"
        async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
            await conn.execute(f'CREATE DATABASE "{name}"')
        return postgres_url.replace("/postgres?", f"/{name}?", 1)

    @checkpointer_test(name="switchboard-postgres")
    async def postgres_saver() -> AsyncIterator[BaseCheckpointSaver[str]]:
        async with open_checkpointer(await fresh_database()) as saver:
            yield saver

    _assert_conforms(await validate(postgres_saver), BASE)
