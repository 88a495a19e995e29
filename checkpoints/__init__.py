"""Where thread state lives: checkpointer and store factories (SQLite, Postgres) and thread locks."""

from __future__ import annotations

from switchboard.checkpoints.factory import is_postgres, open_checkpointer
from switchboard.checkpoints.locks import DEFAULT_TTL, held_threads, hold_thread
from switchboard.checkpoints.store import open_store
from switchboard.checkpoints.threads import thread_ids

__all__ = ["DEFAULT_TTL", "held_threads", "hold_thread", "is_postgres", "open_checkpointer", "open_store", "thread_ids"]
