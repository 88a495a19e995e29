"""Checkpointers: SQLite by default, Postgres at scale.

Both are LangGraph's own savers; this module only picks one from a setting
and opens it for the length of a run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from switchboard.errors import ConfigError


def is_postgres(target: str | Path) -> bool:
    """Whether a checkpoint target is a Postgres URL rather than a file."""
    return str(target).startswith(("postgres://", "postgresql://"))


@asynccontextmanager
async def open_checkpointer(target: str | Path) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Open the checkpointer named by ``target`` for the length of a block.

    Args:
        target: A SQLite file path or a ``postgresql://`` URL
            (``Settings.checkpoint_target`` gives the configured one).

    Raises:
        ConfigError: Postgres was asked for without the ``postgres`` extra.
    """
    if is_postgres(target):
        try:
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        except ImportError as exc:
            raise ConfigError("Postgres checkpoints need `pip install 'switchboard[postgres]'`") from exc
        async with AsyncPostgresSaver.from_conn_string(str(target)) as saver:
            await saver.setup()
            yield saver
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        yield saver
