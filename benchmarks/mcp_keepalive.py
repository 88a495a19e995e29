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
- Server starts are counted where the toolbox loads the tools of a freshly
  started session.

Run it alone with ``python -m benchmarks.mcp_keepalive``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.report import Report, Row, main, ratio
from benchmarks.throughput import isolated_home
from switchboard import graph_cache
from switchboard.agents.toolbox import Toolbox
from switchboard.domains.retail.demo import DB_VARIABLE, build_demo_db
from switchboard.runs import start_run
from switchboard.settings import Settings

TASK = "Hi, this is Mia Chen (mia.chen@example.com). What is the status of my last order?"
RUNS = 5
ROUNDS = 3


@contextmanager
def _counting_starts() -> Iterator[list[int]]:
    """Count the toolbox's server starts (each load of freshly started sessions) for a block."""
    starts = [0]
    load = Toolbox._load

    async def counted(self: Toolbox, stack: Any) -> Any:
        starts[0] += 1
        return await load(self, stack)

    Toolbox._load = counted  # type: ignore[method-assign]
    try:
        yield starts
    finally:
        Toolbox._load = load  # type: ignore[method-assign]


async def _runs(settings: Settings) -> float:
    """Seconds for ``RUNS`` runs in a row, each checked to complete."""
    started = time.perf_counter()
    for _ in range(RUNS):
        result = await start_run(TASK, settings=settings)
        if result.status != "completed":
            raise AssertionError(f"a keepalive run did not complete: {result}")
    return time.perf_counter() - started


def measure(folder: Path) -> dict[str, tuple[float, float]]:
    """Per mode, the median ms per run over the rounds and the server starts per run."""
    os.environ[DB_VARIABLE] = str(build_demo_db(folder / "retail.sqlite"))
    modes = {
        "kept": Settings(checkpoint_db=str(folder / "kept.sqlite")),
        "per run": Settings(checkpoint_db=str(folder / "per-run.sqlite"), mcp_keepalive=0),
    }
    seconds: dict[str, list[float]] = {mode: [] for mode in modes}
    starts: dict[str, int] = dict.fromkeys(modes, 0)
    for _ in range(ROUNDS):
        for mode, settings in modes.items():
            with _counting_starts() as counted:
                seconds[mode].append(graph_cache.run(_runs(settings)))
            starts[mode] += counted[0]
    return {mode: (1000 * statistics.median(seconds[mode]) / RUNS, starts[mode] / (ROUNDS * RUNS)) for mode in modes}


def run() -> Report:
    """Measure both modes and report ms per run and server starts per run."""
    began = time.perf_counter()
    before = os.environ.get(DB_VARIABLE)
    try:
        with tempfile.TemporaryDirectory() as tmp, isolated_home(Path(tmp) / "home"):
            measured = measure(Path(tmp))
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
            f"retail team, first run included; median of {ROUNDS} alternating rounds.",
            "The anchor is the same runs with mcp_keepalive=0: the toolbox opened and closed with every run.",
        ),
        checks={f"{RUNS} runs in a row start the MCP servers once": kept_once},
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
