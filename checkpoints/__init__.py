"""Where thread state lives: checkpointer factories (SQLite, Postgres)."""

from __future__ import annotations

from switchboard.checkpoints.factory import is_postgres, open_checkpointer

__all__ = ["is_postgres", "open_checkpointer"]
