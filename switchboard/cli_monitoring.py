"""The monitoring commands: ``trace``, ``dashboard``, ``alerts``, and ``--verbose``.

Registered by ``switchboard.cli`` with :func:`add_commands`. ``run`` and
``resume`` record telemetry through :func:`recording_for`, which also prints
each alert as it is raised.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from switchboard.errors import CheckpointTampered, ThreadError

if TYPE_CHECKING:  # imported where used: building the parser (`--help`) must stay light
    from rich.console import Console

    from switchboard.monitoring import Alert, MonitoringConfig
    from switchboard.monitoring.events import TelemetryEvent
    from switchboard.settings import Settings

log = logging.getLogger(__name__)
RECORDED = frozenset({"run", "resume"})
"""Commands that run a thread, and so record telemetry."""


def configure_logging(verbosity: int) -> None:
    """``-v``: Switchboard's INFO logs on standard error; ``-vv``: DEBUG, every step and call."""
    from rich.console import Console
    from rich.logging import RichHandler

    if verbosity <= 0:
        return  # warnings and errors reach standard error through logging's last-resort handler
    level = logging.INFO if verbosity == 1 else logging.DEBUG
    logger = logging.getLogger("switchboard")
    logger.setLevel(level)
    if not any(isinstance(h, RichHandler) for h in logger.handlers):
        logger.addHandler(RichHandler(console=Console(stderr=True), show_path=False, markup=False))
    logger.propagate = False


def add_verbose(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``-v/--verbose``, counted; on subcommands it only overrides when given."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if top else argparse.SUPPRESS,
        help="log what happens on standard error (-vv for every step and model call)",
    )


def add_commands(sub: Any) -> None:
    """Add ``trace``, ``dashboard`` and ``alerts`` to the CLI, and ``--verbose`` to every subcommand."""
    for parser in sub.choices.values():
        add_verbose(parser, top=False)
    trace = sub.add_parser("trace", help="the chain behind a thread as a tree: reasons, timings, tokens, cost")
    trace.add_argument("thread")
    trace.add_argument("--json", action="store_true", help="print the thread's telemetry events as JSON")
    trace.set_defaults(handler=_trace)
    dashboard = sub.add_parser("dashboard", help="serve the monitoring dashboard on 127.0.0.1")
    dashboard.add_argument("--port", type=int, default=8001)
    dashboard.set_defaults(handler=_dashboard)
    alerts = sub.add_parser("alerts", help="list recent alerts; --check raises alerts for escalations left waiting")
    alerts.add_argument("--check", action="store_true", help="alert on escalations waiting past the threshold")
    alerts.add_argument("--limit", type=int, default=20)
    alerts.add_argument("--json", action="store_true")
    alerts.set_defaults(handler=_alerts)
    for parser in (trace, dashboard, alerts):
        add_verbose(parser, top=False)


@contextmanager
def recording_for(args: argparse.Namespace, console: Console) -> Iterator[None]:
    """Record telemetry for ``run`` and ``resume``, printing each alert as it is raised."""
    from rich.console import Console
    from rich.markup import escape

    from switchboard.monitoring import recording

    if args.command not in RECORDED:
        yield
        return
    out = Console(stderr=True, highlight=False) if getattr(args, "json", False) else console

    def show(alert: Alert) -> None:
        color = "red" if alert.severity == "critical" else "yellow"
        pause = " [bold](pauses the run)[/bold]" if alert.pause else ""
        out.print(f"[bold {color}]⚠ {alert.detector}[/bold {color}] {escape(alert.message)}{pause}")

    with recording(listeners=[show]):
        yield


