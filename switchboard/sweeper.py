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
trail. A timeout it applies is run like any resume (telemetry, trace),
with the thread's own model, the one its checkpoints record, as ``switchboard
resume`` runs it; the claim's checkpoints record it in turn.

Run it from cron or a worker: ``switchboard escalations --sweep``, or
:func:`sweep` from Python.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from switchboard.checkpoints.audit import AuditEntry, AuditLog, open_audit
from switchboard.checkpoints.threads import thread_ids
from switchboard.errors import AuditError, CheckpointTampered, ConfigError
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
    action: Literal["rejected", "escalated", "refused", "answered", "unknown", "tampered", "unavailable"]
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
    (``question`` says why); ``unavailable``: the thread's own model (the
    one its checkpoints record) cannot be built in this process, e.g. its
    provider's package or key is missing, so nothing ran (``question`` says
    why); the other threads are swept all the same."""
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
    model: str | None = None,
) -> list[SweepResult]:
    """Resume every question whose step has timed out with a timeout claim.

    A thread with a question answered before its process ended is not
    resumed (see :class:`SweepResult`, ``answered``). A claim is sent as any
    resume is (:func:`switchboard.runs.drive`: telemetry, trace, one
    checkpoint per step). The answers on record, and what the graph decided
    on each claim, are read from the audit log the graph itself writes to.

    Args:
        graph: The governed supervisor graph, with its checkpointer.
        policy: The policy in force (its escalation paths), to pick what is due.
        now: The sweeper's time; the graph still decides by its own clock.
        threads: Only these threads; every thread in the checkpointer by default.
        lock: ``lock(thread_id)``: held while a thread is resumed, so a sweep
            never races a human answering the same thread.
        settings: Where the audit trail is (its data directory), only for a
            graph whose own audit log cannot be found (one not built by
            ``build_graph``).
        model: The model spec the graph's model was resolved from, recorded
            in the claims' checkpoints for the next resume (see
            :func:`~switchboard.runs.drive`); ``None`` records none.

    Raises:
        ConfigError: The graph's audit log cannot be found and no
            ``settings`` say where it is.
    """
    own = _graph_audit(graph)
    if own is None and settings is None:
        raise ConfigError(
            "sweep_graph: the graph's audit log cannot be found (was it built by build_graph?); "
            "pass settings=Settings(home=...) naming the data directory whose audit.sqlite the graph writes to"
        )
    data_dir = settings.data_dir if settings is not None else None
    results: list[SweepResult] = []
    ids = list(threads) if threads is not None else [t async for t in paused_threads(graph)]
    opened: list[AuditLog] = []

    def audit() -> AuditLog:  # the graph's own; else opened once something is due (a sweep of nothing opens none)
        if own is not None:
            return own
        if not opened and data_dir is not None:
            opened.append(open_audit(data_dir))
        return opened[0]

    try:
        for thread in ids:
            async with lock(thread) if lock else nullcontext():
                results.extend(await _sweep_thread(graph, policy, thread, now, audit, model))
    finally:
        for log in opened:  # never the graph's own: it stays open with the graph
            log.close()
    return results


def _graph_audit(graph: CompiledStateGraph[Any, Any, Any, Any]) -> AuditLog | None:
    """The audit log a graph built by ``build_graph`` writes to (``None``: not such a graph).

    Every question, answer and timeout decision of the graph is appended to
    its governance's log, wherever its data directory is
    (:attr:`~switchboard.graph.governed.GovernedGraph.governance`).
    """
    governance = getattr(graph, "governance", None)
    audit = getattr(governance, "audit", None)
    return audit if isinstance(audit, AuditLog) else None


async def _sweep_thread(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    policy: PolicyFile,
    thread: str,
    now: float,
    audit: Callable[[], AuditLog],
    model: str | None,
) -> list[SweepResult]:
    """Claim the timeouts due in one thread, one question at a time (the caller holds its lock)."""
    from switchboard.agents.interrupts import answer_on_record
    from switchboard.runs import drive, thread_config

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
            entries, mark = await asyncio.to_thread(_read, audit(), thread)
        except AuditError as exc:  # the graph decides nothing on a trail that does not verify
            return [*results, SweepResult(thread, "", str(exc), "tampered")]
        answered = answer_on_record(snapshot.interrupts, entries)
        if answered is not None:
            # Answered, then the process died before the answer's step ended: no timeout applies, and a claim
            # would only wake the step under that answer, here, outside the operator's `resume`. Left to it.
            item = answered[0]
            asked = dict(item.value) if isinstance(item.value, dict) else {}
            rid = str(asked.get("interrupt_id") or item.id)
            text = str(asked.get("question") or "")
            return [*results, SweepResult(thread, rid, text, "answered", answer=answered[1])]
        item = pending[0]
        question = dict(item.value)
        done.add(str(question["interrupt_id"]))
        await drive(graph, Command(resume={item.id: TIMEOUT}), thread, None, model=model)
        after = await graph.aget_state(config)
        try:
            entries = await asyncio.to_thread(audit().trusted_entries, thread)
        except AuditError as exc:
            return [*results, SweepResult(thread, str(question["interrupt_id"]), str(exc), "tampered")]
        results.append(_outcome(thread, question, after.interrupts, entries, mark))


def _read(audit: AuditLog, thread: str) -> tuple[list[AuditEntry], int]:
    """The thread's audit entries, verified, and its last one's number (0: none); later entries are the claim's."""
    entries = list(audit.trusted_entries(thread))  # a trail that does not verify is reported, not resumed on
    head = audit.head(thread)
    return entries, 0 if head is None else head[0]


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

    Each thread with a timeout due goes on with its own model, the one its
    checkpoints record, as ``switchboard resume`` continues it (see
    :func:`switchboard.runs.thread_settings`): a graph is opened per model
    the swept threads need, once something of theirs is due.

    Args:
        settings: Explicit settings; read from the environment when omitted.
        now: The sweeper's time; ``clock()`` (or the time now) by default.
        model: A ready chat model, if the resumed runs need one; it runs
            every swept thread, whatever model the thread recorded.
        clock: The graph's clock; tests inject one (see ``open_graph``).
    """
    from switchboard.agents.card import load_team
    from switchboard.monitoring.tracer import delivered_traces
    from switchboard.runs import open_graph, thread_lock

    settings = settings or Settings()
    policy = load_team(settings.team).load_policy()
    at = now if now is not None else (clock or time.time)()
    results: list[SweepResult] = []
    # Traces go to LangSmith after every lock is released, off the loop (as start_run's do).
    async with delivered_traces(), AsyncExitStack() as graphs:
        default = await graphs.enter_async_context(open_graph(settings, model=model, clock=clock))
        by_model = {settings.model: default}
        for thread in [t async for t in paused_threads(default)]:
            async with thread_lock(settings, thread):
                if not await _anything_due(default, policy, thread, at):
                    continue  # no graph is opened for the model of a thread with nothing due
                own = await _thread_settings(settings, thread, model)
                graph = by_model.get(own.model)
                if graph is None:
                    try:
                        graph = await graphs.enter_async_context(open_graph(own, model=model, clock=clock))
                    except ConfigError as exc:  # one thread's model missing here must not stop the others' sweep
                        why = f"its model {own.model!r} cannot be built here: {exc}"
                        results.append(SweepResult(thread, "", why, "unavailable"))
                        continue
                    by_model[own.model] = graph
                spec = None if model is not None else own.model  # a model object has no spec to rebuild it by
                results += await sweep_graph(graph, policy, now=at, threads=[thread], settings=own, model=spec)
    return results


async def _anything_due(
    graph: CompiledStateGraph[Any, Any, Any, Any], policy: PolicyFile, thread: str, now: float
) -> bool:
    """Whether a question of the thread is due at ``now``; a thread that fails its signature is, to be reported."""
    from switchboard.runs import thread_config

    try:
        snapshot = await graph.aget_state(thread_config(thread))
    except CheckpointTampered:
        return True
    return any(due(policy, item.value, now) for item in snapshot.interrupts)


async def _thread_settings(settings: Settings, thread: str, model: BaseChatModel | None) -> Settings:
    """The settings the thread goes on with: its own model, as ``resume`` picks it (a model object wins)."""
    from switchboard.runs import thread_settings

    try:
        return await thread_settings(settings, thread, model)
    except CheckpointTampered:  # read no further: sweep_graph reports it, running nothing
        return settings
