"""Attach the monitor to every run started in a context, without touching the run's code.

LangChain lets a context variable contribute a callback handler to every
callback manager configured while it is set (``register_configure_hook``,
the same mechanism as ``tracing_v2_enabled``). :func:`recording` sets it, so
``start_run``, ``resume_run``, ``graph.ainvoke`` or anything else run inside
the ``with`` block records telemetry. Context variables follow asyncio
tasks, so concurrent runs in other contexts are not affected.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.runnables import RunnableConfig
from langchain_core.tracers.context import register_configure_hook
from langgraph.config import get_config

from switchboard.monitoring.alerts import Alert
from switchboard.monitoring.config import MonitoringConfig
from switchboard.monitoring.handler import TelemetryHandler
from switchboard.monitoring.monitor import Monitor, open_monitor
from switchboard.monitoring.sinks import Sink

log = logging.getLogger(__name__)
G = TypeVar("G", bound=Any)

_active: ContextVar[TelemetryHandler | None] = ContextVar("switchboard_telemetry", default=None)
_unavailable: ContextVar[bool] = ContextVar("switchboard_telemetry_unavailable", default=False)
_hooked = threading.Lock()
_registered = False


def _register() -> None:
    global _registered
    with _hooked:
        if not _registered:
            register_configure_hook(_active, True)
            _registered = True


def current_monitor() -> Monitor | None:
    """The monitor recording in this context, if any."""
    handler = _active.get()
    return handler.monitor if handler else None


def telemetry_unavailable() -> bool:
    """Whether this context is in a ``recording()`` block whose database could not be opened.

    The block has warned already; runs inside it (``run_telemetry``) must not
    try the same file again, which would warn twice and, on a locked file,
    wait out the busy timeout twice.
    """
    return _unavailable.get()


@contextmanager
def recording(
    monitor: Monitor | None = None,
    *,
    config: MonitoringConfig | None = None,
    listeners: Sequence[Sink] = (),
) -> Iterator[Monitor | None]:
    """Record every run started inside the block.

    Re-entrant: inside an active block the outer monitor keeps recording and
    is yielded again, so a library call that records does not split the CLI's
    telemetry. A monitor created here is flushed and closed on exit. Yields
    ``None`` when the configuration turns telemetry off, or when its database
    cannot be opened (logged): the runs inside still run.
    """
    outer = _active.get()
    if outer is not None:
        yield outer.monitor
        return
    own = monitor is None
    if own:
        config = config or MonitoringConfig.for_runs()
        if not config.enabled:
            yield None
            return
        monitor = open_monitor(config, listeners=listeners)
        if monitor is None:  # its database cannot be opened (logged): the block's runs go on unrecorded
            unavailable = _unavailable.set(True)
            try:
                yield None
            finally:
                _unavailable.reset(unavailable)
            return
    assert monitor is not None
    _register()
    log.info("recording telemetry to %s", monitor.store.path)
    token = _active.set(monitor.handler)
    try:
        yield monitor
    finally:
        _active.reset(token)
        if own:
            monitor.close()
        else:
            monitor.flush()


def instrument(graph: G, monitor: Monitor | None = None) -> G:
    """A copy of a compiled graph whose every run records, whoever starts it.

    For entry points that never pass through ``switchboard.runs``, such as
    ``langgraph dev`` and LangGraph servers loading ``graph/app.py``: the
    handler goes into the graph's default callbacks (``Pregel.with_config``),
    which LangGraph merges into every run's config. A monitor created here
    lives as long as the process and is flushed when it exits.
    """
    if monitor is None:
        monitor = open_monitor(MonitoringConfig.for_runs())
        if monitor is None:  # its database cannot be opened (logged): the graph runs unrecorded
            return graph
        atexit.register(monitor.flush)
    return graph.with_config(callbacks=[monitor.handler])


def monitor_in(config: RunnableConfig | None) -> Monitor | None:
    """The monitor attached to a run's config: its callbacks, or the active context."""
    callbacks: Any = (config or {}).get("callbacks")
    if isinstance(callbacks, BaseCallbackManager):
        handlers: list[BaseCallbackHandler] = list(callbacks.handlers)
    else:  # a plain list of handlers, or none
        handlers = list(callbacks or [])
    found = next((h for h in handlers if isinstance(h, TelemetryHandler)), None)
    return found.monitor if found else current_monitor()


def pause_point(config: RunnableConfig | None = None) -> Alert | None:
    """The alert that asks to pause this thread now, if any: the graph's hook.

    Call it in a node (the supervisor, before deciding); when it returns an
    alert, the node asks a human through ``interrupt()`` with the alert's
    message. Outside a node, pass the run's config.
    """
    config = config if config is not None else get_config()
    monitor = monitor_in(config)
    if monitor is None:
        return None
    thread = (config.get("configurable") or {}).get("thread_id") or (config.get("metadata") or {}).get("thread_id")
    return monitor.pause_requested(None if thread is None else str(thread))
