"""``switchboard threads``: list every thread and what it waits for."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parser is built on every command: rich and the checkpoint readers load only to run
    from rich.console import Console

STATUSES = ("paused", "running", "failed", "completed", "tampered")
"""The states ``--status`` takes (``switchboard.threads.THREAD_STATUSES``, without importing it)."""


def add_threads_command(sub: Any) -> None:
    """Add ``threads [--status S] [--limit N] [--json]`` to the CLI."""
    threads = sub.add_parser("threads", help="list threads: paused, running, failed (stopped), completed or tampered")
    threads.add_argument("--status", choices=STATUSES, help="only threads in this state")
    threads.add_argument("--limit", type=int, help="only the N most recently updated threads")
    threads.add_argument("--json", action="store_true", help="print a JSON list")
    threads.set_defaults(handler=_threads)


def _threads(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from switchboard.threads import list_threads

    found = asyncio.run(list_threads(status=args.status, limit=args.limit))
    if args.json:
        print(json.dumps([t.to_json() for t in found], default=str))
        return 0
    if not found:
        console.print("no threads" + (f" {args.status}" if args.status else ""))
        return 0
    table = Table(title_justify="left")
    for column in ("thread", "status", "updated", "waiting for / outcome"):
        table.add_column(column)
    for t in found:
        table.add_row(t.thread_id, t.status, (t.updated_at or "")[:19], t.waiting_for or t.outcome or "")
    console.print(table)
    if any(t.status == "paused" for t in found):
        # The table names questions, not their ids: approve from the listing that pins them.
        console.print(
            "to answer a question, `switchboard escalations` lists each one's id and the command pinned to it "
            "(`switchboard resume THREAD --approve|--reject --interrupt ID --as NAME`)",
            markup=False,
        )
    return 0
