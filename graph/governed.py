"""The compiled supervisor graph: its state changes only by running it.

The guard learns its facts (whose orders these are, which customer the
thread serves) from the thread's own tool results, and the budgets, hop
limits and questions read the trail. ``update_state`` writes a checkpoint
"as if" a node had run, so a write from outside could plant a tool result no
tool returned (another customer's order "shown" as this one's) or a handoff
no agent made. On a thread paused on a question it also drops the paused
step: LangGraph plans the next steps from the written node, so the step
holding the refund (and its ``interrupt()``) never runs again, and the
question goes with it.

So the graph refuses every state write, whatever the entry point (Python,
Studio, a LangGraph server): a thread moves on only by running, with a new
turn (``{"task": ...}``) or an answer (``Command(resume=...)``), which the
graph checks. And while a question is pending, the only way forward is its
answer: a new turn would start over and leave the question behind. Likewise
a thread that stopped mid-run (cancelled, or its process ended, with steps
still to run) moves on only by continuing it with no input (``switchboard
resume``, ``ainvoke(None, config)``): a new turn would start the stopped step
over under a new assignment, hence new idempotency keys, and a write the step
had already made would be made again.

A ``Command`` given as the input of a run can write and steer too, and is
held to the same rules:

- ``Command(update=...)`` is a state write: refused;
- ``Command(goto=...)`` starts a node, or a ``Send`` with a made-up step,
  that the supervisor never routed, past the routing rules, handoff grants,
  confidence threshold and hop limit: refused. Steps run only when the
  supervisor routes them.

A run from an earlier checkpoint (a ``checkpoint_id`` that is not the
thread's latest: time travel) is refused as well: the branch would run the
thread's steps again beside the audit record of the ones that ran.

The one exception is how ``resume`` recovers a thread whose paused step
belongs to an agent since removed from the team (see
:func:`~switchboard.graph.trail.orphaned_steps`): it hands the step back, as
failed, to the supervisor or to ``finalize``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph._internal._constants import CONFIG_KEY_SEND
from langgraph.config import get_config
from langgraph.constants import CONFIG_KEY_CHECKPOINTER
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StateSnapshot, StateUpdate

from switchboard.agents.questions import QUESTION_KIND
from switchboard.errors import ConfigError, ThreadError
from switchboard.graph.trail import orphaned_steps

__all__ = ["GovernedGraph", "governed"]


class GovernedGraph(CompiledStateGraph[Any, Any, Any, Any]):
    """A compiled supervisor graph whose state only its own runs write (see module doc)."""

    governance: Any = None
    """The graph's :class:`~switchboard.agents.interrupts.Governance` (policy,
    principals, audit log), for tools that act on its threads from outside
    a run (the escalation sweeper reads answers from its audit log)."""

    def __init__(self, *args: Any, governance: Any = None, **kwargs: Any) -> None:
        # Pregel.copy() rebuilds the graph from its attributes, this one included.
        super().__init__(*args, **kwargs)
        self.governance = governance

    def bulk_update_state(self, config: RunnableConfig, supersteps: Sequence[Sequence[StateUpdate]]) -> RunnableConfig:
        """Refuse: a state write from outside a run (module doc)."""
        _refuse_goto_in(supersteps, config)
        _refuse_if_paused(self.get_state(_latest(config)), config)
        raise ThreadError(_NOT_WRITTEN.format(thread=_thread(config), what="update_state"))

    async def abulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[StateUpdate]]
    ) -> RunnableConfig:
        """Refuse: a state write from outside a run (module doc)."""
        _refuse_goto_in(supersteps, config)
        _refuse_if_paused(await self.aget_state(_latest(config)), config)
        raise ThreadError(_NOT_WRITTEN.format(thread=_thread(config), what="update_state"))

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """Refuse: the graph's nodes are asynchronous (``invoke`` comes here too); say what to call instead.

        LangGraph's own error names a node ("No synchronous function provided
        to 'intake'") and not the way out.
        """
        if _inside_a_run(config):  # a parent graph's node: its run decides, as LangGraph would
            if _checked(input) and isinstance(input, Command):  # but a Command never writes or steers, as in astream
                _refuse_input(input, self.get_state(_latest(config)), config or {}, set(self.nodes))
            yield from super().stream(input, config, **kwargs)
            return
        raise ConfigError(
            "Switchboard's graph runs asynchronously (its guard, tools and audit log are async): call "
            "`await graph.ainvoke(...)` or iterate `graph.astream(...)`; in a notebook cell, `await` works as is; "
            "from plain synchronous code, `asyncio.run(graph.ainvoke(...))`"
        )

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Refuse a ``Command`` that writes or steers, a new turn on a paused or stopped thread, a fork (module doc).

        An answer keyed by the id its question carries in its payload
        (``interrupt_id``) is sent on keyed by the pending interrupt's id,
        which is what LangGraph matches; one keyed by an id no pending
        question has is refused, where LangGraph would take it and resume
        nothing.
        """
        if _forks(config) and self._saver(config):
            _refuse_fork(await self.aget_state(_latest(config)), config or {})
        if _checked(input) and self._has_state(input, config):
            _refuse_input(input, await self.aget_state(_latest(config)), config or {}, set(self.nodes))
        if _keyed_resume(input) and self._saver(config) and not _inside_a_run(config):
            input = _rekeyed(input, await self.aget_state(_latest(config)), config or {})
        async for chunk in super().astream(input, config, **kwargs):
            yield chunk

    def _has_state(self, input: Any, config: RunnableConfig | None) -> bool:
        """Whether a new turn has a thread of its own to check: a checkpointer, and not run inside another graph.

        Without a checkpointer nothing can be paused; inside a parent graph
        (this graph as its node, or called from one) the thread and its pause
        are the parent's. Being inside is told by LangGraph's own run context,
        not by the caller's config: a ``checkpoint_ns`` anyone can send. A
        ``Command`` is always checked (LangGraph refuses one without a
        checkpointer anyway).
        """
        if isinstance(input, Command):
            return True
        return self._saver(config) and not _inside_a_run(config)

    def _saver(self, config: RunnableConfig | None) -> bool:
        """Whether the run has a checkpointer: without one there is no thread to check (or to fork)."""
        configurable = (config or {}).get("configurable") or {}
        return bool(configurable.get(CONFIG_KEY_CHECKPOINTER, self.checkpointer))


