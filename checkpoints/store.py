"""Long-term memory (a LangGraph Store) beside the checkpoints, in the same database.

Checkpoints hold one thread's state; a Store holds what outlives a thread
(notes about a customer, learned preferences), keyed by namespace. Both come
from one setting, so ``SWITCHBOARD_CHECKPOINT_DB=postgresql://…`` moves all of
a deployment's state to Postgres at once, and the default keeps it in the one
SQLite file. The stores are LangGraph's own; this module only picks one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
from langgraph.store.base import BaseStore
from langgraph.store.sqlite.aio import AsyncSqliteStore

from switchboard.checkpoints.factory import (
    SQLITE_BUSY_TIMEOUT_S,
    is_postgres,
    postgres_pool,
    setup_once,
    setup_sqlite,
)
from switchboard.errors import ConfigError


@asynccontextmanager
async def open_store(target: str | Path) -> AsyncIterator[BaseStore]:
    """Open the store named by ``target`` for the length of a block, creating its tables.

    Args:
        target: A SQLite file path or a ``postgresql://`` URL; pass the same
            target as :func:`~switchboard.checkpoints.open_checkpointer`
            (``Settings.checkpoint_target``) so state lives in one place.

    Raises:
        ConfigError: Postgres was asked for without the ``postgres`` extra.
    """
    if is_postgres(target):
        try:
            from langgraph.store.postgres.aio import AsyncPostgresStore
        except ImportError as exc:
            raise ConfigError("A Postgres store needs `pip install 'switchboard[postgres]'`") from exc
        async with postgres_pool(str(target)) as pool:  # concurrent runs use its connections at once
            store = AsyncPostgresStore(conn=pool)
            await setup_once(pool, store.setup)
            yield store
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Opened here rather than by ``from_conn_string`` for the longer busy timeout (see the checkpointer's).
    async with aiosqlite.connect(str(path), isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_S) as conn:
        sqlite_store = AsyncSqliteStore(conn)
        await setup_sqlite(path, sqlite_store.setup)
        yield sqlite_store
