"""LangSmith traces a reviewer can read: the real ``langsmith`` client, through LangChain's tracer.

With ``LANGSMITH_TRACING=true`` LangChain traces every runnable a run
touches: a demo return came to 164 runs, 63 of them ``RunnableSequence``,
``RunnableParallel``, ``RunnableLambda`` or parser wrappers from structured
output, seven supervisor runs that all read ``supervisor``, and an approval
pause recorded as a ``GraphInterrupt`` error on three runs. The
:class:`ReadableTracer` is LangChain's own ``LangChainTracer``, posting
through the ``langsmith`` client, with four changes:

* wrappers are folded: not sent, their children attached to the nearest
  run that is (so is an agent's subgraph run, which repeats its node);
* each step is renamed and labelled when it ends from what it returned
  (:mod:`~switchboard.monitoring.labels`), and each model call gets its
  tokens and cost (measured or approximated, as in the local telemetry);
* a ``GraphInterrupt`` ends its runs as paused (``outputs.paused`` holds the
  question, tag ``paused``), not as errors;
* the client masks secrets in inputs, outputs and metadata before sending
  (:mod:`~switchboard.monitoring.redact`).

:func:`langsmith_tracing` installs it for the runs of a block when tracing
is on, the way ``tracing_v2_enabled`` installs the plain tracer; it does
nothing otherwise. The client sends from its own thread; :func:`delivered_traces`
waits (bounded by :data:`FLUSH_TIMEOUT_S`) for the client(s) the block's
runs traced with to catch up, which ``start_run`` and ``resume_run`` do
after the thread's lock is released. The wait is in a thread of its own
(one at most per client), never in the event loop's default pool, where
the checkpoints and the audit log do their I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from langchain_core.tracers.context import tracing_v2_callback_var
from langchain_core.tracers.langchain import LangChainTracer
from langchain_core.tracers.schemas import Run
from langgraph.errors import GraphInterrupt
from langsmith import Client
from langsmith import utils as ls_utils

from switchboard.monitoring.costs import PriceTable, message_chars, usage_of
from switchboard.monitoring.handler import _model_of
from switchboard.monitoring.labels import POLICY_TAG, Label, policy_label, step_label
from switchboard.monitoring.redact import redact
from switchboard.monitoring.trail import update_of

log = logging.getLogger(__name__)

HIDDEN_TAG = "langsmith:hidden"
_STEP_TAG = "graph:step:"
_FOLDED = "__switchboard_folded"

FLUSH_TIMEOUT_S = 2.0
"""The longest, in seconds, :func:`deliver_traces` waits for LangSmith to take the traces sent so far.

