"""Escalation timeouts that act when nobody answers: the sweeper.

A question on an escalation path (``escalations:`` in the policy) has a
deadline per step. Nobody has to be there when it passes: the sweeper finds
paused threads whose current step's deadline is over and resumes each such
question with :data:`~switchboard.policies.answers.TIMEOUT`. It decides
nothing itself. The graph checks the claim by its own clock against the
question's recorded ``asked_at`` (see :mod:`switchboard.agents.interrupts`):

* past the last step's deadline (``on_timeout: reject``) the question is
  rejected and the run goes on as after a human's "no";
* past an earlier step's deadline (``on_timeout: escalate``) it is asked
  again, now answerable by the next step's roles;
* before any deadline the claim is refused, recorded, and the thread stays
  paused, so a forged "expired" resume achieves nothing.

A question that was answered already, its answer on the audit record, while
the process that took it ended before its step did (a killed ``resume
--approve``), is still listed by the thread, but no timeout applies to it:
that answer stands, and the graph would go on under it whatever the claim.
The sweeper reports it ``answered`` and leaves it, and the rest of the
thread, to ``switchboard resume THREAD``. What the sweeper reports for the
others is what the graph recorded for its claim, read back from the audit
trail. A timeout it applies is run like any resume (telemetry, trace).

Run it from cron or a worker: ``switchboard escalations --sweep``, or
:func:`sweep` from Python.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from switchboard.checkpoints.audit import AuditEntry, AuditLog, open_audit
from switchboard.checkpoints.threads import thread_ids
from switchboard.errors import AuditError, CheckpointTampered
from switchboard.policies import PolicyFile
from switchboard.policies.answers import TIMEOUT, request_status
from switchboard.settings import Settings

__all__ = ["SweepResult", "due", "paused_threads", "sweep", "sweep_graph"]

Lock = Callable[[str], AbstractAsyncContextManager[Any]]


@dataclass(frozen=True)
class SweepResult:
    """What the graph did with one expired question."""

    thread: str
    interrupt_id: str
    """The question's id (``interrupt_id`` in its payload)."""
    question: str
    action: Literal["rejected", "escalated", "refused", "answered", "unknown", "tampered"]
    """``rejected``: the path ran out and the run went on without it;
    ``escalated``: asked again of the next step's roles; ``refused``: the
    graph did not agree the time was up (clocks differ), nothing changed;
    ``answered``: the question was answered before the process that took
    the answer ended (``answer`` says how); that answer stands, so no
    timeout was claimed and nothing ran: ``switchboard resume THREAD``
    continues the thread; ``unknown``: the claim was sent and the question
    is no longer asked, but the graph recorded no decision on it (see
    ``switchboard show THREAD``); ``tampered``: the thread's checkpoints or
    its audit trail fail their signature, so it was not read and nothing ran
    (``question`` says why)."""
    roles: tuple[str, ...] = ()
    """Who may answer now (for ``escalated``)."""
    answer: str = ""
    """For ``answered``: the answer on record, e.g. ``approved by alice``."""


def due(policy: PolicyFile, question: Any, now: float) -> bool:
    """Whether a pending question's current step has timed out at ``now`` (by the sweeper's clock)."""
    if not isinstance(question, dict) or "asked_at" not in question:
        return False
    status = request_status(policy, question, now)
    return status.state == "rejected" or status.step > int(question.get("step") or 0)


async def paused_threads(graph: CompiledStateGraph[Any, Any, Any, Any]) -> AsyncIterator[str]:
    """Every thread in the graph's checkpointer, newest first, each once.

    Thread ids only (:func:`~switchboard.checkpoints.thread_ids`): nothing of
    a thread is decoded here, so one thread whose checkpoints fail their
    signature cannot stop the sweep of the others.
    """
    saver = graph.checkpointer
    if saver is None or saver is True or saver is False:
        return
    for thread in await thread_ids(saver):
        yield thread


async def sweep_graph(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    policy: PolicyFile,
    *,
    now: float,
    threads: Iterable[str] | None = None,
    lock: Lock | None = None,
    settings: Settings | None = None,
) -> list[SweepResult]:
    """Resume every question whose step has timed out with a timeout claim.

    A thread with a question answered before its process ended is not
    resumed (see :class:`SweepResult`, ``answered``). A claim is sent as any
    resume is (:func:`switchboard.runs.drive`: telemetry, trace, one
    checkpoint per step).

    Args:
        graph: The governed supervisor graph, with its checkpointer.
        policy: The policy in force (its escalation paths), to pick what is due.
        now: The sweeper's time; the graph still decides by its own clock.
        threads: Only these threads; every thread in the checkpointer by default.
        lock: ``lock(thread_id)``: held while a thread is resumed, so a sweep
            never races a human answering the same thread.
        settings: Where the audit trail is (its data directory), read for
            the answers on record and what the graph decided; read from the
            environment when omitted.
    """
    settings = settings or Settings()
    results: list[SweepResult] = []
    ids = list(threads) if threads is not None else [t async for t in paused_threads(graph)]
    opened: list[AuditLog] = []

    def audit() -> AuditLog:  # opened once something is due: a sweep of nothing makes no audit log
        if not opened:
            opened.append(open_audit(settings.data_dir))
        return opened[0]

    try:
        for thread in ids:
            async with lock(thread) if lock else nullcontext():
                results.extend(await _sweep_thread(graph, policy, thread, now, settings, audit))
    finally:
        for log in opened:
            log.close()
    return results


