"""LangGraph's SQLite saver, with each async call on a worker thread in one hop.

``AsyncSqliteSaver`` drives ``aiosqlite``, whose every cursor, statement,
fetch and commit is a round trip between the event loop and the
connection's thread: about ten per superstep (a checkpoint and a task's
writes), so 80 or more per task. Under concurrent runs those wake-ups were
a large share of the event loop's work, and the loop is what concurrent
runs take turns on. This saver is LangGraph's own ``SqliteSaver`` (the same
schema and queries, its own thread lock around the one connection); only
its async methods are added, each running the sync method it mirrors on a
worker thread, so an operation costs one hop whatever SQL it runs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata, CheckpointTuple
from langgraph.checkpoint.sqlite import SqliteSaver

from switchboard.checkpoints import fence

_WRITING: ContextVar[tuple[str, str] | None] = ContextVar("switchboard_fenced_write", default=None)
"""The thread and lock owner of the checkpoint write in progress on this thread, when it is fenced."""


class ThreadedSqliteSaver(SqliteSaver):
    """``SqliteSaver`` with async methods that each run one sync call off the event loop.

    Its writes are fenced (:mod:`switchboard.checkpoints.fence`): made under a
    thread lock, each checks in its own transaction that the lock is still
    this process's.
    """

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        """LangGraph's cursor, with a fenced write's lock check first in its transaction."""
        with super().cursor(transaction) as cur:
            writing = _WRITING.get()
            if transaction and writing is not None:
                fence.check(self.conn, *writing)
            yield cur

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """LangGraph's ``put``, fenced when this context holds the thread's lock."""
        with _fenced(config):
            return super().put(config, checkpoint, metadata, new_versions)

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        """LangGraph's ``put_writes``, fenced when this context holds the thread's lock."""
        with _fenced(config):
            super().put_writes(config, writes, task_id, task_path)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """``get_tuple`` on a worker thread."""
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """``list`` on a worker thread, read whole (it holds the connection's lock while it iterates)."""
        items = await asyncio.to_thread(lambda: list(self.list(config, filter=filter, before=before, limit=limit)))
        for item in items:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """``put`` on a worker thread."""
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        """``put_writes`` on a worker thread."""
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """``delete_thread`` on a worker thread."""
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def aget_delta_channel_history(self, *, config: RunnableConfig, channels: Sequence[str]) -> Mapping[str, Any]:
        """``get_delta_channel_history`` on a worker thread."""
        return await asyncio.to_thread(lambda: self.get_delta_channel_history(config=config, channels=channels))


@contextmanager
def _fenced(config: RunnableConfig) -> Iterator[None]:
    thread_id = str((config.get("configurable") or {}).get("thread_id") or "")
    owner = fence.owner_of(thread_id)
    token = _WRITING.set((thread_id, owner) if owner else None)
    try:
        yield
    finally:
        _WRITING.reset(token)
