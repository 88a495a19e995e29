"""What a benchmark hands back, and how it is printed.

Each benchmark returns a :class:`Report` (a table plus notes on method)
instead of printing, so ``benchmarks.run`` can run them all and print them
the same way, and tests can read the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Row:
    """One line of the headline table: a figure of ours beside one anchor's.

    Every benchmark module may contribute rows (``Report.summary``);
    ``benchmarks.run`` prints them all in one table, in module order.
    """

    figure: str
    """What is measured, with its unit ("input tokens per task")."""
    ours: str
    """Switchboard's value, formatted."""
    anchor: str
    """The anchor's value, formatted; empty when the figure has no anchor."""
    versus: str
    """Which anchor ("create_supervisor", "1 thread"...)."""
    ratio: str = "-"
    """``ours / anchor`` as :func:`ratio` formats it, or ``-``."""
    target: str = ""
    """The requirement, for example ``<= 0.4x`` or ``<= 2``; empty when none."""
    met: bool | None = None
    """Whether the target is met; ``None`` when there is no target."""


@dataclass(frozen=True)
class Report:
    """One benchmark's results: ours, the anchor's and their ratio."""

    title: str
    """What was measured, with its unit."""
    columns: tuple[str, ...]
    """Column headers; the first names the row (agents, variant...)."""
    rows: tuple[tuple[str, ...], ...]
    """Formatted cells, one tuple per row."""
    notes: tuple[str, ...] = ()
    """How it was measured, so a reader can judge the numbers."""
    checks: dict[str, bool] = field(default_factory=dict)
    """Named pass/fail requirements the benchmark verified."""
    seconds: float = 0.0
    """Wall time the benchmark took."""
    summary: tuple[Row, ...] = ()
    """Rows for the headline table."""

    @property
    def ok(self) -> bool:
        """Whether every check passed and every target was met."""
        return all(self.checks.values()) and all(row.met is not False for row in self.summary)


def ratio(ours: float, anchor: float) -> str:
    """``ours / anchor`` as ``0.12x``; a dash when the anchor is zero."""
    return f"{ours / anchor:.2f}x" if anchor else "-"


def render_summary(reports: Sequence[Report], console: Console | None = None) -> None:
    """Print every report's summary rows as one table: ours, the anchor, the ratio and the target."""
    console = console or Console()
    table = Table(title="Switchboard against its anchors, one run", title_justify="left")
    for index, column in enumerate(("figure", "Switchboard", "anchor", "vs", "ratio", "target", "met")):
        table.add_column(column, justify="left" if index in (0, 3) else "right")
    for report in reports:
        for row in (*report.summary, *_check_rows(report)):
            met = "" if row.met is None else ("[green]yes[/green]" if row.met else "[red]MISS[/red]")
            table.add_row(row.figure, row.ours, row.anchor, row.versus, row.ratio, row.target, met)
    console.print(table)


def _check_rows(report: Report) -> tuple[Row, ...]:
    """Every check of a report as a headline row too, so no failed check hides below the headline.

    A check that only restates a summary row's target belongs in that row
    (its ``met``), not here twice.
    """
    return tuple(
        Row(figure=name, ours="pass" if ok else "FAIL", anchor="", versus="check", met=ok)
        for name, ok in report.checks.items()
    )


def render(reports: Sequence[Report], console: Console | None = None) -> None:
    """Print each report as a table (if it has rows), its notes and its checks."""
    console = console or Console()
    for report in reports:
        if report.rows:
            table = Table(title=report.title, title_justify="left", show_lines=False)
            for index, column in enumerate(report.columns):
                table.add_column(column, justify="left" if index == 0 else "right")
            for row in report.rows:
                table.add_row(*row)
            console.print(table)
        else:
            console.print(f"[italic]{report.title}[/italic]")
        for note in report.notes:
            console.print(f"  [dim]{note}[/dim]")
        for name, passed in report.checks.items():
            mark = "[green]PASS[/green]" if passed else "[red]FAIL[/red]"
            console.print(f"  {mark} {name}")
        console.print(f"  [dim]took {report.seconds:.1f} s[/dim]\n")


def main(run: Callable[[], Report]) -> int:
    """Run one benchmark module on its own, as ``python -m benchmarks.NAME`` does.

    Prints what ``benchmarks.run`` prints for it (its headline rows, then its
    table) and returns the exit status: non-zero when a check fails.
    """
    report = run()
    render_summary([report])
    render([report])
    return 0 if report.ok else 1
