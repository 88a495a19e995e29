"""Deterministic crash points: the test hook behind the SIGKILL crash matrix.

A durable run must survive being killed at any instant, and the instants that
matter are few: just before and just after each side effect, and just before
and just after each checkpoint write. Sleeping and killing at random rarely
lands in those windows; this hook lands in them every time.

Set ``SWITCHBOARD_CRASH_AT=BOUNDARY:N`` and the process kills itself with
``SIGKILL`` (no cleanup, no ``finally``, exactly like a power cut or the OOM
killer) the N-th time it reaches ``BOUNDARY``:

- ``effect-before`` / ``effect-after``: a tool call carrying an idempotency
  key, just before it is sent, and just after the server's answer arrived
  (the effect is committed, the run has not recorded it yet);
- ``checkpoint-before`` / ``checkpoint-after``: a checkpoint, or a task's
  pending writes, just before and just after it is saved.

``SWITCHBOARD_CRASH_LOG=FILE`` appends one line per boundary reached, so a
crash-free run tells the matrix how many windows of each kind there are.

Unset (always, in production) every hook is one dictionary lookup and does
nothing. The variable is read when the hook is reached, not at import.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver

CRASH_VARIABLE = "SWITCHBOARD_CRASH_AT"
"""``BOUNDARY:N``: die the N-th time ``BOUNDARY`` is reached (N counts from 1)."""
CRASH_LOG_VARIABLE = "SWITCHBOARD_CRASH_LOG"
"""A file to append each boundary reached to, one per line."""

Boundary = Literal["effect-before", "effect-after", "checkpoint-before", "checkpoint-after"]
BOUNDARIES: tuple[Boundary, ...] = ("effect-before", "effect-after", "checkpoint-before", "checkpoint-after")

_reached: Counter[str] = Counter()


def crash_point(boundary: Boundary) -> None:
    """Mark a boundary; die here if ``SWITCHBOARD_CRASH_AT`` says so."""
    spec = os.environ.get(CRASH_VARIABLE)
    log = os.environ.get(CRASH_LOG_VARIABLE)
    if not spec and not log:
        return
    _reached[boundary] += 1
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(boundary + "\n")
    name, _, count = (spec or "").rpartition(":")
    if name == boundary and count.isdigit() and _reached[boundary] == int(count):
        os.kill(os.getpid(), signal.SIGKILL)


def armed(saver: BaseCheckpointSaver[Any]) -> BaseCheckpointSaver[Any]:
    """``saver``, with crash points around every checkpoint write when the hook is on.

    With neither variable set the saver is returned untouched: production
    never runs through the wrapper.
    """
    if not os.environ.get(CRASH_VARIABLE) and not os.environ.get(CRASH_LOG_VARIABLE):
        return saver
    put, put_writes = saver.aput, saver.aput_writes

    async def aput(*args: Any, **kwargs: Any) -> Any:
        crash_point("checkpoint-before")
        saved = await put(*args, **kwargs)
        crash_point("checkpoint-after")
        return saved

    async def aput_writes(*args: Any, **kwargs: Any) -> None:
        crash_point("checkpoint-before")
        await put_writes(*args, **kwargs)
        crash_point("checkpoint-after")

    # The saver is LangGraph's own; only this instance's two write methods are wrapped.
    saver.aput = aput  # type: ignore[method-assign]
    saver.aput_writes = aput_writes  # type: ignore[method-assign]
    return saver
