"""Where thread state lives: checkpointer factories (SQLite, Postgres)."""

from __future__ import annotations

from checkpoints.factory import CHECKPOINTS_DIR, DEFAULT_CHECKPOINT_DB, is_postgres, open_checkpointer

__all__ = ["CHECKPOINTS_DIR", "DEFAULT_CHECKPOINT_DB", "is_postgres", "open_checkpointer"]
