"""``switchboard eval …``: end-to-end evaluation on τ-bench's retail tasks.

* ``eval tau``: run tasks through the supervisor and print pass^k;
* ``eval tau-convert``: turn a τ-bench checkout's tasks into a task file;
* ``eval tau-sample``: write generated data and tasks, for an offline try.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # imported where used: building the parser (`--help`) must stay light
    from rich.console import Console

TAU_TEAM = "retail-tau"
"""The ``--team`` value naming the τ-bench-exact retail team (the default)."""


def add_eval_command(sub: Any) -> None:
    """Register ``switchboard eval tau|tau-convert|tau-sample`` on the CLI's subparsers."""
    parser = sub.add_parser("eval", help="evaluate end to end on τ-bench's retail tasks")
    commands = parser.add_subparsers(dest="eval_command", required=True)

    tau = commands.add_parser("tau", help="run τ-bench tasks through the supervisor and score them")
    tau.add_argument("--tasks", type=Path, required=True, help="task file or directory (JSON or JSONL)")
    tau.add_argument("--data", type=Path, required=True, help="data directory: users.json, orders.json, products.json")
    tau.add_argument("--trials", type=int, default=1, help="runs of each task; pass^k is reported for k ≤ trials")
    tau.add_argument("--model", help="embedded (default) or provider:model for the supervisor and agents")
    tau.add_argument("--user-model", help="provider:model that plays the customer (default: the instruction itself)")
    tau.add_argument(
        "--team", default=TAU_TEAM, help=f"{TAU_TEAM} (default: τ-bench's operations only), retail, or a YAML path"
    )
    tau.add_argument(
        "--single-shot",
        action="store_true",
        help="agents may not ask the customer: a question ends the trial (how the published baseline was measured)",
    )
    tau.add_argument("--approvals", choices=["approve", "reject"], default="approve", help="answer to approvals")
    tau.add_argument("--escalations", choices=["approve", "reject"], default="approve", help="answer to escalations")
    tau.add_argument("--limit", type=int, help="run only the first N tasks")
    tau.add_argument("--workdir", type=Path, help="keep databases and checkpoints here (default: a temp dir)")
    tau.add_argument("--json", action="store_true", help="print the whole report as JSON")
    tau.set_defaults(handler=_tau)

    convert = commands.add_parser("tau-convert", help="write a τ-bench checkout's retail tasks as a task file")
    convert.add_argument("checkout", type=Path, help="root of a sierra-research/tau-bench checkout")
    convert.add_argument("--out", type=Path, required=True, help="the JSON task file to write")
    convert.add_argument("--split", choices=["test", "train", "dev"], default="test")
    convert.set_defaults(handler=_convert)

    sample = commands.add_parser("tau-sample", help="write generated data and tasks for an offline try")
    sample.add_argument("directory", type=Path)
    sample.add_argument("--tasks", type=int, default=6, help="how many tasks")
    sample.add_argument("--seed", type=int, default=11)
    sample.set_defaults(handler=_sample)


def _tau(args: argparse.Namespace, console: Console) -> int:

    from switchboard.agents.card import load_team
    from switchboard.evaluation import (
        CUSTOMER_QUESTIONS,
        EvalConfig,
        InstructionUser,
        ModelUser,
        PausePolicy,
        read_tasks,
        run_eval,
    )
    from switchboard.evaluation.report import print_report
    from switchboard.evaluation.tau_team import TEAM_FILE
    from switchboard.models import resolve_model

    team = str(TEAM_FILE) if args.team == TAU_TEAM else args.team
    from switchboard.settings import Settings

    settings = Settings().model_copy(update={"team": team, **({"model": args.model} if args.model else {})})
    tasks = read_tasks(args.tasks)[: args.limit]
    users: Any = InstructionUser
    label = "the instruction itself"
    if args.user_model:
        if args.user_model.strip() == "embedded":
            from switchboard.errors import ConfigError

            raise ConfigError("--user-model needs provider:model; the embedded engine cannot play a customer")
        user_model = resolve_model(args.user_model, load_team(team))
        reveal: Literal["gradually", "at once"] = "at once" if args.single_shot else "gradually"
        users, label = (lambda task: ModelUser(user_model, task, reveal=reveal)), args.user_model
    config = EvalConfig(
        data_dir=args.data,
        settings=settings,
        trials=args.trials,
        users=users,
        user_label=label,
        pauses=PausePolicy(approvals=args.approvals, escalations=args.escalations),
        questions=None if args.single_shot else CUSTOMER_QUESTIONS,
        workdir=args.workdir,
    )

    def progress(trial: Any) -> None:
        if not args.json:
            mark = "[green]1[/green]" if trial.reward.value else "[red]0[/red]"
            console.print(f"task {trial.task_id} trial {trial.trial}: {mark} ({trial.status})")

    from switchboard import graph_cache

    report = graph_cache.run(run_eval(tasks, config, on_trial=progress))
    if args.json:
        print(json.dumps(report.to_json(), default=str))
    else:
        print_report(report, console)
    return 0


def _convert(args: argparse.Namespace, console: Console) -> int:
    from switchboard.evaluation.convert import convert_checkout, data_directory

    out, count = convert_checkout(args.checkout, args.out, args.split)
    console.print(f"wrote {count} tasks to {out}")
    console.print(f"run them with: switchboard eval tau --tasks {out} --data {data_directory(args.checkout)}")
    return 0


def _sample(args: argparse.Namespace, console: Console) -> int:
    from switchboard.domains.retail import generate_dataset
    from switchboard.evaluation import generate_tasks, write_tasks

    data = generate_dataset(args.directory / "data")
    tasks = write_tasks(
        [g.task for g in generate_tasks(data, count=args.tasks, seed=args.seed)], args.directory / "tasks.json"
    )
    console.print(f"wrote generated data to {data} and {args.tasks} tasks to {tasks}")
    console.print(f"run them with: switchboard eval tau --tasks {tasks} --data {data}")
    return 0