def _forks(config: RunnableConfig | None) -> bool:
    """Whether a run from outside names a checkpoint to start from (time travel), which may not be the latest."""
    return bool(((config or {}).get("configurable") or {}).get("checkpoint_id")) and not _inside_a_run(config)


def _refuse_fork(latest: StateSnapshot, config: RunnableConfig) -> None:
    """Refuse a run from an earlier checkpoint: a branch would run the thread's steps again beside their record.

    Their effects would be replayed by their idempotency keys, but the trail's
    audit entries are keyed by their place in the thread, so the branch's
    would meet the first branch's, and the thread would stop on its own
    audit trail. A governed thread runs on from where it stands.
    """
    given = (config.get("configurable") or {}).get("checkpoint_id")
    now = ((latest.config or {}).get("configurable") or {}).get("checkpoint_id")
    if given != now:
        raise ThreadError(
            f"thread {_thread(config)!r}: a run from an earlier checkpoint ({given}) would branch the thread and run "
            "its steps again beside the record of the ones that ran; a governed thread runs on from where it "
            "stands: drop checkpoint_id (or start a new thread)"
        )


def _inside_a_run(config: RunnableConfig | None = None) -> bool:
    """Whether this call comes from a node of a running graph, on that graph's own thread.

    Told by the node's own run config in the context: LangGraph gives every
    task a ``send`` function there, which no caller's JSON can carry. A
    config in the context is not enough: the LangGraph server puts its own
    there when it makes the graph, and leaves it for the run, so on a served
    graph every run would pass as a parent's node and skip the checks. And
    only on the parent's thread is the pause the parent's: a node that runs
    this graph on another ``thread_id`` is an outside caller of that thread.
    """
    try:
        parent = get_config()
    except RuntimeError:
        return False
    if not callable((parent.get("configurable") or {}).get(CONFIG_KEY_SEND)):
        return False
    own = ((config or {}).get("configurable") or {}).get("thread_id")
    return own is None or own == (parent.get("configurable") or {}).get("thread_id")


