"""What a benchmark hands back, and how it is printed.

Each benchmark returns a :class:`Report` (a table plus notes on method)
instead of printing, so ``benchmarks.run`` can run them all and print them
the same way, and tests can read the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table


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

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(self.checks.values())


def ratio(ours: float, anchor: float) -> str:
    """``ours / anchor`` as ``0.12x``; a dash when the anchor is zero."""
    return f"{ours / anchor:.2f}x" if anchor else "-"


def render(reports: Sequence[Report], console: Console | None = None) -> None:
    """Print each report as a table, its notes and its checks."""
    console = console or Console()
    for report in reports:
        table = Table(title=report.title, title_justify="left", show_lines=False)
        for index, column in enumerate(report.columns):
            table.add_column(column, justify="left" if index == 0 else "right")
        for row in report.rows:
            table.add_row(*row)
        console.print(table)
        for note in report.notes:
            console.print(f"  [dim]{note}[/dim]")
        for name, passed in report.checks.items():
            mark = "[green]PASS[/green]" if passed else "[red]FAIL[/red]"
            console.print(f"  {mark} {name}")
        console.print(f"  [dim]took {report.seconds:.1f} s[/dim]\n")
