"""The LangChain callback handler that turns a run into telemetry events.

Attached to a run's config (or through :func:`switchboard.monitoring.recording`),
it sees every chain, model and tool run that LangGraph starts. It keeps only
what a reader needs: the root run (a start or resume of a thread), each node
of the supervisor graph and of the agents' subgraphs, each model call with
its tokens and cost, each tool call, and the reasons the nodes wrote into the
trail. LangChain's own wrappers (``RunnableSequence``, parsers) are skipped.

The handler runs inline on the event loop, so it does no I/O: events go to
the :class:`~switchboard.monitoring.monitor.Monitor`, which queues them for
a background writer. The root run is recorded twice, under one id: as it
starts (no outcome: ``running``), so a run still going or whose process died
is in ``trace`` and the dashboard, and as it ends, which replaces that row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from langgraph.errors import GraphInterrupt
from langgraph.types import Command

from switchboard.monitoring.costs import message_chars, usage_of
from switchboard.monitoring.events import Kind, TelemetryEvent
from switchboard.monitoring.trail import denial_events, reply_events, trail_events, update_of, waiting_events

if TYPE_CHECKING:
    from switchboard.monitoring.monitor import Monitor

log = logging.getLogger(__name__)

_STEP_TAG = "graph:step:"
_TASK_CHARS = 300


@dataclass
class _Open:
    """A run that started and has not ended yet."""

    event: TelemetryEvent
    prompt_chars: int = 0
    model: str | None = None


class TelemetryHandler(BaseCallbackHandler):
    """Records a run's steps, model calls, tool calls and reasons as telemetry events."""

    run_inline = True
    """Called on the event loop in order, without a thread hop: it only queues."""
    raise_error = False

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self._roots: dict[UUID, UUID] = {}
        self._open: dict[UUID, _Open] = {}
        self._threads: dict[UUID, str | None] = {}
        self._asked: dict[UUID, set[str]] = {}
        """Per root: interrupts already recorded (one interrupt errors every enclosing run)."""
        self._paused: set[UUID] = set()
        """Roots in which a node raised ``GraphInterrupt``: the run ends paused."""

    # Chains: the root run, and graph nodes.

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        meta = metadata or {}
        name = kwargs.get("name") or (serialized or {}).get("name") or "chain"
        if parent_run_id is None or parent_run_id not in self._roots:
            self._roots[run_id] = run_id
            self._threads[run_id] = _thread_of(meta)
            task = inputs.get("task") if isinstance(inputs, Mapping) else None
            reason = str(task)[:_TASK_CHARS] if task else "resume" if isinstance(inputs, Command) else None
            self._start(run_id, "run", name, None, meta, reason=reason)
            self.monitor.observe(self._open[run_id].event)  # on disk while it runs; its end replaces it (same id)
            log.info("thread %s: %s started", self._threads[run_id], "resume" if reason == "resume" else "run")
            return
        self._roots[run_id] = self._roots[parent_run_id]
        if tags and any(t.startswith(_STEP_TAG) for t in tags):
            namespace = str(meta.get("langgraph_checkpoint_ns") or "")
            kind: Kind = "substep" if "|" in namespace else "step"
            self._start(run_id, kind, name, _agent_of(meta), meta, parent=parent_run_id)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._roots.pop(run_id, None)
        opened = self._open.pop(run_id, None)
        if opened is None:
            return
        event = opened.event
        if event.kind == "run":
            self._threads.pop(run_id, None)
            self._asked.pop(run_id, None)
            paused = run_id in self._paused or (isinstance(outputs, Mapping) and "__interrupt__" in outputs)
            self._paused.discard(run_id)
            ended = self._end(event, "paused" if paused else "completed")
            log.info("thread %s: %s after %.0f ms", event.thread_id, ended.outcome, ended.duration_ms or 0.0)
            return
        ended = self._end(event, "ok")
        update = update_of(outputs)
        derived = (
            trail_events(update, ended)
            if event.kind == "step"
            else [*denial_events(update, ended), *reply_events(update, ended)]
        )
        for item in derived:
            self.monitor.observe(item)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        root = self._roots.pop(run_id, None)
        opened = self._open.pop(run_id, None)
        if isinstance(error, GraphInterrupt) and root is not None:
            self._paused.add(root)
        if opened is None:
            return
        if opened.event.kind == "run":
            self._threads.pop(run_id, None)
            self._paused.discard(run_id)
        key = root or run_id
        asked = self._asked.pop(key, set()) if opened.event.kind == "run" else self._asked.setdefault(key, set())
        if isinstance(error, GraphInterrupt):
            ended = self._end(opened.event, "paused")
            interrupts = [i for i in (error.args[0] if error.args else ()) if str(getattr(i, "id", "")) not in asked]
            asked.update(str(getattr(i, "id", "")) for i in interrupts)
            for item in waiting_events(interrupts, ended):
                self.monitor.observe(item)
            return
        failed = self._end(opened.event, "error", f"{type(error).__name__}: {error}")
        log.info("%s %s failed: %s", failed.kind, failed.name, failed.reason)

    # Models.

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        chars = sum(message_chars(batch) for batch in messages)
        self._start_model(run_id, parent_run_id, metadata or {}, serialized, kwargs, chars)

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._start_model(run_id, parent_run_id, metadata or {}, serialized, kwargs, sum(len(p) for p in prompts))

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        opened = self._open.pop(run_id, None)
        if opened is None:
            return
        usage = usage_of(response, opened.prompt_chars)
        cost = self.monitor.prices.cost(opened.model, usage.tokens_in, usage.tokens_out)
        event = replace(
            opened.event,
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            tokens_estimated=usage.estimated,
            cost=cost,
        )
        self._end(event, "ok")

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        opened = self._open.pop(run_id, None)
        if opened is not None:
            self._end(opened.event, "error", f"{type(error).__name__}: {error}")

    # Tools.

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name") or "tool"
        meta = metadata or {}
        self._start(
            run_id, "tool", name, _agent_of(meta), meta, parent=parent_run_id, extra={"args": inputs or input_str}
        )

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        opened = self._open.pop(run_id, None)
        if opened is not None:
            failed = getattr(output, "status", "success") == "error"
            self._end(
                opened.event, "error" if failed else "ok", str(getattr(output, "content", ""))[:300] if failed else None
            )

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        opened = self._open.pop(run_id, None)
        if opened is not None:
            self._end(opened.event, "error", f"{type(error).__name__}: {error}")

    # Bookkeeping.

    def _start_model(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        meta: Mapping[str, Any],
        serialized: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
        chars: int,
    ) -> None:
        model = _model_of(meta, kwargs.get("invocation_params") or {}, serialized or {})
        self._start(run_id, "llm", model or "model", _agent_of(meta), meta, parent=parent_run_id)
        self._open[run_id].prompt_chars = chars
        self._open[run_id].model = model

    def _start(
        self,
        run_id: UUID,
        kind: Kind,
        name: str,
        agent: str | None,
        meta: Mapping[str, Any],
        *,
        parent: UUID | None = None,
        reason: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        root = self._roots.get(parent, run_id) if parent is not None else run_id
        thread = self._threads.get(root) or _thread_of(meta)
        step = meta.get("langgraph_step")
        self._open[run_id] = _Open(
            TelemetryEvent(
                kind=kind,
                name=str(name),
                run_id=str(root),
                thread_id=thread,
                agent=agent,
                id=str(run_id),
                parent_id=None if parent is None else str(parent),
                reason=reason,
                metadata={**({"step": step} if step is not None else {}), **(extra or {})},
            )
        )

    def _end(self, event: TelemetryEvent, outcome: str, reason: str | None = None) -> TelemetryEvent:
        ended = replace(event, ended=time.time(), outcome=outcome, reason=reason or event.reason)
        self.monitor.observe(ended)
        return ended


def _thread_of(meta: Mapping[str, Any]) -> str | None:
    thread = meta.get("thread_id")
    return None if thread is None else str(thread)


def _agent_of(meta: Mapping[str, Any]) -> str | None:
    """The supervisor-graph node a run belongs to: the first segment of its checkpoint namespace."""
    namespace = str(meta.get("langgraph_checkpoint_ns") or meta.get("checkpoint_ns") or "")
    head = namespace.split("|", 1)[0].split(":", 1)[0]
    return head or (str(meta["langgraph_node"]) if meta.get("langgraph_node") else None)


def _model_of(meta: Mapping[str, Any], params: Mapping[str, Any], serialized: Mapping[str, Any]) -> str | None:
    """The model's name, as the price table keys it: ``provider:model`` when both are known."""
    name = meta.get("ls_model_name") or params.get("model") or params.get("model_name")
    provider = meta.get("ls_provider")
    if name and provider:
        return f"{provider}:{name}"
    if name:
        return str(name)
    return str(params.get("_type") or serialized.get("name") or "") or None
