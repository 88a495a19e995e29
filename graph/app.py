"""The entry point ``langgraph.json`` loads, for ``langgraph dev`` and LangGraph servers.

A server asks for the graph on every request (a run, a state read, the
schemas), so :func:`make_graph` builds it once per process and settings and
hands back the same compiled graph each time. The team's MCP servers start
with the first request and serve every run after it; they stop when the
server shuts down: ``langgraph.json`` names :data:`app`, whose only job is
that shutdown hook (LangGraph's documented "custom lifespan").

MCP sessions are bound to the event loop that opened them, so a server that
runs jobs on isolated loops (``BG_JOB_ISOLATED_LOOPS``) gets one graph per
loop; ``langgraph dev`` shares one loop, and so one graph.

The server owns persistence, so no checkpointer is given here. Live load and
health go to the same database as the CLI's (in the data directory), so a
server and CLI runs see each other's load.

Nothing here touches the disk on the event loop: reading the team, preparing
its data and building the graph run in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from starlette.applications import Starlette

from switchboard.agents.card import Team, load_team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.toolbox import Toolbox
from switchboard.graph.builder import build_graph
from switchboard.models import resolve_model
from switchboard.monitoring import instrument
from switchboard.runs import health_path, prepare_team
from switchboard.settings import Settings

__all__ = ["app", "close_graphs", "make_graph"]

_Key = tuple[asyncio.AbstractEventLoop, str, str, int]


@dataclass(frozen=True)
class _Served:
    """A built graph and what it holds open."""

    graph: CompiledStateGraph[Any, Any, Any, Any]
    toolbox: Toolbox
    health: HealthRegistry


_served: dict[_Key, asyncio.Task[_Served]] = {}


async def make_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The supervisor graph for the environment's settings, built on first call.

    Concurrent first calls wait for the same build; a build that failed (for
    example a bad team file) is tried again by the next call, so fixing the
    file does not need a restart.

    Raises:
        ConfigError: The team, its policy or the model setting is invalid.
    """
    settings = Settings()
    loop = asyncio.get_running_loop()
    for stale in [key for key in _served if key[0].is_closed()]:
        del _served[stale]
    key: _Key = (loop, settings.team, settings.model, settings.max_hops)
    task = _served.get(key)
    if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
        # Its own task and context: a request that gives up does not cancel
        # the build other requests wait for, and the build belongs to no run.
        task = loop.create_task(_serve(settings), context=contextvars.Context())
        _served[key] = task
    return (await asyncio.shield(task)).graph


async def close_graphs() -> None:
    """Stop the MCP servers of the graphs built on this event loop, and forget the graphs."""
    loop = asyncio.get_running_loop()
    tasks = [_served.pop(key) for key in [key for key in _served if key[0] is loop]]
    for task in tasks:
        if not task.done():
            task.cancel()
        await asyncio.wait([task])
        if task.cancelled() or task.exception() is not None:
            continue
        served = task.result()
        await served.toolbox.aclose()
        await asyncio.to_thread(served.health.close)


@asynccontextmanager
async def _lifespan(_: Starlette) -> AsyncIterator[None]:
    yield
    await close_graphs()


app = Starlette(lifespan=_lifespan)
"""No routes of its own: the server's shutdown stops the MCP servers cleanly."""


async def _serve(settings: Settings) -> _Served:
    team, env = await asyncio.to_thread(_prepare, settings)
    toolbox = Toolbox.for_team(team, env)
    try:
        await toolbox.open()
        graph, health = await asyncio.to_thread(_build, settings, team, toolbox)
    except BaseException:
        await toolbox.aclose()
        raise
    return _Served(graph, toolbox, health)


def _prepare(settings: Settings) -> tuple[Team, dict[str, str]]:
    """Read the team file and run its setup hook (which may build the demo data)."""
    team = load_team(settings.team)
    return team, prepare_team(team)


def _build(
    settings: Settings, team: Team, toolbox: Toolbox
) -> tuple[CompiledStateGraph[Any, Any, Any, Any], HealthRegistry]:
    """Load the model and the policy, and compile the graph."""
    health = HealthRegistry(health_path(settings))
    graph = build_graph(
        team=team,
        model=resolve_model(settings.model, team),
        toolbox=toolbox,
        health=health,
        max_hops=settings.max_hops,
    )
    # A served graph's runs never pass through switchboard.runs: the telemetry
    # handler rides in the graph's own default callbacks instead.
    return instrument(graph), health
