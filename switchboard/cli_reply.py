"""``switchboard reply THREAD "TEXT"``: the customer answers an agent's question.

A thread paused by ``ask_customer`` waits for the customer, not for an
approver: the reply is plain text, needs no ``--as``, and goes back to the
agent that asked. Exit codes are the CLI's: 0 completed, 3 paused again (for
another question or an approval), 1 failed.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parser is built on every command: import the run machinery and rich only to run
    from rich.console import Console

    from switchboard.runs import RunResult


def add_reply_command(sub: Any) -> None:
    """Register ``switchboard reply`` on the CLI's subparsers."""
    reply = sub.add_parser("reply", help="answer an agent's question to the customer and continue the thread")
    reply.add_argument("thread")
    reply.add_argument("text", help="the customer's reply, handed to the agent that asked")
    reply.add_argument("--model", help="as for run")
    reply.add_argument("--json", action="store_true", help="print one JSON object")
    reply.set_defaults(handler=_reply)


def question_hint(result: RunResult, console: Console) -> bool:
    """Print how to answer a thread paused on a customer question; whether it was one."""
    pending = result.pending or {}
    if pending.get("kind") != "question":
        return False
    who = f" ({pending['agent']})" if pending.get("agent") else ""
    console.print(
        f"\n[bold yellow]paused[/bold yellow] thread [bold]{result.thread_id}[/bold]: "
        f"an agent{who} asks the customer: {pending.get('question')}"
    )
    console.print(f'answer with: switchboard reply {result.thread_id} "TEXT"', markup=False)
    return True


def _reply(args: argparse.Namespace, console: Console) -> int:
    from switchboard import graph_cache
    from switchboard.cli import _report
    from switchboard.console import LiveView
    from switchboard.replies import reply_run
    from switchboard.settings import Settings

    settings = Settings()
    if args.model:
        settings = settings.model_copy(update={"model": args.model})
    live = None if args.json else LiveView(console)
    result = graph_cache.run(reply_run(args.thread, args.text, settings=settings, on_event=live))
    return _report(result, args.json, console)