async def _sweep_thread(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    policy: PolicyFile,
    thread: str,
    now: float,
    settings: Settings,
    audit: Callable[[], AuditLog],
) -> list[SweepResult]:
    """Claim the timeouts due in one thread, one question at a time (the caller holds its lock)."""
    from switchboard.runs import answered_question, drive, thread_config

    config = thread_config(thread)
    results: list[SweepResult] = []
    done: set[str] = set()
    while True:
        try:
            snapshot = await graph.aget_state(config)
        except CheckpointTampered as exc:
            return [*results, SweepResult(thread, "", str(exc), "tampered")]
        pending = [
            i for i in snapshot.interrupts
            if due(policy, i.value, now) and i.value.get("interrupt_id") not in done
        ]  # fmt: skip
        if not pending:
            return results
        try:
            answered = await answered_question(graph, thread, settings)
            mark = await asyncio.to_thread(_head, audit(), thread)
        except AuditError as exc:  # the graph decides nothing on a trail that does not verify
            return [*results, SweepResult(thread, "", str(exc), "tampered")]
        if answered is not None:
            # Answered, then the process died before the answer's step ended: no timeout applies, and a claim
            # would only wake the step under that answer, here, outside the operator's `resume`. Left to it.
            item = next((i for i in snapshot.interrupts if i.id == answered[0]), pending[0])
            asked = dict(item.value) if isinstance(item.value, dict) else {}
            rid = str(asked.get("interrupt_id") or item.id)
            text = str(asked.get("question") or "")
            return [*results, SweepResult(thread, rid, text, "answered", answer=answered[1])]
        item = pending[0]
        question = dict(item.value)
        done.add(str(question["interrupt_id"]))
        await drive(graph, Command(resume={item.id: TIMEOUT}), thread, None)
        after = await graph.aget_state(config)
        try:
            entries = await asyncio.to_thread(audit().trusted_entries, thread)
        except AuditError as exc:
            return [*results, SweepResult(thread, str(question["interrupt_id"]), str(exc), "tampered")]
        results.append(_outcome(thread, question, after.interrupts, entries, mark))


def _head(audit: AuditLog, thread: str) -> int:
    """The sequence number of the thread's last audit entry (0: none); entries after it are the claim's."""
    audit.trusted_entries(thread)  # a trail that does not verify is reported, not resumed on
    head = audit.head(thread)
    return 0 if head is None else head[0]


def _outcome(
    thread: str, question: dict[str, Any], interrupts: Iterable[Any], entries: Sequence[AuditEntry], mark: int
) -> SweepResult:
    """What the graph did with the claim, as it recorded it: the thread's audit entries after ``mark``.

    Not inferred from the question being gone: a thread goes on, and stops
    listing the question, under an answer on record as well as after a
    timeout's rejection.
    """
    from switchboard.agents.interrupts import recorded_verdict

    rid = str(question["interrupt_id"])
    text = str(question.get("question") or "")
    asked = (i.value for i in interrupts if isinstance(i.value, dict))
    again = next((value for value in asked if value.get("interrupt_id") == rid), None)
    roles = tuple(again.get("roles") or ()) if again is not None else ()
    for entry in reversed(entries):
        payload = entry.payload
        if entry.seq <= mark or payload.get("interrupt_id") != rid:
            continue
        if entry.kind == "escalation" and payload.get("by") and payload.get("outcome") == "rejected":
            return SweepResult(thread, rid, text, "rejected")
        if entry.kind == "escalation" and payload.get("by") and payload.get("outcome") == "escalated":
            return SweepResult(thread, rid, text, "escalated", roles or tuple(payload.get("roles") or ()))
        if entry.kind == "approval_refused" and payload.get("reason") == "answered":
            break  # an answer on record stood: read it below
        if entry.kind == "approval_refused":
            return SweepResult(thread, rid, text, "refused", roles)
    verdict = recorded_verdict(entries, rid)
    if verdict is not None:  # answered meanwhile (a sweep without the thread lock): that answer decided
        how = "approved" if verdict.approved else "rejected"
        return SweepResult(thread, rid, text, "answered", roles, f"{how} by {verdict.answered_by or 'a human'}")
    if again is not None and again.get("error"):
        return SweepResult(thread, rid, text, "refused", roles)
    return SweepResult(thread, rid, text, "unknown", roles)


async def sweep(
    settings: Settings | None = None,
    *,
    now: float | None = None,
    model: BaseChatModel | None = None,
    clock: Callable[[], float] | None = None,
) -> list[SweepResult]:
    """Sweep the checkpoints of ``settings`` (what ``switchboard escalations --sweep`` runs).

    Args:
        settings: Explicit settings; read from the environment when omitted.
        now: The sweeper's time; ``clock()`` (or the time now) by default.
        model: A ready chat model, if the resumed runs need one.
        clock: The graph's clock; tests inject one (see ``open_graph``).
    """
    from switchboard.agents.card import load_team
    from switchboard.monitoring.tracer import delivered_traces
    from switchboard.runs import open_graph, thread_lock

    settings = settings or Settings()
    policy = load_team(settings.team).load_policy()
    at = now if now is not None else (clock or time.time)()

    def lock(thread: str) -> AbstractAsyncContextManager[Any]:
        return thread_lock(settings, thread)

    # Traces go to LangSmith after every lock is released, off the loop (as start_run's do).
    async with delivered_traces(), open_graph(settings, model=model, clock=clock) as graph:
        return await sweep_graph(graph, policy, now=at, lock=lock, settings=settings)
