"""Run every benchmark: ``python -m benchmarks.run``.

Each benchmark measures Switchboard and its anchor in the same process, in
the same run, so the ratios hold on whatever machine runs them. First comes
one headline table of every benchmark's summary rows (ours, the anchor, the
ratio and the target; see ``benchmarks.report.Row``), then each
benchmark's own table with its method notes. Nothing here touches the
network; the exit status is non-zero when a check fails or a target is
missed, so CI can run it. A benchmark that raises is shown as a failed row
with its error, and the others still run and print.
"""

from __future__ import annotations

import time
import traceback
from types import ModuleType

from rich.console import Console

from benchmarks import (
    build_time,
    cold_start,
    crash_matrix,
    mcp_keepalive,
    reassignment,
    routing_prompt,
    same_task,
    telemetry_overhead,
    throughput,
)
from benchmarks.report import Report, Row, render, render_summary

BENCHMARKS = (
    same_task,
    routing_prompt,
    reassignment,
    telemetry_overhead,
    build_time,
    mcp_keepalive,
    throughput,
    cold_start,
    crash_matrix,
)
"""Modules with ``run() -> Report``, in the order their rows are printed."""


def crashed(module: ModuleType, error: BaseException, seconds: float) -> Report:
    """The report of a benchmark that raised: one failed headline row with the error, and its traceback.

    One broken benchmark must not hide the others' results (they were
    measured in the same run), nor pass unnoticed: its row shows ``MISS``
    and the exit status is non-zero.
    """
    name = module.__name__.removeprefix("benchmarks.")
    message = f"{type(error).__name__}: {error}"
    return Report(
        title=f"{name}: raised {message}",
        columns=(),
        rows=(),
        notes=tuple("".join(traceback.format_exception(error)).rstrip().splitlines()),
        seconds=seconds,
        summary=(Row(figure=f"{name} did not finish", ours=message[:200], anchor="", versus="", met=False),),
    )


def run_one(module: ModuleType) -> Report:
    """The module's report, or a failed one if it raised."""
    started = time.perf_counter()
    try:
        report: Report = module.run()
    except Exception as error:  # every benchmark's failure is reported, not raised
        return crashed(module, error, time.perf_counter() - started)
    return report


def main() -> int:
    """Run, print, and return the exit status."""
    console = Console(width=max(Console().width, 120))
    started = time.perf_counter()
    reports: list[Report] = []
    for module in BENCHMARKS:
        with console.status(f"running {module.__name__}..."):
            reports.append(run_one(module))
    render_summary(reports, console)
    render(reports, console)
    console.print(f"[dim]all benchmarks: {time.perf_counter() - started:.1f} s[/dim]")
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