def governed(graph: CompiledStateGraph[Any, Any, Any, Any], governance: Any = None) -> GovernedGraph:
    """The same compiled graph, as a :class:`GovernedGraph` (``copy`` keeps the class and ``governance``)."""
    graph.__class__ = GovernedGraph
    graph.governance = governance  # type: ignore[attr-defined]
    return graph  # type: ignore[return-value]


def _thread(config: RunnableConfig) -> Any:
    return (config.get("configurable") or {}).get("thread_id")


def _refuse_if_paused(snapshot: StateSnapshot, config: RunnableConfig, *, what: str = "update_state") -> None:
    if not snapshot.interrupts:
        return
    asked = snapshot.interrupts[0].value
    question = asked.get("question") if isinstance(asked, dict) else None
    if isinstance(asked, dict) and asked.get("kind") == QUESTION_KIND:
        answer = 'Reply instead: `switchboard reply THREAD "TEXT"`, or Command(resume={INTERRUPT_ID: {"reply": TEXT}})'
    else:
        answer = (
            "Answer it instead: `switchboard resume THREAD --approve --as NAME` (or reject), "
            "or Command(resume={INTERRUPT_ID: <sign_answer(...)>})"
        )
    raise ThreadError(
        f"thread {_thread(config)!r} is paused on a question ({question or 'waiting for a human'}); {what} would "
        f"go around the paused step and its question. {answer}"
    )


def _refuse_if_stopped(snapshot: StateSnapshot, config: RunnableConfig) -> None:
    """Refuse a new turn on a thread that stopped mid-run: continuing it (input ``None``) is the only way on.

    Stopped mid-run is :func:`switchboard.runs.unfinished`'s notion (the A2A
    server's too): the thread's latest checkpoint still has tasks to run,
    named in ``next``, or done with their writes saved but not yet applied
    (``tasks``). Checked after :func:`_refuse_if_paused`, so a thread whose
    steps wait only on a question gets that refusal. A finished thread has
    neither, and a new thread no checkpoint at all; the check runs before
    the run writes its own input checkpoint, and never inside a run.
    """
    if not (snapshot.next or snapshot.tasks):
        return
    thread = _thread(config)
    left = f"{', '.join(snapshot.next)} still to run" if snapshot.next else "its last step's writes still to apply"
    raise ThreadError(
        f"thread {thread!r} stopped mid-run (cancelled, or its process ended), with {left}; a new turn would "
        "start the stopped step over under new idempotency keys, and a write it already made would be made "
        f"again. Continue it instead: `switchboard resume {thread}`, or run it with no input "
        "(graph.ainvoke(None, config))"
    )


def _latest(config: RunnableConfig | None) -> RunnableConfig:
    """The thread's own config, without a ``checkpoint_id``: the checks read where the thread stands now.

    A write or a run aimed at an earlier checkpoint forks the thread from
    there; checked against that checkpoint, a fork from before a question
    would leave the question behind. A ``checkpoint_ns`` (or its map) sent
    by a caller would point the check at a namespace that holds no pause.
    """
    config = config or {}
    dropped = {"checkpoint_id", "checkpoint_ns", "checkpoint_map"}
    configurable = {k: v for k, v in (config.get("configurable") or {}).items() if k not in dropped}
    return {**config, "configurable": configurable}


def _checked(input: Any) -> bool:
    """A run input that can write or steer (a ``Command`` with ``goto``/``update``), or start a new turn."""
    if isinstance(input, Command):
        return bool(input.goto) or input.update is not None
    return input is not None  # None continues where the thread stands; an answer is a Command(resume=...)


_INTERRUPT_ID = re.compile(r"[0-9a-f]{32}")
"""What LangGraph takes for an interrupt id (and a question's ``interrupt_id`` looks like): 32 hex digits."""


