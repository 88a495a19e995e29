"""``switchboard worker`` and ``switchboard submit``: runs from a queue in Postgres.

* ``submit TASK [--thread ID]``: validate the task and queue a run; prints the thread id;
* ``submit --resume THREAD --approve|--reject [--interrupt ID] [--as NAME] [--note TEXT]``: queue an
  answer, to the question ``ID`` and no other;
* ``worker [--concurrency N] [--until-idle]``: take queued runs until stopped.

Both need ``SWITCHBOARD_CHECKPOINT_DB=postgresql://…`` (see :mod:`switchboard.workers`).
Also runnable on its own as ``python -m switchboard.cli_workers``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from switchboard.errors import SwitchboardError

if TYPE_CHECKING:  # imported where used: building the parser (`--help`) must stay light
    from rich.console import Console


def add_worker_commands(sub: Any) -> None:
    """Register ``switchboard worker`` and ``switchboard submit`` on the CLI's subparsers."""
    worker = sub.add_parser("worker", help="take queued runs from Postgres until stopped")
    worker.add_argument("--concurrency", type=int, default=1, help="runs this process drives at once (default 1)")
    worker.add_argument("--until-idle", action="store_true", help="stop once the queue is empty")
    worker.set_defaults(handler=_worker)

    submit = sub.add_parser("submit", help="queue a run (or an answer) for the workers; prints the thread id")
    submit.add_argument("task", nargs="?", help="the task, as for `switchboard run`")
    submit.add_argument("--thread", help="thread id for the new run (default: a fresh one)")
    submit.add_argument("--resume", metavar="THREAD", help="queue an answer to this paused thread instead")
    answer = submit.add_mutually_exclusive_group()
    answer.add_argument("--approve", action="store_true")
    answer.add_argument("--reject", action="store_true")
    submit.add_argument("--as", dest="approver", help="who answers (for --resume); signs with NAME's key here")
    submit.add_argument("--role", help="which of the approver's roles to act in")
    submit.add_argument(
        "--interrupt",
        metavar="ID",
        help="the question you answer (for --resume; its id, as `escalations` prints it): if the thread now "
        "waits on another, nothing is signed or queued",
    )
    submit.add_argument("--note", default="", help="a note with the answer (for --resume)")
    submit.add_argument("--json", action="store_true", help="print {thread_id, job_id} as JSON")
    submit.set_defaults(handler=_submit)


def _worker(args: argparse.Namespace, console: Console) -> int:
    from switchboard import graph_cache
    from switchboard.workers import work

    graph_cache.run(work(concurrency=args.concurrency, until_idle=args.until_idle))
    return 0


def _submit(args: argparse.Namespace, console: Console) -> int:
    import asyncio

    from switchboard.errors import TaskError
    from switchboard.workers import submit

    if args.resume:
        return _submit_answer(args, console)
    if args.interrupt:
        raise TaskError("--interrupt names the question an answer is for: use it with --resume THREAD")
    if not args.task:
        raise TaskError("give the TASK to run, or --resume THREAD with --approve/--reject")
    thread_id, job_id = asyncio.run(submit(args.task, thread_id=args.thread))
    if args.json:
        console.print(json.dumps({"thread_id": thread_id, "job_id": job_id}), markup=False)
    else:
        console.print(f"queued job {job_id} for thread {thread_id}; `switchboard show {thread_id}` follows it",
                      markup=False)  # fmt: skip
    return 0


def _submit_answer(args: argparse.Namespace, console: Console) -> int:
    """Queue ``--resume THREAD``'s answer, and say which question it answers (the one signed, if approved)."""
    import asyncio

    from switchboard.errors import TaskError
    from switchboard.workers import queue_answer

    if args.task or args.thread:
        raise TaskError("give either a TASK to run or --resume THREAD to answer, not both")
    if not (args.approve or args.reject):
        raise TaskError("--resume needs an answer: --approve or --reject")
    queued = asyncio.run(
        queue_answer(
            args.resume, approved=args.approve, note=args.note, approver=args.approver, role=args.role,
            interrupt_id=args.interrupt,
        )
    )  # fmt: skip
    thread_id = args.resume
    if args.json:
        line = {"thread_id": thread_id, "job_id": queued.job_id, "interrupt_id": queued.interrupt_id}
        console.print(json.dumps(line), markup=False)
        return 0
    verdict = "approving" if args.approve else "rejecting"
    who = f" as {args.approver}" if args.approver else ""
    console.print(
        f"queued job {queued.job_id} for thread {thread_id}, {verdict} {queued.interrupt_id}{who}: {queued.question}; "
        f"`switchboard show {thread_id}` follows it",
        markup=False,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m switchboard.cli_workers worker|submit …``, the same commands outside the main CLI."""
    parser = argparse.ArgumentParser(prog="python -m switchboard.cli_workers")
    add_worker_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        from rich.console import Console

        return int(args.handler(args, Console(highlight=False)))
    except SwitchboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