def _trace(args: argparse.Namespace, console: Console) -> int:
    import asyncio

    from switchboard.monitoring import MonitoringConfig
    from switchboard.monitoring.store import read_rows
    from switchboard.monitoring.trace import build_tree
    from switchboard.settings import Settings

    config = MonitoringConfig.load()
    database = config.database()
    events = (
        read_rows(database, "SELECT * FROM events WHERE thread_id = ? ORDER BY started", (args.thread,))
        if database.exists()
        else []
    )
    try:
        thread: dict[str, Any] | None = asyncio.run(_read_thread(args.thread, Settings()))
    except ThreadError:
        thread = None
    except CheckpointTampered as exc:  # the telemetry is still worth showing, with why the checkpoint is not
        console.print(f"[red]checkpoint refused:[/red] {exc}", markup=True)
        thread = None
    if not events and thread is None:
        raise ThreadError(f"no telemetry and no checkpoint for thread {args.thread!r}; `switchboard run` starts one")
    if args.json:
        print(json.dumps(events, default=str, indent=1))
        return 0
    console.print(build_tree(events, thread))
    return 0


async def _read_thread(thread_id: str, settings: Settings) -> dict[str, Any]:
    """The thread's checkpoint, with the status ``switchboard threads`` gives it.

    A thread a live process holds is running, though its checkpoint alone
    reads as stopped mid-run (failed): the two commands must not disagree.
    """
    from switchboard.checkpoints import held_threads
    from switchboard.runs import read_thread

    thread = await read_thread(thread_id, settings=settings)
    if thread_id in await held_threads(settings.checkpoint_target, [thread_id]):
        thread = {**thread, "status": "running", "error": None}
    return thread


def _dashboard(args: argparse.Namespace, console: Console) -> int:
    from switchboard.monitoring import MonitoringConfig
    from switchboard.monitoring.dashboard import serve
    from switchboard.runs import health_path
    from switchboard.settings import Settings

    database = MonitoringConfig.load().database()
    console.print(f"Switchboard dashboard on [bold]http://127.0.0.1:{args.port}/[/bold] over {database} (Ctrl-C stops)")
    serve(database, health_path(Settings()), args.port)
    return 0


def _alerts(args: argparse.Namespace, console: Console) -> int:
    from rich.markup import escape

    from switchboard.monitoring import MonitoringConfig
    from switchboard.monitoring.store import ensure_schema, read_rows

    config = MonitoringConfig.load()
    database = config.database()
    ensure_schema(database)
    if args.check:
        raised = check_escalations(config, time.time())
        console.print(f"{len(raised)} escalation(s) waiting past {config.thresholds.escalation_wait_s:g}s")
    rows = read_rows(database, "SELECT * FROM alerts ORDER BY started DESC LIMIT ?", (args.limit,))
    if args.json:
        print(json.dumps(rows, default=str, indent=1))
        return 0
    for row in rows:
        console.print(f"{row['at']} [bold]{row['detector']}[/bold] {row['severity']} {escape(str(row['message']))}")
    return 0


def check_escalations(config: MonitoringConfig, now: float) -> list[Alert]:
    """Alert (through the configured sinks) on each open escalation waiting too long, once."""
    from switchboard.monitoring import Monitor
    from switchboard.monitoring.detectors import EscalationWatch
    from switchboard.monitoring.store import read_rows

    database = config.database()
    done = read_rows(
        database,
        "SELECT json_extract(metadata, '$.escalation') AS id FROM alerts WHERE detector = ?",
        ("escalation_wait",),
    )
    monitor = Monitor(config)
    try:
        monitor.escalations = EscalationWatch(config.thresholds, [row["id"] for row in done if row["id"]])
        for row in read_rows(database, "SELECT * FROM events WHERE kind = 'escalation' ORDER BY started"):
            monitor.escalations.observe(_event(row))
        return monitor.check_escalations(now)
    finally:
        monitor.close()


def _event(row: dict[str, Any]) -> TelemetryEvent:
    from switchboard.monitoring.events import TelemetryEvent

    return TelemetryEvent(
        kind=row["kind"],
        name=row["name"],
        run_id=row["run_id"],
        thread_id=row["thread_id"],
        agent=row["agent"],
        started=row["started"],
        outcome=row["outcome"],
        reason=row["reason"],
        id=row["id"],
    )
