"""Exactly-once effects: the retail server's record of keyed calls.

A client that may repeat a write (a step re-run after a crash) sends an
idempotency key with it (:mod:`switchboard.agents.idempotency`). The server
records the key, the call and its result in the same SQLite transaction as
the write, so the two land together or not at all:

- a first call runs the operation and records it;
- a repeat with the same key and the same arguments returns the recorded
  result and writes nothing;
- the same key with another tool or other arguments is refused with
  :class:`IdempotencyConflict`, because it means a client bug, not a retry;
- a refused operation (a :class:`~switchboard.errors.ToolError`) rolls back
  and records nothing: it changed nothing, so running it again is safe and
  sees the current state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from switchboard.domains.retail.store import RetailStore
from switchboard.errors import ToolError

IDEMPOTENCY_META_KEY = "switchboard/idempotency-key"
"""Where a client puts a call's idempotency key in the MCP request's ``_meta``.

The contract is this string, not an import: a domain server in any language
reads the same key (the client's copy is in ``switchboard.agents.idempotency``).
"""

REPLAY_META_KEY = "switchboard/idempotency"
"""Where the server says, in a keyed result's ``_meta``, whether it replayed the call."""
REPLAY_ONLY_META_KEY = "switchboard/replay-only"
"""Request ``_meta`` flag (true, beside the key): answer from the key's record
if there is one, else an error; never run the effect. The guard asks this
before deciding a re-run call again."""


class IdempotencyConflict(ToolError):
    """An idempotency key came back with another tool or other arguments than its first use."""


@dataclass(frozen=True)
class KeyedResult:
    """What a keyed call returned, and whether it was answered from the record."""

    text: str
    """The tool's result as sent to the client (JSON, or a plain string)."""
    replayed: bool
    """True when the operation did not run again: the first call's result was returned."""


def run_once(
    store: RetailStore, key: str, tool: str, arguments: Mapping[str, Any], effect: Callable[[], str]
) -> KeyedResult:
    """Run ``effect`` at most once per ``key``, recording it in the effect's transaction.

    Args:
        store: The database the effect writes to (its transaction takes the write lock
            before the record is read, so two servers racing on one key serialise).
        key: The caller's idempotency key.
        tool: The tool being called, part of what a repeat must match.
        arguments: The validated arguments, part of what a repeat must match.
        effect: Runs the operation and returns its result text.

    Raises:
        IdempotencyConflict: The key was first used for a different call.
        ToolError: The operation refused; nothing was recorded.
    """
    fingerprint = json.dumps(arguments, sort_keys=True, default=str)
    with store.transaction():
        seen = store.recorded_call(key)
        if seen is not None:
            if seen["tool"] != tool or seen["arguments"] != fingerprint:
                raise IdempotencyConflict(
                    f"Idempotency key {key!r} was first used for {seen['tool']} with arguments "
                    f"{seen['arguments']}; it cannot be reused for {tool} with {fingerprint}. "
                    "Derive a new key for a different call; nothing was changed."
                )
            return KeyedResult(seen["result"], replayed=True)
        text = effect()
        store.record_call(key, tool, fingerprint, text, datetime.now(UTC).isoformat(timespec="seconds"))
        return KeyedResult(text, replayed=False)
