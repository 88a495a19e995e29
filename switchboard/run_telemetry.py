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

Which monitor a run uses is worked out again only when the environment, the
working directory or a file it is read from changes, not by every run.

Each run still flushes when it ends (in a worker thread: a flush waits for
the writer, and the event loop must not), so its telemetry is written (to
the WAL; see ``TelemetryStore``) when ``start_run`` returns. Inside an
active ``recording()`` block (the CLI's), that monitor records instead, as
before.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from switchboard.agents.card import load_team
from switchboard.monitoring import Monitor, MonitoringConfig, current_monitor
from switchboard.monitoring.config import CONFIG_VARIABLE
from switchboard.monitoring.monitor import open_monitor
from switchboard.monitoring.session import telemetry_unavailable
from switchboard.settings import Settings

__all__ = ["KEEP", "run_telemetry"]

KEEP = 4
"""Monitors kept open at once; the least recently used idle one is closed first."""


@dataclass
class _Shared:
    monitor: Monitor
    users: int = 0


_monitors: OrderedDict[str, _Shared] = OrderedDict()
_guard = threading.Lock()
_CONFIGS = 32
_configs: dict[tuple[Any, ...], tuple[MonitoringConfig, str]] = {}
"""Monitoring configurations for runs, by what they were read from (see ``_config``)."""
_settings: dict[tuple[Any, ...], Settings] = {}


@asynccontextmanager
async def run_telemetry() -> AsyncIterator[list[BaseCallbackHandler]]:
    """The callbacks that record a run: the process's monitor's handler, for the run's config.

    The handler rides in the run's config, which LangGraph hands down to
    every node, subgraph and model call of the run (as ``instrument`` does
    for served graphs); the monitor is flushed in a worker thread when the
    block ends. Inside an active ``recording()`` block nothing is added: its
    monitor records the run already (or its database could not be opened,
    and the run goes unrecorded, as it said).
    """
    if current_monitor() is not None or telemetry_unavailable():
        yield []
        return
    shared = await asyncio.to_thread(_claim)
    if shared is None:  # telemetry is off, or its database cannot be opened
        yield []
        return
    try:
        yield [shared.monitor.handler]
    finally:
        await asyncio.to_thread(_release, shared)


def _claim() -> _Shared | None:
    config, key = _config()
    if not config.enabled:
        return None
    with _guard:
        shared = _monitors.get(key)
        if shared is None:
            monitor = open_monitor(config)
            if monitor is None:  # its database cannot be opened (logged): this run goes on unrecorded
                return None
            shared = _monitors[key] = _Shared(monitor)
        _monitors.move_to_end(key)
        shared.users += 1
        return shared


def _config() -> tuple[MonitoringConfig, str]:
    """``MonitoringConfig.for_runs()`` and its JSON (the key of its monitor), read again only when its sources change.

    It reads the environment (through ``Settings``, whose validation alone
    costs milliseconds), the monitoring file, the team and its policy: every
    run asked, and concurrent runs queued behind that CPU work. The key holds
    the ``SWITCHBOARD_*`` variables, the working directory (the default data
    directory follows it) and the files' versions.
    """
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("SWITCHBOARD_")))
    where = (env, os.getcwd())
    settings = _settings.get(where)
    if settings is None:
        settings = Settings()
        with _guard:
            if len(_settings) >= _CONFIGS:
                _settings.clear()
            _settings[where] = settings
    named = os.environ.get(CONFIG_VARIABLE)
    monitoring = Path(named) if named else settings.data_dir / "monitoring.yaml"
    team = load_team(settings.team)  # parsed once per version of the team file
    files = (monitoring, team.source, team.policy_path)
    key = (where, *((str(f), _stamp(f)) for f in files))
    with _guard:
        found = _configs.get(key)
    if found is None:
        config = MonitoringConfig.for_runs(settings)  # the policy's run budgets feed the budget detector
        found = (config, config.model_dump_json())
        with _guard:
            if len(_configs) >= _CONFIGS:
                _configs.clear()
            _configs[key] = found
    return found


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """A file's version (modification time and size), ``None`` when there is none."""
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size) if stat is not None else None


def _release(shared: _Shared) -> None:
    shared.monitor.flush()  # the run's telemetry is written when it returns
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
