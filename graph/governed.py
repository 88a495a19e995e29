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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot, StateUpdate

from switchboard.errors import ThreadError

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


def governed(graph: CompiledStateGraph[Any, Any, Any, Any]) -> GovernedGraph:
    """The same compiled graph, as a :class:`GovernedGraph` (``copy`` keeps the class)."""
    graph.__class__ = GovernedGraph
    return graph  # type: ignore[return-value]


def _refuse_if_paused(snapshot: StateSnapshot, config: RunnableConfig) -> None:
    if not snapshot.interrupts:
        return
    thread = (config.get("configurable") or {}).get("thread_id")
    asked = snapshot.interrupts[0].value
    question = asked.get("question") if isinstance(asked, dict) else None
    raise ThreadError(
        f"thread {thread!r} is paused on a question ({question or 'waiting for a human'}); update_state would "
        "drop the paused step and skip its question. Answer it instead: `switchboard resume THREAD --approve "
        "--as NAME` (or reject), or Command(resume={INTERRUPT_ID: <sign_answer(...)>})"
    )
