"""Every thread in the checkpoint store and where it stands: nothing is forgotten.

A thread that paused for a human, or whose process died mid-run, waits
silently until someone resumes it. ``list_threads`` (``switchboard threads``)
finds them all, in SQLite or Postgres alike, with what each one waits for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from switchboard.checkpoints import held_threads, thread_ids
from switchboard.errors import AuditError, CheckpointTampered
from switchboard.runs import answered_question, open_graph, result_of, thread_config
from switchboard.settings import Settings

ThreadStatus = Literal["paused", "running", "failed", "completed", "tampered"]
THREAD_STATUSES: tuple[ThreadStatus, ...] = ("paused", "running", "failed", "completed", "tampered")


@dataclass(frozen=True)
class ThreadInfo:
    """One thread, as ``switchboard threads`` lists it."""

    thread_id: str
    status: ThreadStatus
    """paused for a human; running in a live process now; failed (stopped,
    ``switchboard resume`` continues it: also a thread that still lists a
    question answered before its process ended, whose answer stands);
    completed; or tampered (its checkpoints, or the audit trail its answers
    are read from, fail their signature: nothing runs on them)."""
    updated_at: str | None
    """When its latest checkpoint was written (ISO 8601, UTC)."""
    waiting_for: str | None
    """What would move it on: the pending question, or the command that continues it."""
    outcome: str | None = None
    """For completed threads: resolved, handed_over or rejected."""
    task: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` object."""
        return asdict(self)


async def list_threads(
    *, status: ThreadStatus | None = None, limit: int | None = None, settings: Settings | None = None
) -> list[ThreadInfo]:
    """The threads of the checkpoint store, most recently updated first.

    Args:
        status: Only threads in this state.
        limit: Read at most this many threads (the newest).
        settings: Explicit settings; read from the environment when omitted.
    """
    settings = settings or Settings()
    async with open_graph(settings, connect=False) as graph:
        saver: Any = graph.checkpointer
        ids = await thread_ids(saver, limit=limit)
        running = await held_threads(settings.checkpoint_target, ids)
        found: list[ThreadInfo] = []
        for thread_id in ids:
            try:
                snapshot = await graph.aget_state(thread_config(thread_id))
            except CheckpointTampered as exc:  # one bad thread must not hide the others
                info = ThreadInfo(thread_id, "tampered", None, str(exc))
            else:
                info = await _listed(graph, thread_id, snapshot, thread_id in running, settings)
            if status is None or info.status == status:
                found.append(info)
        return found


async def _listed(graph: Any, thread_id: str, snapshot: Any, running: bool, settings: Settings) -> ThreadInfo:
    """A thread as listed; a question answered before its process ended is not waiting for anyone.

    Whether it was answered is read from the thread's audit trail; a trail
    that cannot be read or verified leaves the thread listed by its
    checkpoint, with the trail's problem named (``switchboard audit
    verify`` tells which it is), rather than hiding it or calling it tampered.
    """
    try:
        answered = await answered_question(graph, thread_id, settings) if snapshot.interrupts else None
    except AuditError as exc:
        info = _info(thread_id, snapshot, running)
        return replace(info, waiting_for=f"{info.waiting_for or ''} (its audit trail: {exc})".strip())
    return _info(thread_id, snapshot, running, answered)


def _info(thread_id: str, snapshot: Any, running: bool, answered: tuple[str, str] | None = None) -> ThreadInfo:
    result = result_of(thread_id, snapshot)
    task = (snapshot.values or {}).get("task")
    if running:
        return ThreadInfo(thread_id, "running", snapshot.created_at, None, None, task)
    if answered is not None:  # as `switchboard show` says it
        stopped = (
            f"the question was {answered[1]} before its process ended; `switchboard resume {thread_id}` continues it"
        )
        return ThreadInfo(thread_id, "failed", snapshot.created_at, stopped, None, task)
    if result.status == "paused":
        question = str((result.pending or {}).get("question") or "an answer")
        return ThreadInfo(thread_id, "paused", snapshot.created_at, question, None, task)
    if result.status == "failed":
        return ThreadInfo(thread_id, "failed", snapshot.created_at, result.error, None, task)
    return ThreadInfo(thread_id, "completed", snapshot.created_at, None, result.outcome, task)
