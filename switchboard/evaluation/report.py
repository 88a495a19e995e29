"""Print an evaluation: pass^k and a per-task table."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from switchboard.evaluation.results import EvalReport, Trial, group


def print_report(report: EvalReport, console: Console) -> None:
    """The per-task table, then pass^k for every k up to the number of trials."""
    table = Table(title=f"τ-bench retail: {report.model} on team {report.team_name}, user: {report.user}")
    table.add_column("task")
    table.add_column("rewards", justify="center")
    table.add_column("status")
    table.add_column("why not 1", overflow="fold")
    for task_id, trials in group(report.trials).items():
        rewards = " ".join(str(t.reward.value) for t in trials)
        statuses = ", ".join(sorted({t.status for t in trials}))
        table.add_row(escape(task_id), rewards, statuses, escape(_why(trials)))
    console.print(table)
    for k, value in report.pass_hats().items():
        console.print(f"pass^{k}: [bold]{value:.3f}[/bold] over {len(report.rewards)} tasks", highlight=False)
    if not report.question_channel:
        console.print(
            "note: no question channel, so each task is single-shot "
            "(the customer's opening message is all the run gets)",
            style="dim",
        )


def _why(trials: list[Trial]) -> str:
    """The first reason a trial of the task scored 0, or nothing."""
    for trial in trials:
        if trial.reward.value:
            continue
        reasons = []
        if trial.reward.diff:
            shown = "; ".join(str(d) for d in trial.reward.diff[:2])
            more = len(trial.reward.diff) - 2
            reasons.append(f"db differs: {shown}" + (f" (+{more} more)" if more > 0 else ""))
        if trial.reward.missing_outputs:
            reasons.append(f"not told: {', '.join(trial.reward.missing_outputs)}")
        if trial.unanswered:
            reasons.append(f"unanswered question: {trial.unanswered}")
        if trial.error:
            reasons.append(f"error: {trial.error}")
        return f"trial {trial.trial}: " + " | ".join(reasons)
    return ""
