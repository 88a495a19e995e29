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

Run it from cron or a worker: ``switchboard escalations --sweep``, or
:func:`sweep` from Python.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from switchboard.checkpoints.threads import thread_ids
from switchboard.errors import CheckpointTampered
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
    action: Literal["rejected", "escalated", "refused", "tampered"]
    """``rejected``: the path ran out and the run went on without it;
    ``escalated``: asked again of the next step's roles; ``refused``: the
    graph did not agree the time was up (clocks differ), nothing changed;
    ``tampered``: the thread's checkpoints fail their signature, so it was
    not read and nothing ran (``question`` says why)."""
    roles: tuple[str, ...] = ()
    """Who may answer now (for ``escalated``)."""


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
) -> list[SweepResult]:
    """Resume every question whose step has timed out with a timeout claim.

    Args:
        graph: The governed supervisor graph, with its checkpointer.
        policy: The policy in force (its escalation paths), to pick what is due.
        now: The sweeper's time; the graph still decides by its own clock.
        threads: Only these threads; every thread in the checkpointer by default.
        lock: ``lock(thread_id)``: held while a thread is resumed, so a sweep
            never races a human answering the same thread.
    """
    results: list[SweepResult] = []
    ids = list(threads) if threads is not None else [t async for t in paused_threads(graph)]
    for thread in ids:
        config = RunnableConfig(configurable={"thread_id": thread}, recursion_limit=200)
        async with lock(thread) if lock else nullcontext():
            done: set[str] = set()
            while True:
                try:
                    snapshot = await graph.aget_state(config)
                except CheckpointTampered as exc:
                    results.append(SweepResult(thread, "", str(exc), "tampered"))
                    break
                pending = [
                    i for i in snapshot.interrupts
                    if due(policy, i.value, now) and i.value.get("interrupt_id") not in done
                ]  # fmt: skip
                if not pending:
                    break
                item = pending[0]
                question = dict(item.value)
                done.add(str(question["interrupt_id"]))
                await graph.ainvoke(Command(resume={item.id: TIMEOUT}), config, durability="sync")
                after = await graph.aget_state(config)
                results.append(_outcome(thread, question, after.interrupts))
    return results


def _outcome(thread: str, question: dict[str, Any], interrupts: Iterable[Any]) -> SweepResult:
    rid = str(question["interrupt_id"])
    asked = (i.value for i in interrupts if isinstance(i.value, dict))
    again = next((value for value in asked if value.get("interrupt_id") == rid), None)
    text = str(question.get("question") or "")
    if again is None:
        return SweepResult(thread, rid, text, "rejected")
    if again.get("error"):
        return SweepResult(thread, rid, text, "refused", tuple(again.get("roles") or ()))
    return SweepResult(thread, rid, text, "escalated", tuple(again.get("roles") or ()))


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
    from switchboard.runs import open_graph, thread_lock

    settings = settings or Settings()
    policy = load_team(settings.team).load_policy()
    at = now if now is not None else (clock or time.time)()

    def lock(thread: str) -> AbstractAsyncContextManager[Any]:
        return thread_lock(settings, thread)

    async with open_graph(settings, model=model, clock=clock) as graph:
        return await sweep_graph(graph, policy, now=at, lock=lock)
