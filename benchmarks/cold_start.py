"""Cold start of the command line: ``switchboard --help`` against ``import langgraph.graph``.

Every command pays the interpreter's start and the imports it needs before
it does anything; ``--help`` should pay almost nothing. The anchor is the
least any LangGraph application pays: importing ``langgraph.graph``.

- Each side runs in a fresh interpreter (``sys.executable``), ``RUNS`` times,
  interleaved; the median wall time is reported, and the CPU time (user +
  system) of the child processes, which load on a shared machine inflates
  less than wall time.
- Ours: ``python -m switchboard.cli --help``, the console script's code path,
  which builds the whole parser (every subcommand and its help).
- Floor: ``python -c pass``, the interpreter alone.
- Target (issue 8): ``switchboard --help`` in at most 0.5 s, checked on CPU
  time as the issue measured it ("2.2 s of CPU"); wall time is shown beside
  it, and on an idle machine is close to it.

Run it alone with ``python -m benchmarks.cold_start``.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time

from benchmarks.report import Report, main, ratio

RUNS = 5
TARGET_S = 0.5
COMMANDS = {
    "switchboard --help": [sys.executable, "-m", "switchboard.cli", "--help"],
    "import langgraph.graph": [sys.executable, "-c", "import langgraph.graph"],
    "python -c pass": [sys.executable, "-c", "pass"],
}


def _time(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(runs: int = RUNS) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds per command, runs interleaved."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        _time(command)  # warm the file cache and the bytecode
    for _ in range(runs):
        for name, command in COMMANDS.items():
            samples[name].append(_time(command))
    return {
        name: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
        for name, got in samples.items()
    }


def rows(runs: int = RUNS) -> tuple[list[tuple[str, ...]], dict[str, bool]]:
    """One row per command, and the check against the target."""
    measured = measure(runs)
    anchor_wall, anchor_cpu = measured["import langgraph.graph"]
    table = []
    for name, (wall, cpu) in measured.items():
        target = ""
        if name == "switchboard --help":
            target = "met" if cpu <= TARGET_S else f"MISS (target {TARGET_S:g} s CPU)"
        table.append((name, f"{wall:.2f}", f"{cpu:.2f}", ratio(wall, anchor_wall), ratio(cpu, anchor_cpu), target))
    return table, {f"switchboard --help in <= {TARGET_S:g} s of CPU": measured["switchboard --help"][1] <= TARGET_S}


def run(runs: int = RUNS) -> Report:
    """Time the three commands and report them beside the anchor."""
    started = time.perf_counter()
    table, checks = rows(runs)
    return Report(
        title="Cold start: a fresh process, median seconds",
        columns=("command", "wall s", "CPU s", "wall vs anchor", "CPU vs anchor", "target"),
        rows=tuple(table),
        notes=(
            f"Each command in a fresh interpreter, {RUNS} interleaved runs after one warm-up; CPU is user + system "
            "time of the child. The anchor is `import langgraph.graph`, the least a LangGraph application loads.",
            "--help builds the whole parser; LangGraph, LangChain, pydantic and rich load only when a command runs.",
        ),
        checks=checks,
        seconds=time.perf_counter() - started,
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
