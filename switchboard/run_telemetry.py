"""One telemetry monitor per process for the runs of ``switchboard.runs``.

A :class:`~switchboard.monitoring.Monitor` is built for the runs of a whole
process: its detectors look across runs (an error burst is several runs
failing), and opening one is not free (the telemetry schema and views, the
price table, a writer and a delivery thread). Opening and closing one per run
cost more than the run's own work, and did it on the event loop, where it
held up every other thread's run. So runs share the monitor of their
monitoring configuration: it is opened (in a worker thread) by the first run,
kept while runs use it, and closed when the process exits, or earlier when
more than :data:`KEEP` configurations are in use (tests, each with a data
directory of its own).

Each run still flushes when it ends (in a worker thread: a flush waits for
the writer, and the event loop must not), so its telemetry is on disk when
``start_run`` returns. Inside an active ``recording()`` block (the CLI's),
that monitor records instead, as before.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from langchain_core.callbacks import BaseCallbackHandler

from switchboard.monitoring import Monitor, MonitoringConfig, current_monitor

__all__ = ["KEEP", "run_telemetry"]

KEEP = 4
"""Monitors kept open at once; the least recently used idle one is closed first."""


@dataclass
class _Shared:
    monitor: Monitor
    users: int = 0


_monitors: OrderedDict[str, _Shared] = OrderedDict()
_guard = threading.Lock()


@asynccontextmanager
async def run_telemetry() -> AsyncIterator[list[BaseCallbackHandler]]:
    """The callbacks that record a run: the process's monitor's handler, for the run's config.

    The handler rides in the run's config, which LangGraph hands down to
    every node, subgraph and model call of the run (as ``instrument`` does
    for served graphs); the monitor is flushed in a worker thread when the
    block ends. Inside an active ``recording()`` block nothing is added: its
    monitor records the run already.
    """
    if current_monitor() is not None:
        yield []
        return
    shared = await asyncio.to_thread(_claim)
    if shared is None:  # telemetry is off
        yield []
        return
    try:
        yield [shared.monitor.handler]
    finally:
        await asyncio.to_thread(_release, shared)


def _claim() -> _Shared | None:
    config = MonitoringConfig.for_runs()  # the policy's run budgets feed the budget detector
    if not config.enabled:
        return None
    key = config.model_dump_json()
    with _guard:
        shared = _monitors.get(key)
        if shared is None:
            shared = _monitors[key] = _Shared(Monitor(config))
        _monitors.move_to_end(key)
        shared.users += 1
        return shared


def _release(shared: _Shared) -> None:
    shared.monitor.flush()  # the run's telemetry is on disk when it returns
    with _guard:
        shared.users -= 1
        idle = [key for key, entry in _monitors.items() if not entry.users]
        gone = [_monitors.pop(key) for key in idle[: max(0, len(_monitors) - KEEP)]]
    for entry in gone:
        entry.monitor.close()


@atexit.register
def _close_all() -> None:
    with _guard:
        gone = list(_monitors.values())
        _monitors.clear()
    for entry in gone:
        entry.monitor.close()
