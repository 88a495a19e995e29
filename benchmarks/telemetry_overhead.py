"""Telemetry overhead: the same scripted run with and without the monitoring handler.

Local telemetry is always on, so its cost lands on every run. The handler
runs inline on the event loop (it only builds events, runs the in-memory
detectors and queues rows); a background thread writes them to SQLite. This
measures what that adds to a run's wall time.

- Script: the supervisor routes to ``desk``; ``desk`` hands off; the
  supervisor finishes; ``finalize`` writes the report. Three model calls,
  four supervisor-graph steps, three agent substeps.
- With: ``config["callbacks"] = [monitor.handler]``, a monitor over a
  telemetry file in a temporary directory, with every detector on. The
  writer's queue is drained after each run, outside the clock, so each run
  starts with an idle writer; the drain time is reported separately.
- No-op: a callback handler that does nothing, to separate what any
  LangChain callback costs (run ids, callback managers for every wrapper)
  from what the telemetry handler adds on top.
- Without: the same graph and script, no callbacks.

Both sides use ScriptedChatModel, the SQLite saver (open_checkpointer) in the same temporary
directory and fresh threads; graphs are built before the clock starts, runs
are interleaved. Run it alone with ``python -m benchmarks.telemetry_overhead``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from statistics import mean, median
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langgraph.checkpoint.base import BaseCheckpointSaver

from benchmarks.report import Report, main, ratio
from switchboard.agents.card import AgentCard, Skill, Team
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.monitoring import Monitor, MonitoringConfig
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, finish, handoff, route

RUNS = 30
WARMUP = 3
TASK = "Where is parcel 42?"
TEAM = Team(
    name="bench_telemetry",
    agents=(
        AgentCard(
            name="desk",
            description="Answers parcel questions.",
            skills=(Skill(id="track", description="Track a parcel.", examples=("Where is parcel 7?",)),),
        ),
    ),
)
POLICY = PolicyFile(name="bench")


class _Noop(BaseCallbackHandler):
    """A handler that does nothing: the cost of having callbacks at all."""

    run_inline = True


async def trial(saver: BaseCheckpointSaver[Any], thread: str, handler: BaseCallbackHandler | None) -> float:
    """One scripted run; returns seconds on the clock."""
    model = ScriptedChatModel(
        steps=[route("desk", TASK, skill="track"), finish("parcel 42 is out for delivery")],
        agents={"desk": [handoff("Parcel 42 is out for delivery.")]},
    )
    graph = build_graph(team=TEAM, model=model, policy=POLICY, checkpointer=saver)
    config: Any = {"configurable": {"thread_id": thread}, "metadata": {"thread_id": thread}}
    if handler is not None:
        config["callbacks"] = [handler]
    started = time.perf_counter()
    result = await graph.ainvoke({"task": TASK, "hops": 0}, config)
    elapsed = time.perf_counter() - started
    model.assert_complete()
    if result.get("outcome") != "resolved":
        raise AssertionError(f"the scripted run did not resolve: {result}")
    return elapsed


async def measure(runs: int = RUNS) -> tuple[list[float], list[float], list[float], list[float], int]:
    """Milliseconds per run with telemetry, a no-op handler and none; drain times; events per run."""
    with tempfile.TemporaryDirectory() as tmp:
        monitor = Monitor(MonitoringConfig(telemetry_db=Path(tmp) / "telemetry.sqlite", sinks=()))
        try:
            async with open_checkpointer(Path(tmp) / "checkpoints.sqlite") as saver:
                with_ms: list[float] = []
                noop_ms: list[float] = []
                without_ms: list[float] = []
                drain_ms: list[float] = []
                for index in range(-WARMUP, runs):
                    on = 1000 * await trial(saver, f"on-{index}", monitor.handler)
                    drained = time.perf_counter()
                    monitor.flush()
                    drain = 1000 * (time.perf_counter() - drained)
                    noop = 1000 * await trial(saver, f"noop-{index}", _Noop())
                    off = 1000 * await trial(saver, f"off-{index}", None)
                    if index >= 0:
                        with_ms.append(on)
                        noop_ms.append(noop)
                        without_ms.append(off)
                        drain_ms.append(drain)
            rows = monitor.store.rows("SELECT COUNT(*) AS n FROM events WHERE thread_id = 'on-0'")
        finally:
            monitor.close()
    return with_ms, noop_ms, without_ms, drain_ms, int(rows[0]["n"])


def run(runs: int = RUNS) -> Report:
    """Time both sides and report per-run wall time and the ratio."""
    started = time.perf_counter()
    with_ms, noop_ms, without_ms, drain_ms, events = asyncio.run(measure(runs))
    rows = tuple(
        (
            label,
            f"{fn(with_ms):.1f}",
            f"{fn(noop_ms):.1f}",
            f"{fn(without_ms):.1f}",
            ratio(fn(with_ms), fn(without_ms)),
            ratio(fn(with_ms), fn(noop_ms)),
        )
        for label, fn in (("mean ms / run", mean), ("median ms / run", median), ("min ms / run", min))
    )
    return Report(
        title=f"Telemetry overhead: wall time per scripted run ({runs} runs)",
        columns=("", "with telemetry", "no-op handler", "without", "ratio", "vs no-op"),
        rows=(*rows, ("events recorded / run", str(events), "0", "0", "-", "-")),
        notes=(
            "Script: supervisor routes -> desk hands off -> supervisor finishes -> finalize (3 model calls).",
            "with: the monitor's callback handler in config['callbacks'], every detector on, rows queued to a "
            "background SQLite writer; no-op: a handler that does nothing (the cost of any LangChain callback); "
            "without: no callbacks. Same graph, saver and script; runs interleaved, "
            f"{WARMUP} warm-up runs each.",
            f"Draining the writer's queue after a run (outside the clock): {median(drain_ms):.1f} ms median.",
        ),
        checks={"every run with telemetry recorded its events": events >= 10},
        seconds=time.perf_counter() - started,
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
