"""Graph build time at 5, 50 and 500 agents: the first build beside the anchor's, and a run's build after it.

``build_graph`` compiles one agent subgraph that every card and spec agent
shares (the step picks its card at run time), a node per agent in the
supervisor graph, and the capability shortlist's index. This measures what
that costs as the team grows, against the anchor's build of the same team,
and what a run pays once the process has built the graph
(``switchboard.graph_cache``: one compiled graph per process and recipe).

- Teams: ``agents.synthetic.synthetic_team(n)`` (seed 0), parsed before the
  clock starts; no MCP servers, the default (empty) policy.
- **first build**: ``build_graph(team=..., model=...)`` in a process that
  has built nothing for that team (each repeat a team object and a model of
  its own, so no cache helps); median of ``REPEATS``.
- **anchor**: ``langgraph_supervisor.create_supervisor`` over one
  ``create_react_agent`` per card of the same team (its description as the
  prompt, no tools: the synthetic cards have none), compiled; the same model
  class (``ScriptedChatModel``), a fresh one per repeat. Ours and the
  anchor's repeats alternate, so both see the same machine load.
- **run's build**: ``switchboard.runs.open_graph`` for the same team file
  after one warm-up run: what ``start_run`` spends getting its graph (the
  team file's cache check, the recipe key, the session's saver and store on
  SQLite, attaching them to a copy of the compiled graph); best of ``REPEATS``.
- Target (issue 8): a 500-agent team builds in at most 1 s.

Run it alone with ``python -m benchmarks.build_time``.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from benchmarks.report import Report, Row, main, ratio
from benchmarks.throughput import isolated_home
from switchboard.agents.card import Team
from switchboard.agents.synthetic import synthetic_team
from switchboard.graph import build_graph
from switchboard.policies import PolicyFile
from switchboard.runs import open_graph
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel

SIZES = (5, 50, 500)
REPEATS = 3
TARGET_S = 1.0
"""The issue's target for a 500-agent build."""


def ours(team: Team) -> float:
    """Seconds for one ``build_graph`` of ``team``."""
    model = ScriptedChatModel(steps=[])
    started = time.perf_counter()
    build_graph(team=team, model=model, policy=PolicyFile(name="bench"))
    return time.perf_counter() - started


def anchor(team: Team) -> float:
    """Seconds for langgraph-supervisor to build and compile the same team."""
    from langgraph.prebuilt import create_react_agent
    from langgraph_supervisor import create_supervisor

    model = ScriptedChatModel(steps=[])
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # create_react_agent is deprecated in LangGraph 1.x
        agents: list[Any] = [
            create_react_agent(model=model, tools=[], prompt=card.description, name=card.name) for card in team.agents
        ]
    create_supervisor(agents, model=model).compile()
    return time.perf_counter() - started


def first_build(n: int, repeats: int = REPEATS) -> tuple[float, float]:
    """Median seconds of ``repeats`` fresh builds of an ``n``-agent team: ours, then the anchor's, interleaved."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(repeats):
        mine.append(ours(synthetic_team(n).model_copy()))  # a team object of its own: nothing cached by identity
        theirs.append(anchor(synthetic_team(n).model_copy()))
    return statistics.median(mine), statistics.median(theirs)


async def run_build(n: int, folder: Path, repeats: int = REPEATS) -> float:
    """Seconds ``open_graph`` takes for an ``n``-agent team file once the process has built it (best of ``repeats``)."""
    file = folder / f"team-{n}.yaml"
    file.write_text(yaml.safe_dump(synthetic_team(n).model_dump(mode="json", exclude={"source"})), encoding="utf-8")
    settings = Settings(
        team=str(file), checkpoint_db=str(folder / f"c-{n}.sqlite"), health_db=str(folder / "health.sqlite")
    )
    model = ScriptedChatModel(steps=[])
    async with open_graph(settings, model=model):
        pass  # the first build, outside the clock
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        async with open_graph(settings, model=model):
            best = min(best, time.perf_counter() - started)
    return best


def rows(sizes: Sequence[int] = SIZES) -> tuple[list[tuple[str, ...]], dict[str, bool], list[Row]]:
    """One row per team size, the check against the target, and the headline row."""
    table: list[tuple[str, ...]] = []
    checks: dict[str, bool] = {}
    summary: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, isolated_home(Path(tmp) / "home"):
        for n in sizes:
            cold, theirs = first_build(n)
            warm = asyncio.run(run_build(n, Path(tmp)))
            verdict = ""
            if n == max(sizes):
                ok = cold <= TARGET_S
                verdict = "met" if ok else f"MISS (target {TARGET_S:g} s)"
                summary.append(
                    Row(
                        figure=f"graph build, {n} agents (ms)",
                        ours=f"{cold * 1000:.0f}",
                        anchor=f"{theirs * 1000:.0f}",
                        versus="create_supervisor",
                        ratio=ratio(cold, theirs),
                        target=f"<= {TARGET_S * 1000:,.0f} ms",
                        met=ok,
                    )
                )
            ms = (f"{cold * 1000:.0f}", f"{theirs * 1000:.0f}", ratio(cold, theirs), f"{warm * 1000:.1f}")
            table.append((str(n), *ms, verdict))
    return table, checks, summary


def run(sizes: Sequence[int] = SIZES) -> Report:
    """Time the builds and report them beside the anchor and the target."""
    started = time.perf_counter()
    table, checks, summary = rows(sizes)
    return Report(
        title="Graph build time (ms): the first build of a team beside the anchor's, and a run's build after it",
        columns=("agents", "first build", "create_supervisor", "ratio", "run's build", "target"),
        rows=tuple(table),
        notes=(
            f"first build: build_graph over synthetic_team(n), median of {REPEATS}; one agent subgraph shared by "
            "every agent, a node per agent in the supervisor graph, the shortlist's index.",
            "create_supervisor: langgraph-supervisor over one create_react_agent per card of the same team, "
            "compiled, the same model class; its repeats alternate with ours.",
            "run's build: switchboard.runs.open_graph after a warm-up run (the graph is compiled once per "
            "process and recipe; a run attaches its SQLite saver and store to a copy).",
        ),
        checks=checks,
        seconds=time.perf_counter() - started,
        summary=tuple(summary),
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
