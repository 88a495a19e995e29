"""Run every benchmark and print one table each: ``python -m benchmarks.run``.

Each benchmark measures Switchboard and its anchor in the same process, in
the same run, so the ratios hold on whatever machine runs them. Nothing here
touches the network; the exit status is non-zero when a benchmark's check
fails, so CI can run it.
"""

from __future__ import annotations

import time

from rich.console import Console

from benchmarks import crash_matrix, reassignment, routing_prompt, telemetry_overhead
from benchmarks.report import Report, render

BENCHMARKS = (routing_prompt, reassignment, telemetry_overhead, crash_matrix)


def main() -> int:
    """Run, print, and return the exit status."""
    console = Console()
    started = time.perf_counter()
    reports: list[Report] = []
    for module in BENCHMARKS:
        with console.status(f"running {module.__name__}..."):
            reports.append(module.run())
    render(reports, console)
    console.print(f"[dim]all benchmarks: {time.perf_counter() - started:.1f} s[/dim]")
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