The ``langsmith`` client sends from a thread of its own, so a long-lived
process (workers, the A2A server) needs no wait; the wait lets a short-lived
one (the CLI) hand its traces over before it exits. A healthy endpoint takes
a run's traces in well under a second (0.04 s on loopback); an unreachable
one holds the waiter until the client's retries give up: about ten seconds
when the connection is refused, minutes when it is accepted and never
answered. Two seconds is ample for a healthy endpoint and caps what an
unreachable one costs. The wait is in a thread of its own, after the
thread's lock is released, so neither the event loop (every other run of
the process), the thread, nor the default thread pool (checkpoint and audit
I/O) waits for LangSmith. What is not taken in time stays queued: the client keeps sending
it in the background and, unless ``LANGSMITH_USE_DAEMON=true``, before the
process exits (which an unreachable endpoint delays in the same way).
"""

_traced: weakref.WeakSet[Client] = weakref.WeakSet()
"""Every client :func:`langsmith_tracing` traced with: what :func:`deliver_traces` waits for outside a run."""
_run_clients: ContextVar[set[Client] | None] = ContextVar("switchboard_langsmith_run_clients", default=None)
"""The clients the runs of the current :func:`delivered_traces` block traced with (:func:`langsmith_tracing` adds)."""
_waits: weakref.WeakKeyDictionary[Client, Future[None]] = weakref.WeakKeyDictionary()
"""Per client, its latest flush wait: one still running is shared, not repeated."""
_waits_guard = threading.Lock()
WAITER_NAME = "switchboard-langsmith-flush"
"""The name of the threads that wait for a client to send (daemon threads, one at most per client at a time)."""
_warned: set[str] = set()
"""Endpoints already warned about: one warning per endpoint and process, not one per run."""
_warned_guard = threading.Lock()


def is_wrapper(run: Run, parent: Run | None) -> bool:
    """Whether ``run`` is plumbing a reader should not see.

    LangChain's composition runnables (``Runnable*``), output parsers, runs
    tagged ``langsmith:hidden``, and a run named like its parent (an agent's
    subgraph inside the node that runs it). A root run is never folded.
    """
    if parent is None:
        return False
    name = run.name or ""
    return (
        HIDDEN_TAG in (run.tags or [])
        or run.run_type == "parser"
        or name.startswith("Runnable")
        or name.endswith("Parser")
        or (run.run_type == "chain" and name == parent.name)
    )


@dataclass
class _Shared:
    """State every copy of the tracer shares (LangChain copies it per configured callback manager)."""

    prices: PriceTable
    prompt_chars: dict[str, int] = field(default_factory=dict)
    paused: dict[str, list[Any]] = field(default_factory=dict)
    """Per trace: the questions a ``GraphInterrupt`` asked, for the root run."""


class ReadableTracer(LangChainTracer):
    """``LangChainTracer`` that folds wrappers, labels steps, and records pauses as pauses.

    Args:
        prices: For the cost of each model call; the shipped table by default.
        **kwargs: As ``LangChainTracer`` (``client``, ``project_name``...).
    """

    def __init__(self, prices: PriceTable | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shared = _Shared(prices or PriceTable.load())

    def copy_with_metadata_defaults(
        self, *, metadata: Mapping[str, str] | None = None, tags: list[str] | None = None
    ) -> LangChainTracer:
        copy = super().copy_with_metadata_defaults(metadata=metadata, tags=tags)
        if isinstance(copy, ReadableTracer):
            copy._shared = self._shared
        return copy

    # Folding.

    def _start_trace(self, run: Run) -> None:
        parent = self.run_map.get(str(run.parent_run_id)) if run.parent_run_id else None
        if parent is not None and parent.extra.get(_FOLDED):
            run.parent_run_id = parent.parent_run_id  # a folded run's parent is already visible
            parent = self.run_map.get(str(run.parent_run_id)) if run.parent_run_id else None
        if is_wrapper(run, parent):
            run.extra[_FOLDED] = True
            run.extra["__disabled"] = True  # LangChainTracer neither posts nor patches a disabled run
        super()._start_trace(run)

    # Steps, policy checks and pauses.

    def on_chain_end(self, outputs: Any, *, run_id: UUID, inputs: dict[str, Any] | None = None, **kwargs: Any) -> Run:
        run = self.run_map.get(str(run_id))
        if run is not None and not run.extra.get(_FOLDED):
            self._label(run, outputs)
        return super().on_chain_end(outputs, run_id=run_id, inputs=inputs, **kwargs)

    def on_chain_error(
        self, error: BaseException, *, inputs: dict[str, Any] | None = None, run_id: UUID, **kwargs: Any
    ) -> Run:
        if not isinstance(error, GraphInterrupt):
            return super().on_chain_error(error, inputs=inputs, run_id=run_id, **kwargs)
        asked = [getattr(i, "value", i) for i in (error.args[0] if error.args else ())]
        run = self.run_map.get(str(run_id))
        if run is not None:
            self._shared.paused.setdefault(str(run.trace_id), asked)
            _apply(run, Label(metadata={"outcome": "paused"}, tags=("paused",)))
        return super().on_chain_end({"paused": asked}, run_id=run_id, inputs=inputs)

    def _label(self, run: Run, outputs: Any) -> None:
        tags = run.tags or []
        if run.parent_run_id is None:
            asked = self._shared.paused.pop(str(run.trace_id), None)
            paused = asked is not None or (isinstance(outputs, Mapping) and "__interrupt__" in outputs)
            status = "paused" if paused else "completed"
            _apply(run, Label(metadata={"outcome": status}, tags=(status,)))
        elif POLICY_TAG in tags:
            _apply(run, policy_label(str(run.extra.get("metadata", {}).get("tool") or ""), outputs))
        elif any(t.startswith(_STEP_TAG) for t in tags):
            _apply(run, step_label(run.name, update_of(outputs)))

    # Model calls: tokens and cost.

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], *, run_id: UUID, **kwargs: Any
    ) -> Run:
        self._shared.prompt_chars[str(run_id)] = sum(message_chars(batch) for batch in messages)
        return super().on_chat_model_start(serialized, messages, run_id=run_id, **kwargs)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> Run:
        run = self.run_map.get(str(run_id))
        chars = self._shared.prompt_chars.pop(str(run_id), 0)
        if run is not None:
            meta = run.extra.get("metadata") or {}
            model = _model_of(meta, run.extra.get("invocation_params") or {}, run.serialized or {})
            usage = usage_of(response, chars)
            cost = self._shared.prices.cost(model, usage.tokens_in, usage.tokens_out)
            tokens = {"tokens_in": usage.tokens_in, "tokens_out": usage.tokens_out}
            _apply(run, Label(metadata={**tokens, "tokens_estimated": usage.estimated, "cost": cost}))
        return super().on_llm_end(response, run_id=run_id, **kwargs)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> Run:
        self._shared.prompt_chars.pop(str(run_id), None)
        return super().on_llm_error(error, run_id=run_id, **kwargs)


def _apply(run: Run, label: Label) -> None:
    """Write a label on a run before it is patched (metadata is copied: children may share the dict)."""
    if label.name:
        run.name = label.name
    if label.metadata:
        run.extra["metadata"] = {**(run.extra.get("metadata") or {}), **label.metadata}
    if label.tags:
        run.tags = sorted({*(run.tags or []), *label.tags})


@functools.lru_cache(maxsize=4)
def redacting_client(api_url: str | None, api_key: str | None) -> Client:
    """A LangSmith client that masks secrets in everything it sends (one per endpoint and key)."""
    return Client(api_url=api_url, api_key=api_key, hide_inputs=redact, hide_outputs=redact, hide_metadata=redact)


@contextmanager
def langsmith_tracing(prices: PriceTable | None = None) -> Iterator[ReadableTracer | None]:
    """Trace the runs started in the block with a :class:`ReadableTracer`, when tracing is on.

    Tracing is on when LangSmith says so (``LANGSMITH_TRACING=true``; the
    endpoint, key and project come from the usual ``LANGSMITH_*``
    variables). A tracer the caller installed (``tracing_v2_enabled``) is
    left alone. Leaving the block does not wait for the client to send what
    was traced (it never blocks, so it is safe on an event loop): await
    :func:`deliver_traces` for that, as ``start_run`` and ``resume_run`` do.
    """
    if tracing_v2_callback_var.get() is not None or not ls_utils.tracing_is_enabled():
        yield None
        return
    client = redacting_client(ls_utils.get_env_var("ENDPOINT"), ls_utils.get_env_var("API_KEY"))
    _traced.add(client)
    run_clients = _run_clients.get()
    if run_clients is not None:  # inside delivered_traces: the clients its block waits for
        run_clients.add(client)
    tracer = ReadableTracer(prices, client=client)
    token = tracing_v2_callback_var.set(tracer)
    try:
        yield tracer
    finally:
        tracing_v2_callback_var.reset(token)


async def deliver_traces(timeout: float = FLUSH_TIMEOUT_S, *, clients: Iterable[Client] | None = None) -> None:
    """Wait, at most ``timeout`` seconds, for LangSmith to take the traces sent so far.

    Waits for ``clients``; by default, inside :func:`delivered_traces`, for
    the clients its block's runs traced with, and outside it for every
    client :func:`langsmith_tracing` traced with in this process. Does
    nothing when there are none. The event loop goes on meanwhile, and the
    waits take no thread of its default pool: each is in a daemon thread of
    its own, and a client already waited for is not waited for again in
    another thread: this wait shares the one in progress (which takes the
    traces sent since it began too). Traces not taken in time stay queued in
    the client, which keeps sending them; the first time an endpoint is
    late, one warning says so (later times are logged at debug level).
    Never raises: tracing does not fail a run.
    """
    if clients is None:
        run_clients = _run_clients.get()
        clients = run_clients if run_clients is not None else _traced
    waits = [_wait(client, timeout) for client in list(clients)]
    if waits:
        await asyncio.gather(*waits)


@asynccontextmanager
async def delivered_traces(timeout: float = FLUSH_TIMEOUT_S) -> AsyncIterator[None]:
    """:func:`deliver_traces` when the block ends, also when it raised (not when it was cancelled).

    Waits for the clients the block's runs traced with (the runs
    :func:`langsmith_tracing` traced in the block, and in the tasks and
    threads the block started), not for other runs' clients. Enter it
    before the thread's lock, so the wait comes after the lock is released:
    ``async with delivered_traces(), thread_lock(...):``.
    """
    clients: set[Client] = set()
    token = _run_clients.set(clients)
    try:
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):  # left in another context than entered: nothing to restore
                _run_clients.reset(token)
    except Exception:
        await deliver_traces(timeout, clients=clients)
        raise
    await deliver_traces(timeout, clients=clients)


async def _wait(client: Client, timeout: float) -> None:
    """Wait for ``client`` to send, in its waiter thread: a new one, or the one already waiting for it."""
    with _waits_guard:
        running = _waits.get(client)
        if running is None or running.done():
            running, shared = Future(), False
            running.set_running_or_notify_cancel()  # an awaiter that gives up cannot cancel it for the others
            _waits[client] = running
        else:
            shared = True
    if shared:
        log.debug("LangSmith at %s: already waited for; this run shares that wait", client.api_url)
        with contextlib.suppress(TimeoutError):  # what it does not take in time is logged by its own waiter
            await asyncio.wait_for(asyncio.wrap_future(running), timeout)
        return
    waiter = threading.Thread(target=_waiter, args=(client, timeout, running), name=WAITER_NAME, daemon=True)
    try:
        waiter.start()
    except RuntimeError as exc:  # no thread to be had: the client goes on sending; tracing never fails a run
        running.set_result(None)
        _late(client, f"no thread to wait in ({exc!r})")
        return
    await asyncio.wrap_future(running)  # bounded: the waiter waits at most ``timeout``


def _waiter(client: Client, timeout: float, done: Future[None]) -> None:
    """A waiter thread's work: :func:`_deliver`, then ``done``."""
    try:
        _deliver(client, timeout)
    finally:
        done.set_result(None)


def _deliver(client: Client, timeout: float) -> None:
    """Flush ``client`` for at most ``timeout`` seconds (blocks: run it in a waiter thread); warn once if it is late."""
    try:
        client.flush(timeout=timeout)
    except Exception as exc:  # tracing never fails a run
        _late(client, f"flushing failed ({exc!r})")
        return
    queue = client.tracing_queue
    pending = queue.unfinished_tasks if queue is not None else 0
    if pending:
        _late(client, f"{pending} trace updates still unsent after {timeout:g} s")


def _late(client: Client, why: str) -> None:
    """Say that ``client``'s endpoint is late: a warning the first time for the endpoint, then at debug level."""
    with _warned_guard:
        first = client.api_url not in _warned
        _warned.add(client.api_url)
    message = "LangSmith at %s is slow or unreachable (%s); the client keeps sending in the background%s"
    if first:
        log.warning(message, client.api_url, why, "; this is logged once per endpoint")
    else:
        log.debug(message, client.api_url, why, "")
