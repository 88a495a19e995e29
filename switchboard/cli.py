"""The ``switchboard`` command line.

Exit codes are part of the contract: 0 completed, 4 completed but a step was
handed over to a human unfinished, 3 paused for a human, 1 failed (with a
one-line error that says what to do).

Building the parser imports only the command modules' registration
functions (``add_*_command(sub)``), which import nothing heavy at module
level: LangGraph, LangChain, pydantic and rich load when a command runs, so
``switchboard --help`` answers at once. A domain's commands are only filled
in when the command line names the domain (its package loads its data
layer). ``tests/test_cli_imports.py`` holds the parser to this.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from switchboard import cli_monitoring
from switchboard.errors import SwitchboardError
from switchboard.text import visible

if TYPE_CHECKING:
    from rich.console import Console

    from switchboard.runs import RunResult
    from switchboard.settings import Settings

DOMAIN_COMMANDS = {"retail": "switchboard.domains.retail.cli"}
"""Domains that add their own commands: ``switchboard NAME …`` and ``switchboard mcp NAME …``."""


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given ``argv``, only the domains it names are filled in."""
    parser = argparse.ArgumentParser(prog="switchboard", description="Run and inspect Switchboard threads.")
    cli_monitoring.add_verbose(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a task on a new thread")
    run.add_argument("task")
    run.add_argument("--thread", help="thread id (default: a new one)")
    run.add_argument("--model", help="embedded (default) or provider:model, e.g. openai:gpt-4.1-mini")
    run.add_argument("--json", action="store_true", help="print one JSON object")

    resume = sub.add_parser("resume", help="answer a paused thread's question, or continue a stopped one")
    resume.add_argument("thread")
    verdict = resume.add_mutually_exclusive_group()
    verdict.add_argument("--approve", action="store_true")
    verdict.add_argument("--reject", action="store_true")
    resume.add_argument("--note", default="", help="a note for the trail and the agents")
    resume.add_argument(
        "--as", dest="approver", help="who answers: a principal; approving signs with $SWITCHBOARD_HOME/keys/NAME.pem"
    )
    resume.add_argument("--role", help="which of NAME's roles to act in (default: the first the rule allows)")
    resume.add_argument(
        "--interrupt",
        metavar="ID",
        help="the question you answer (its id, as `escalations` and `show` print it); if the thread now waits "
        "on another, nothing is signed and the command fails (exit 1) naming it. Use it when several approvers "
        "share a queue",
    )
    resume.add_argument("--model", help="as for run")
    resume.add_argument("--json", action="store_true")

    show = sub.add_parser("show", help="print a thread's whole chain of decisions and actions")
    show.add_argument("thread")
    show.add_argument("--json", action="store_true")

    route = sub.add_parser("route", help="show the routing decision for a task, without running it")
    route.add_argument("task")
    route.add_argument("--model", help="as for run")
    route.add_argument("--json", action="store_true")

    evaluate = sub.add_parser("eval-routing", help="score routing on a JSONL file of {task, agent}")
    evaluate.add_argument("file")
    evaluate.add_argument("--model", help="as for run")
    evaluate.add_argument("--json", action="store_true")

    agents = sub.add_parser("agents", help="list the agent cards")
    agents.add_argument("--json", action="store_true")

    from switchboard.cli_governance import add_governance_commands

    add_governance_commands(sub)

    mcp = sub.add_parser("mcp", help="serve a domain's MCP server")
    mcp_sub = mcp.add_subparsers(dest="domain", required=True)
    for name, module in DOMAIN_COMMANDS.items():
        domain = sub.add_parser(name, help=f"{name} data tools")
        server = mcp_sub.add_parser(name, help=f"serve the {name} MCP server")
        if argv is None or name in argv:
            cli = importlib.import_module(module)
            cli.add_domain_commands(domain)
            cli.add_mcp_command(server)
    from switchboard.cli_eval import add_eval_command

    add_eval_command(sub)
    from switchboard.cli_reply import add_reply_command

    add_reply_command(sub)
    from switchboard.cli_workers import add_worker_commands

    add_worker_commands(sub)
    importlib.import_module("switchboard.cli_threads").add_threads_command(sub)
    cli_monitoring.add_commands(sub)
    return parser


def _settings(model: str | None = None) -> Settings:
    from switchboard.settings import Settings

    settings = Settings()
    return settings.model_copy(update={"model": model}) if model else settings


def _report(result: RunResult, as_json: bool, console: Console) -> int:
    from rich.markup import escape as escape_markup

    from switchboard.cli_reply import question_hint

    if as_json:
        print(json.dumps(result.to_json(), default=str))
        return result.exit_code
    if result.answered:
        _print_answered(result.answered, console)
    if result.status == "paused" and question_hint(result, console):
        pass
    elif result.status == "paused":
        pending = result.pending or {}
        console.print(
            f"\n[bold yellow]paused[/bold yellow] thread [bold]{result.thread_id}[/bold]: "
            f"{escape_markup(visible(str(pending.get('question'))))}"
        )
        print_answer_hint(result.thread_id, pending, console)
    elif result.status == "completed":
        console.print(f"\n[bold green]completed[/bold green] thread [bold]{result.thread_id}[/bold] ({result.outcome})")
        console.print(f"agents involved: {', '.join(result.agents) or 'none'}")
    else:
        console.print(f"[bold red]failed[/bold red] thread {result.thread_id}: {result.error}")
    return result.exit_code


def _print_answered(answered: dict[str, Any], console: Console) -> None:
    """Say which question a resume answered: unpinned, it is the one pending when the resume ran.

    Printed after the run, on every outcome, so whoever approved can check
    that the question they signed is the one they read.
    """
    verdict = "approved" if answered.get("approved") else "rejected"
    who = f" as {answered['approver']}" if answered.get("approver") else ""
    console.print(visible(f"{verdict} {answered.get('interrupt_id')}{who}: {answered.get('question')}"), markup=False)


def print_answer_hint(thread_id: str, pending: dict[str, Any], console: Console) -> None:
    """Print the question's id and the exact command that answers it, and no other question.

    Approvers copy the command from here; with ``--interrupt`` in it, a
    question that moved on before they ran it is refused instead of signed.
    """
    from switchboard.runs import answer_command

    roles = pending.get("roles") or []
    who = f"--as NAME (a principal with role {' or '.join(roles)})" if roles else "--as NAME (a principal)"
    command = answer_command(thread_id, str(pending.get("interrupt_id")))
    console.print(f"question {pending.get('interrupt_id')}; answer with: {command} [--note TEXT] {who}", markup=False)


def _agents(as_json: bool, console: Console) -> int:
    """Print the cards the router is offered: the team's agents, then a card per workflow with who runs each step.

    Workflows are listed because routing (and its rules) can choose them
    like agents; a JSON workflow card carries ``workflow``: its name and
    each step's (and compensation's) agent.
    """
    from switchboard.agents.card import load_team
    from switchboard.graph.workflows import step_agents
    from switchboard.settings import Settings

    team = load_team(Settings().team)
    flows = [(w.card(), w.name, step_agents(w, team)) for w in team.load_workflows()]
    if as_json:
        cards = [card.model_dump(mode="json") for card in team.agents]
        cards += [{**card.model_dump(mode="json"), "workflow": {"name": n, "steps": s}} for card, n, s in flows]
        print(json.dumps(cards, indent=1))
        return 0
    for card in team.agents:
        console.print(f"[bold]{card.name}[/bold]: {card.description}")
        console.print(
            f"  max_concurrency {card.max_concurrency}, cost {card.cost_tier}, timeout {card.timeout_s:g}s",
            markup=False,
        )
        for skill in card.skills:
            fallbacks = card.fallbacks.get(skill.id)
            then = f" (fallback: {', '.join(fallbacks)})" if fallbacks else ""
            console.print(f"  - {skill.id}: {skill.description}{then}", markup=False)
        console.print(f"  tools: {', '.join(card.tools)}", markup=False)
    for card, _, steps in flows:
        console.print(f"[bold]{card.name}[/bold] (workflow): {card.skills[0].description}")
        console.print(f"  steps: {', '.join(f'{step} → {agent}' for step, agent in steps.items())}", markup=False)
    return 0


async def _dispatch(args: argparse.Namespace, console: Console) -> int:
    from switchboard.console import LiveView, print_trail
    from switchboard.runs import new_thread_id, read_thread, resume_run, start_run

    live = None if getattr(args, "json", False) else LiveView(console)
    if args.command == "run":
        args.thread = args.thread or new_thread_id()  # known up front, so a failure can name it
        result = await start_run(args.task, thread_id=args.thread, settings=_settings(args.model), on_event=live)
        return _report(result, args.json, console)
    if args.command == "resume":
        result = await resume_run(
            args.thread,
            approved=True if args.approve else False if args.reject else None,
            note=args.note,
            approver=args.approver,
            role=args.role,
            interrupt_id=args.interrupt,
            settings=_settings(args.model),
            on_event=live,
        )
        return _report(result, args.json, console)
    if args.command == "show":
        thread = await read_thread(args.thread, settings=_settings())
        if args.json:
            print(json.dumps(thread, default=str, indent=1))
        else:
            print_trail(thread, console)
            if thread.get("pending") and thread["pending"].get("kind") != "question":
                print_answer_hint(args.thread, thread["pending"], console)
        return 0
    if args.command in {"route", "eval-routing"}:
        from switchboard import lab

        router = lab.make_router(_settings(args.model))
        if args.command == "route":
            return _print_route(await lab.route_once(args.task, router), args.json, console)
        return _print_eval(await lab.evaluate_routing(args.file, router), args.json, console)
    raise AssertionError(f"unhandled command {args.command}")


def _print_route(decision: dict[str, Any], as_json: bool, console: Console) -> int:
    if as_json:
        print(json.dumps(decision))
        return 0
    target = decision["agent"] if decision["action"] == "route" else decision["action"]
    skill = f" [{decision['skill']}]" if decision.get("skill") else ""
    console.print(f"[bold]{target}[/bold]{skill} (confidence {decision['confidence']:.2f}, by {decision['source']})")
    console.print(f"why: {decision['reason']}")
    if decision["instruction"]:
        console.print(f"asks: {decision['instruction']}")
    console.print(f"shortlist: {', '.join(decision['shortlist'])}")
    for agent, why in (decision.get("unavailable") or {}).items():  # skipped as a run would skip them
        console.print(f"skipped: {agent} ({why})")
    return 0


def _print_eval(report: Any, as_json: bool, console: Console) -> int:
    from rich.table import Table

    if as_json:
        print(
            json.dumps(
                {
                    "total": len(report.cases),
                    "accuracy": report.accuracy,
                    "confusion": report.confusion,
                    "wrong": [
                        {"task": c.task, "expected": c.expected, "got": c.got, "reason": c.reason} for c in report.wrong
                    ],
                }
            )
        )
        return 0
    console.print(f"accuracy: [bold]{report.accuracy:.1%}[/bold] on {len(report.cases)} tasks")
    decided = sorted({got for row in report.confusion.values() for got in row})
    table = Table("expected \\ decided", *decided, title="confusion")
    for expected, row in report.confusion.items():
        table.add_row(expected, *(str(row.get(got, "")) for got in decided))
    console.print(table)
    for case in report.wrong:
        console.print(f"[red]✗[/red] {case.task!r}: expected {case.expected}, got {case.got} ({case.confidence:.2f})")
    return 0


def _fail(args: argparse.Namespace, message: str) -> int:
    if getattr(args, "json", False):
        thread = getattr(args, "thread", None)
        print(json.dumps({"thread_id": thread, "status": "failed", "error": message}))
    else:
        from rich.console import Console

        err = Console(stderr=True, highlight=False)
        err.print("[bold red]error:[/bold red] ", end="")
        err.print(message, markup=False)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``switchboard`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser(argv).parse_args(argv)
    cli_monitoring.configure_logging(args.verbose)

    from rich.console import Console

    console = Console(highlight=False)
    try:
        if args.command == "agents":
            return _agents(args.json, console)
        handler: Any = getattr(args, "handler", None)
        if handler is not None:
            return int(handler(args, console))
        with cli_monitoring.recording_for(args, console):
            from switchboard import graph_cache

            return graph_cache.run(_dispatch(args, console))
    except SwitchboardError as exc:
        return _fail(args, str(exc))
    except KeyboardInterrupt:
        return _fail(args, "interrupted; the thread's state is checkpointed up to its last step")
    except Exception as exc:  # the CLI's outer boundary: report, keep state, exit 1
        from switchboard.settings import invalid_settings

        bad = invalid_settings(exc)  # nothing ran: no state to speak of
        return _fail(args, bad or _unexpected(exc))


def _innermost(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _describe(exc: BaseException) -> str:
    """One line for an unexpected error, unwrapping task-group wrappers."""
    inner = _innermost(exc)
    return f"{type(inner).__name__}: {inner}"


def _unexpected(exc: BaseException) -> str:
    """What to tell the operator about an error nothing expected, without claiming what it cannot know."""
    import sqlite3

    inner = _innermost(exc)
    if type(inner) is sqlite3.DatabaseError:  # "file is not a database", "database disk image is malformed"
        from switchboard.settings import Settings

        settings = Settings()
        return (
            f"{_describe(inner)}: a SQLite file Switchboard keeps is damaged: the checkpoints "
            f"({settings.checkpoint_target}) or a file in {settings.data_dir} (audit.sqlite, health.sqlite, "
            "telemetry.sqlite); restore it from a backup, or move it aside to start it afresh"
        )
    return f"{_describe(inner)}; a run that had started keeps its state to its last checkpoint (`switchboard threads`)"


if __name__ == "__main__":
    sys.exit(main())
