"""Which threads a checkpoint store holds: the index behind ``switchboard threads``.

LangGraph's savers list checkpoints, not threads; walking every checkpoint
of every thread to find the ids would read the whole history. One grouped
query over the saver's own ``checkpoints`` table, on its own connection,
reads each thread once. Only the thread ids come from here: what a thread's
state means is read through the graph (``aget_state``), like everything else.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from switchboard.checkpoints.factory import connection

_QUERY = (
    "SELECT thread_id, MAX(checkpoint_id) AS latest FROM checkpoints "
    "WHERE checkpoint_ns = '' GROUP BY thread_id ORDER BY latest DESC"
)
"""Top-level checkpoints only; checkpoint ids are time-ordered (uuid6), so the newest thread comes first."""


async def thread_ids(saver: BaseCheckpointSaver[Any], *, limit: int | None = None) -> list[str]:
    """Ids of the threads in ``saver``, the most recently updated first.

    Args:
        saver: An open SQLite or Postgres saver (``open_checkpointer``).
        limit: At most this many threads.
    """
    query = _QUERY + (f" LIMIT {int(limit)}" if limit is not None else "")
    if isinstance(saver, SqliteSaver):  # ours (checkpoints/sqlite_saver.py): its own lock, set up, on a thread
        return await asyncio.to_thread(_sqlite_ids, saver, query)
    conn: Any = getattr(saver, "conn", None)
    if conn is None:  # an in-memory or foreign saver: walk its checkpoints
        seen: dict[str, None] = {}
        async for item in saver.alist(None):
            seen.setdefault(str(item.config["configurable"]["thread_id"]), None)
        return list(seen)[:limit]
    if isinstance(saver, AsyncSqliteSaver):  # a fresh file has no tables yet
        await saver.setup()
    async with connection(conn) as session:  # a Postgres saver holds a pool
        cursor = await session.execute(query)
        rows = await cursor.fetchall()
    return [str(row["thread_id"] if isinstance(row, dict) else row[0]) for row in rows]


def _sqlite_ids(saver: SqliteSaver, query: str) -> list[str]:
    with saver.cursor(transaction=False) as cursor:
        return [str(row[0]) for row in cursor.execute(query)]
