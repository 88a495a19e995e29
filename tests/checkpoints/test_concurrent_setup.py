"""Runs that start together on a fresh SQLite file all get a working store (issue 8).

The store's set-up applies its migrations and records each one; two runs
doing it at once on a new file both tried to record the first, and one run
failed before it began.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

from switchboard.checkpoints import open_checkpointer, open_store

TRIALS = 6


async def test_eight_stores_opened_at_once_on_a_fresh_file_all_work(tmp_path: Path) -> None:
    for attempt in range(TRIALS):  # a race: several fresh files, so that losing it is near certain
        await _open_eight_at_once(tmp_path / f"fresh-{attempt}.sqlite")


async def _open_eight_at_once(target: Path) -> None:
    async def one(index: int) -> object:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(open_checkpointer(target))
            store = await stack.enter_async_context(open_store(target))
            await store.aput(("notes",), f"key-{index}", {"n": index})
            return await store.aget(("notes",), f"key-{index}")

    items = await asyncio.gather(*(one(i) for i in range(8)))
    assert [item.value["n"] for item in items] == list(range(8))  # type: ignore[attr-defined]
