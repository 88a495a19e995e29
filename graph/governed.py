"""The compiled supervisor graph, with state writes that cannot skip a question.

``update_state`` writes a new checkpoint "as if" a node had run. On a thread
paused on a question that drops the paused step: LangGraph plans the next
steps from the written node, so the agent step holding the refund (and its
``interrupt()``) is simply never run again, and the question with it. Nothing
moves money that way (the call never runs), but the thread loses its step
and ends without an outcome, which is "skipping the approval" all the same.

So the graph refuses such writes, whatever the entry point (Python, Studio,
a LangGraph server): while a question is pending, the only way forward is an
answer (``Command(resume=...)``), which the graph checks.

A ``Command`` given as the input of a run can write and steer too, and is
held to the same rules:

- ``Command(update=...)`` is a state write: refused while a question is
  pending, like ``update_state``;
- ``Command(goto=...)`` starts a node, or a ``Send`` with a made-up step,
  that the supervisor never routed, past the routing rules, handoff grants,
  confidence threshold and hop limit: refused always. Steps run only when
  the supervisor routes them. The one exception is how ``resume`` recovers
  a thread whose paused step belongs to an agent since removed from the
  team (see :func:`~switchboard.graph.trail.orphaned_steps`): it hands the
  step back, as failed, to the supervisor or to ``finalize``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StateSnapshot, StateUpdate

from switchboard.errors import ThreadError
from switchboard.graph.trail import orphaned_steps

__all__ = ["GovernedGraph", "governed"]


class GovernedGraph(CompiledStateGraph[Any, Any, Any, Any]):
    """A compiled supervisor graph whose state writes never drop a pending question."""

    def bulk_update_state(self, config: RunnableConfig, supersteps: Sequence[Sequence[StateUpdate]]) -> RunnableConfig:
        """Refuse on a paused thread, or a write that steers (see module doc); otherwise LangGraph's own."""
        _refuse_goto_in(supersteps, config)
        _refuse_if_paused(self.get_state(_latest(config)), config)
        return super().bulk_update_state(config, supersteps)

    async def abulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[StateUpdate]]
    ) -> RunnableConfig:
        """Refuse on a paused thread, or a write that steers (see module doc); otherwise LangGraph's own."""
        _refuse_goto_in(supersteps, config)
        _refuse_if_paused(await self.aget_state(_latest(config)), config)
        return await super().abulk_update_state(config, supersteps)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """Refuse a ``Command`` that writes to a paused thread or steers past the supervisor (module doc)."""
        if _steers(input):
            _refuse_steering(input, self.get_state(_latest(config)), config or {}, set(self.nodes))
        yield from super().stream(input, config, **kwargs)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Refuse a ``Command`` that writes to a paused thread or steers past the supervisor (module doc)."""
        if _steers(input):
            _refuse_steering(input, await self.aget_state(_latest(config)), config or {}, set(self.nodes))
        async for chunk in super().astream(input, config, **kwargs):
            yield chunk


def governed(graph: CompiledStateGraph[Any, Any, Any, Any]) -> GovernedGraph:
    """The same compiled graph, as a :class:`GovernedGraph` (``copy`` keeps the class)."""
    graph.__class__ = GovernedGraph
    return graph  # type: ignore[return-value]


def _refuse_if_paused(snapshot: StateSnapshot, config: RunnableConfig, *, what: str = "update_state") -> None:
    if not snapshot.interrupts:
        return
    thread = (config.get("configurable") or {}).get("thread_id")
    asked = snapshot.interrupts[0].value
    question = asked.get("question") if isinstance(asked, dict) else None
    raise ThreadError(
        f"thread {thread!r} is paused on a question ({question or 'waiting for a human'}); {what} would "
        "write around the paused step and its question. Answer it instead: `switchboard resume THREAD --approve "
        "--as NAME` (or reject), or Command(resume={INTERRUPT_ID: <sign_answer(...)>})"
    )


def _latest(config: RunnableConfig | None) -> RunnableConfig:
    """The thread's config without a ``checkpoint_id``: the checks read where the thread stands now.

    A write or a run aimed at an earlier checkpoint forks the thread from
    there; checked against that checkpoint, a fork from before a question
    would leave the question behind.
    """
    config = config or {}
    configurable = {k: v for k, v in (config.get("configurable") or {}).items() if k != "checkpoint_id"}
    return {**config, "configurable": configurable}


def _steers(input: Any) -> bool:
    return isinstance(input, Command) and (bool(input.goto) or input.update is not None)


def _refuse_goto_in(supersteps: Sequence[Sequence[StateUpdate]], config: RunnableConfig) -> None:
    """A state write may write values, never schedule a step: ``update_state(Command(goto=...))`` would."""
    for superstep in supersteps:
        for update in superstep:
            if isinstance(update.values, Command) and update.values.goto:
                raise ThreadError(_NOT_ROUTED.format(thread=(config.get("configurable") or {}).get("thread_id")))


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


def _refuse_steering(command: Command[Any], snapshot: StateSnapshot, config: RunnableConfig, nodes: set[str]) -> None:
    if _is_recovery(command, snapshot, nodes):
        return  # nothing else can move such a thread
    if command.goto:
        raise ThreadError(_NOT_ROUTED.format(thread=(config.get("configurable") or {}).get("thread_id")))
    if snapshot.interrupts:
        _refuse_if_paused(snapshot, config, what="Command(update=...)")
