"""Runs one after another in one process: MCP servers kept between runs, against a server start per run.

Starting the retail stdio server (a Python process that imports the MCP SDK
and opens its database) takes over a second, more than a short run itself.
Runs that overlap share one set of servers; this measures runs that do not:
a notebook cell run again, a worker taking jobs one at a time.

- Task: ``TASK``, a read-only lookup the embedded engine completes (it
  finds the customer and reads the order over MCP), so every run does the
  same work on an unchanged database.
- Path: :func:`switchboard.runs.start_run` with the embedded engine and the
  shipped retail team, ``RUNS`` runs in a row on one event loop
  (:func:`switchboard.graph_cache.run`, as the CLI uses it).
- **Switchboard**: the default ``mcp_keepalive`` (servers kept for the
  next run); **anchor**: ``mcp_keepalive=0``, a server start per run, which
  is what every run did before and what opening the toolbox per run costs.
  Both count every run, the first (which starts the servers) included; the
  two alternate for ``ROUNDS`` rounds, and the table shows the medians.
- Server starts are counted outside the process, by the servers themselves:
  the shipped team file starts its server with ``${PYTHON}``, which the team
  expands from the environment first (``Team.connections``), so ``PYTHON``
  points at a two-line shell script that appends a line to a file and
  ``exec``s this interpreter. No private code of the toolbox is hooked, and
  the script adds about a millisecond per start, to the anchor's side.

Run it alone with ``python -m benchmarks.mcp_keepalive``.
"""

from __future__ import annotations

import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.report import Report, Row, main, ratio
from benchmarks.throughput import isolated_home
from switchboard import graph_cache
from switchboard.domains.retail.demo import DB_VARIABLE, build_demo_db
from switchboard.runs import start_run
from switchboard.settings import Settings

TASK = "Hi, this is Mia Chen (mia.chen@example.com). What is the status of my last order?"
RUNS = 5
ROUNDS = 3


@contextmanager
def counting_starts(folder: Path) -> Iterator[Path]:
    """Count every MCP server the team starts in a block: one line per start in the file yielded.

    The team file's ``${PYTHON}`` is read from the environment before the
    running interpreter (``Team.connections``), so pointing ``PYTHON`` at a
    script that logs and then ``exec``s the interpreter counts the real
    process starts, whatever code path starts them.
    """
    log = folder / "server-starts.log"
    log.touch()
    script = folder / "counting-python"
    script.write_text(
        f'#!/bin/sh\necho start >> {shlex.quote(str(log))}\nexec {shlex.quote(sys.executable)} "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    before = os.environ.get("PYTHON")
    os.environ["PYTHON"] = str(script)
    try:
        yield log
    finally:
        if before is None:
            os.environ.pop("PYTHON", None)
        else:
            os.environ["PYTHON"] = before


def starts(log: Path) -> int:
    """Server starts logged so far by :func:`counting_starts`."""
    return len(log.read_text(encoding="utf-8").splitlines())


async def _runs(settings: Settings) -> float:
    """Seconds for ``RUNS`` runs in a row, each checked to complete."""
    started = time.perf_counter()
    for _ in range(RUNS):
        result = await start_run(TASK, settings=settings)
        if result.status != "completed":
            raise AssertionError(f"a keepalive run did not complete: {result}")
    return time.perf_counter() - started


def measure(folder: Path, rounds: int = ROUNDS) -> dict[str, tuple[float, float]]:
    """Per mode, the median ms per run over the rounds and the server starts per run."""
    os.environ[DB_VARIABLE] = str(build_demo_db(folder / "retail.sqlite"))
    modes = {
        "kept": Settings(checkpoint_db=str(folder / "kept.sqlite")),
        "per run": Settings(checkpoint_db=str(folder / "per-run.sqlite"), mcp_keepalive=0),
    }
    seconds: dict[str, list[float]] = {mode: [] for mode in modes}
    started: dict[str, int] = dict.fromkeys(modes, 0)
    with counting_starts(folder) as log:
        for _ in range(rounds):
            for mode, settings in modes.items():
                before = starts(log)
                seconds[mode].append(graph_cache.run(_runs(settings)))
                started[mode] += starts(log) - before
    return {mode: (1000 * statistics.median(seconds[mode]) / RUNS, started[mode] / (rounds * RUNS)) for mode in modes}


def run(rounds: int = ROUNDS) -> Report:
    """Measure both modes and report ms per run and server starts per run."""
    began = time.perf_counter()
    before = os.environ.get(DB_VARIABLE)
    try:
        with tempfile.TemporaryDirectory() as tmp, isolated_home(Path(tmp) / "home"):
            measured = measure(Path(tmp), rounds)
    finally:
        if before is None:
            os.environ.pop(DB_VARIABLE, None)
        else:
            os.environ[DB_VARIABLE] = before
    (kept_ms, kept_starts), (fresh_ms, fresh_starts) = measured["kept"], measured["per run"]
    kept_once = round(kept_starts * RUNS, 6) == 1
    return Report(
        title=f"{RUNS} retail runs in a row, one process: MCP servers kept between runs vs started per run",
        columns=("MCP servers", "ms per run", "server starts per run", "ratio"),
        rows=(
            ("kept (mcp_keepalive default)", f"{kept_ms:.0f}", f"{kept_starts:.2f}", ratio(kept_ms, fresh_ms)),
            ("started per run (mcp_keepalive=0)", f"{fresh_ms:.0f}", f"{fresh_starts:.2f}", "1.00x"),
        ),
        notes=(
            f"Each cell: {RUNS} start_run calls in a row of {TASK!r} with the embedded engine on the shipped "
            f"retail team, first run included; median of {rounds} alternating rounds.",
            "The anchor is the same runs with mcp_keepalive=0: the toolbox opened and closed with every run.",
            "Server starts: logged by the server processes themselves (the team's ${PYTHON} points at a script "
            "that logs, then execs this interpreter); no private code is hooked.",
        ),
        # The summary row checks the target; this checks the counter itself (a server start per anchor run).
        checks={"the anchor starts a server for every run (the count works)": round(fresh_starts, 6) == 1},
        seconds=time.perf_counter() - began,
        summary=(
            Row(
                figure=f"{RUNS} runs in a row, ms per run",
                ours=f"{kept_ms:.0f}",
                anchor=f"{fresh_ms:.0f}",
                versus="a server start per run",
                ratio=ratio(kept_ms, fresh_ms),
                target=f"1 server start per {RUNS} runs",
                met=kept_once,
            ),
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
