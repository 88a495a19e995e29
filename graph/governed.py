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
        """Refuse on a paused thread (see module doc); otherwise LangGraph's own."""
        _refuse_if_paused(self.get_state(config), config)
        return super().bulk_update_state(config, supersteps)

    async def abulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[StateUpdate]]
    ) -> RunnableConfig:
        """Refuse on a paused thread (see module doc); otherwise LangGraph's own."""
        _refuse_if_paused(await self.aget_state(config), config)
        return await super().abulk_update_state(config, supersteps)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """Refuse a ``Command`` that writes to a paused thread or steers past the supervisor (module doc)."""
        if _steers(input):
            _refuse_steering(input, self.get_state(config or {}), config or {}, set(self.nodes))
        yield from super().stream(input, config, **kwargs)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Refuse a ``Command`` that writes to a paused thread or steers past the supervisor (module doc)."""
        if _steers(input):
            _refuse_steering(input, await self.aget_state(config or {}), config or {}, set(self.nodes))
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


def _steers(input: Any) -> bool:
    return isinstance(input, Command) and (bool(input.goto) or input.update is not None)


_RECOVERY_GOTO = frozenset({"supervisor", "finalize"})
_RECOVERY_UPDATE = frozenset({"trail", "outcome"})


def _refuse_steering(command: Command[Any], snapshot: StateSnapshot, config: RunnableConfig, nodes: set[str]) -> None:
    thread = (config.get("configurable") or {}).get("thread_id")
    update = command.update if isinstance(command.update, dict) else {}
    if (
        isinstance(command.goto, str)
        and command.goto in _RECOVERY_GOTO
        and set(update) <= _RECOVERY_UPDATE
        and orphaned_steps(snapshot.values or {}, nodes)
    ):
        return  # resume handing back a step whose agent left the team: nothing else can move the thread
    if command.goto:
        raise ThreadError(
            f"thread {thread!r}: only the supervisor routes steps; Command(goto=...) from outside would run a step "
            "past the routing rules, handoff grants and hop limit. Start a turn with {'task': ...}, or answer a "
            "question with Command(resume={INTERRUPT_ID: ANSWER})"
        )
    if snapshot.interrupts:
        _refuse_if_paused(snapshot, config, what="Command(update=...)")
