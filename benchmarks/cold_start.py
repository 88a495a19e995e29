"""Cold start of the command line: ``switchboard --help`` against ``import langgraph.graph``.

Every command pays the interpreter's start and the imports it needs before
it does anything; ``--help`` should pay almost nothing. The anchor is the
least any LangGraph application pays: importing ``langgraph.graph``.

- Each side runs in a fresh process, ``RUNS`` times, interleaved, after one
  warm-up each; the median wall time is reported, and beside it the median
  CPU time (user + system) of the child process.
- Ours: the installed console script, ``switchboard --help``, as a user runs
  it (the ``switchboard`` next to this interpreter; ``python -m
  switchboard.cli`` only when no script is installed, which the row says).
  It builds the whole parser (every subcommand and its help).
- Floor: ``python -c pass``, the interpreter alone.
- Target (issue 8): ``switchboard --help`` in at most 0.5 s, judged on the
  median wall time, which is what a user waits; CPU is shown beside it (on a
  machine shared with other jobs, wall time is the noisier of the two).

Run it alone with ``python -m benchmarks.cold_start``.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import Report, Row, main, ratio

RUNS = 9
TARGET_S = 0.5
OURS = "switchboard --help"
ANCHOR = "import langgraph.graph"


def console_script() -> list[str]:
    """The installed ``switchboard`` command beside this interpreter, or the module it runs when there is none."""
    script = Path(sys.executable).parent / "switchboard"
    return [str(script), "--help"] if script.is_file() else [sys.executable, "-m", "switchboard.cli", "--help"]


COMMANDS = {
    OURS: console_script(),
    ANCHOR: [sys.executable, "-c", "import langgraph.graph"],
    "python -c pass": [sys.executable, "-c", "pass"],
}


@dataclass(frozen=True)
class Timing:
    """One command's median wall and CPU seconds over the runs."""

    wall: float
    cpu: float


def _time(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(runs: int = RUNS) -> dict[str, Timing]:
    """Median wall and CPU seconds per command, runs interleaved."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        _time(command)  # warm the file cache and the bytecode
    for _ in range(runs):
        for name, command in COMMANDS.items():
            samples[name].append(_time(command))
    return {
        name: Timing(statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
        for name, got in samples.items()
    }


def rows(measured: dict[str, Timing]) -> list[tuple[str, ...]]:
    """One row per command, beside the anchor, with the verdict on ours."""
    anchor = measured[ANCHOR]
    table: list[tuple[str, ...]] = []
    for name, got in measured.items():
        target = ""
        if name == OURS:
            target = "met" if got.wall <= TARGET_S else f"MISS (target {TARGET_S:g} s wall)"
        table.append(
            (
                name,
                f"{got.wall:.2f}",
                f"{got.cpu:.2f}",
                ratio(got.wall, anchor.wall),
                ratio(got.cpu, anchor.cpu),
                target,
            )
        )
    return table


def summary(measured: dict[str, Timing]) -> Row:
    """The headline row: ours in median wall seconds (CPU beside it), against the anchor and the target."""
    ours, anchor = measured[OURS], measured[ANCHOR]
    return Row(
        figure="switchboard --help, median wall s (CPU s)",
        ours=f"{ours.wall:.2f} ({ours.cpu:.2f})",
        anchor=f"{anchor.wall:.2f} ({anchor.cpu:.2f})",
        versus=ANCHOR,
        ratio=ratio(ours.wall, anchor.wall),
        target=f"<= {TARGET_S:g} s",
        met=ours.wall <= TARGET_S,
    )


def run(runs: int = RUNS) -> Report:
    """Time the three commands and report them beside the anchor."""
    started = time.perf_counter()
    measured = measure(runs)
    return Report(
        title="Cold start: a fresh process, median seconds",
        columns=("command", "wall s", "CPU s", "wall vs anchor", "CPU vs anchor", "target"),
        rows=tuple(rows(measured)),
        notes=(
            f"Each command in a fresh process, {runs} interleaved runs after one warm-up; CPU is user + system "
            "time of the child. The anchor is `import langgraph.graph`, the least a LangGraph application loads.",
            f"Ours: `{' '.join(COMMANDS[OURS])}`, the installed console script; the target is judged on its "
            "median wall time, what a user waits.",
            "--help builds the whole parser; LangGraph, LangChain, pydantic and rich load only when a command runs.",
        ),
        seconds=time.perf_counter() - started,
        summary=(summary(measured),),
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
