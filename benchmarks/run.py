"""Run every benchmark: ``python -m benchmarks.run``.

Each benchmark measures Switchboard and its anchor in the same process, in
the same run, so the ratios hold on whatever machine runs them. First comes
one headline table of every benchmark's summary rows (ours, the anchor, the
ratio and the target; see ``benchmarks.report.Row``), then each
benchmark's own table with its method notes. Nothing here touches the
network; the exit status is non-zero when a check fails or a target is
missed, so CI can run it.
"""

from __future__ import annotations

import time

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
from benchmarks.report import Report, render, render_summary

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


def main() -> int:
    """Run, print, and return the exit status."""
    console = Console(width=max(Console().width, 120))
    started = time.perf_counter()
    reports: list[Report] = []
    for module in BENCHMARKS:
        with console.status(f"running {module.__name__}..."):
            reports.append(module.run())
    render_summary(reports, console)
    render(reports, console)
    console.print(f"[dim]all benchmarks: {time.perf_counter() - started:.1f} s[/dim]")
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