def _keyed_resume(input: Any) -> bool:
    """An answer keyed by interrupt ids: a ``Command(resume={ID: value, ...})`` that LangGraph reads as such."""
    if not isinstance(input, Command) or not isinstance(input.resume, dict) or not input.resume:
        return False
    return all(isinstance(key, str) and _INTERRUPT_ID.fullmatch(key) for key in input.resume)


def _rekeyed(command: Command[Any], snapshot: StateSnapshot, config: RunnableConfig) -> Command[Any]:
    """The answer keyed by pending interrupts' ids; a question's payload id is taken for its interrupt's.

    Raises:
        ThreadError: A key names no pending question, by either id; nothing is resumed.
    """
    pending = {item.id: item for item in snapshot.interrupts}
    by_payload = {
        str(item.value["interrupt_id"]): item.id
        for item in snapshot.interrupts
        if isinstance(item.value, dict) and item.value.get("interrupt_id")
    }
    answers: dict[str, Any] = {}
    assert isinstance(command.resume, dict)  # checked by _keyed_resume
    for key, value in command.resume.items():
        target = key if key in pending else by_payload.get(key)
        if target is None:
            waiting = "; ".join(
                f"{item.id} ({item.value.get('question') if isinstance(item.value, dict) else 'a question'})"
                for item in snapshot.interrupts
            )
            raise ThreadError(
                f"thread {_thread(config)!r}: no pending question has the id {key}, so that answer would resume "
                f"nothing; {'pending: ' + waiting if waiting else 'nothing is pending'}"
            )
        answers[target] = value
    return Command(graph=command.graph, update=command.update, resume=answers, goto=command.goto)


def _refuse_goto_in(supersteps: Sequence[Sequence[StateUpdate]], config: RunnableConfig) -> None:
    """A state write may write values, never schedule a step: ``update_state(Command(goto=...))`` would."""
    for superstep in supersteps:
        for update in superstep:
            if isinstance(update.values, Command) and update.values.goto:
                raise ThreadError(_NOT_ROUTED.format(thread=_thread(config)))


_NOT_WRITTEN = (
    "thread {thread!r}: the state of a governed thread changes only by running it; {what} would write tool "
    "results, facts or decisions that no step made, and the guard, budgets and questions trust the trail. Start a "
    "turn with {{'task': ...}}, or answer a question with Command(resume={{INTERRUPT_ID: ANSWER}})"
)
_NOT_ROUTED = (
    "thread {thread!r}: only the supervisor routes steps; a goto from outside (Command(goto=...) as a run's input "
    "or in update_state) would run a step past the routing rules, handoff grants and hop limit. Start a turn with "
    "{{'task': ...}}, or answer a question with Command(resume={{INTERRUPT_ID: ANSWER}})"
)


def _is_recovery(command: Command[Any], snapshot: StateSnapshot, nodes: set[str]) -> bool:
    """``resume`` handing back, as failed, the steps whose agent left the team, and nothing else."""
    orphans = orphaned_steps(snapshot.values or {}, nodes)
    if not orphans or command.goto not in ("supervisor", "finalize") or not isinstance(command.update, dict):
        return False
    expected: dict[str, Any] = {"trail": orphans}
    if command.goto == "finalize":
        expected["outcome"] = "rejected"
    return command.update == expected


def _refuse_input(command: Any, snapshot: StateSnapshot, config: RunnableConfig, nodes: set[str]) -> None:
    if not isinstance(command, Command):
        _refuse_if_paused(snapshot, config, what="a new turn")
        _refuse_if_stopped(snapshot, config)
        return
    if _is_recovery(command, snapshot, nodes):
        return  # nothing else can move such a thread
    if command.goto:
        raise ThreadError(_NOT_ROUTED.format(thread=_thread(config)))
    _refuse_if_paused(snapshot, config, what="Command(update=...)")
    raise ThreadError(_NOT_WRITTEN.format(thread=_thread(config), what="Command(update=...)"))
