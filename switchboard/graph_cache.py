"""Compiled supervisor graphs, kept for the life of the process.

Compiling the graph costs one subgraph per agent: about 0.1 s at five agents
and seconds at hundreds, which every run used to pay again. The compiled
graph depends only on what it was built from (the team, the model, the
policy and its principals, the settings and the team's environment), so runs
in one process share one graph for each combination of those, and attach
what is theirs alone, the checkpointer and the store, to a cheap copy
(LangGraph's ``Pregel.copy``; agent subgraphs inherit both from the parent's
run config).

What a graph holds open is shared by the runs using it at the same time: the
MCP toolbox opens with the first of them and closes after the last, so
concurrent threads share one set of MCP servers instead of starting one each;
the health registry and the audit log stay open with the graph and are closed
when it leaves the cache (the least recently used of :data:`SIZE` graphs).

MCP sessions belong to the event loop that opened them: while a graph's
toolbox is open on one loop, a run on another loop gets a graph of its own,
built and closed as runs were before the cache.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph

from switchboard.agents.card import Team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints.audit import AuditLog, open_audit
from switchboard.policies import Registry
from switchboard.settings import Settings

__all__ = ["SIZE", "Recipe", "clear", "shared_graph"]

Graph = CompiledStateGraph[Any, Any, Any, Any]
Build = Callable[[Toolbox, HealthRegistry, AuditLog], Graph]

SIZE = 8
"""Graphs kept at once; the least recently used one not in use is closed first."""


@dataclass(frozen=True)
class Recipe:
    """Everything a compiled graph depends on: two equal recipes build the same graph."""

    settings: Settings
    team: Team
    """Parsed once per version of the team file (see ``load_team``), so an edited file is a new team."""
    env: Mapping[str, str]
    """What the team's setup hook provided (it fills the MCP connections)."""
    model: BaseChatModel | None
    """A model object the caller gave, compared by identity; ``None`` resolves ``settings.model``."""
    principals: Registry
    connect: bool

    def key(self) -> tuple[Any, ...]:
        """The cache key: values for settings, files and environment, identities for objects."""
        policy = self.team.policy_path
        stamp = (policy.stat().st_mtime_ns, policy.stat().st_size) if policy and policy.is_file() else None
        return (
            self.settings.model_dump_json(),
            id(self.team),
            json.dumps(dict(self.env), sort_keys=True),
            id(self.model),
            stamp,
            self.connect,
        )


@dataclass
class _Entry:
    """One cached graph and what it holds open."""

    recipe: Recipe
    toolbox: Toolbox
    health: HealthRegistry
    audit: AuditLog
    graph: Graph | None = None
    users: int = 0
    loop: asyncio.AbstractEventLoop | None = None
    """The loop the toolbox is open on, while ``users`` > 0."""

    def close(self) -> None:
        """Close the health registry and the audit log (the toolbox is closed with its last user)."""
        self.health.close()
        self.audit.close()


_entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
_guard = threading.Lock()
"""Guards ``_entries`` against event loops in other threads."""


@asynccontextmanager
async def shared_graph(recipe: Recipe, build: Build, health_path: Path) -> AsyncIterator[Graph]:
    """The compiled graph for ``recipe``, with its toolbox open, for the length of a block.

    Args:
        recipe: What the graph is built from.
        build: Compiles the graph over a toolbox, health registry and audit
            log (without a checkpointer or store: callers attach theirs).
        health_path: Where live load and health are shared.

    Raises:
        ConfigError: The team, its tools or its policy are invalid (raised
            by ``build`` or by the toolbox); the next call tries again.
    """
    loop = asyncio.get_running_loop()
    entry = _claim(recipe, health_path, loop)
    if entry is None:  # the cached graph is in use on another event loop
        async with _private_graph(recipe, build, health_path) as graph:
            yield graph
        return
    try:
        await entry.toolbox.open()
        if entry.graph is None:
            # No await between the check and the assignment: concurrent first
            # runs on this loop wait for the toolbox above, then one builds.
            entry.graph = build(entry.toolbox, entry.health, entry.audit)
        yield entry.graph
    finally:
        await _release(entry)


def _claim(recipe: Recipe, health_path: Path, loop: asyncio.AbstractEventLoop) -> _Entry | None:
    """Count a user in on the cached entry for ``recipe``, making it if need be."""
    key = recipe.key()
    evicted: list[_Entry] = []
    with _guard:
        entry = _entries.get(key)
        if entry is not None and entry.recipe.principals != recipe.principals:
            if entry.users:
                return None  # principals changed while runs use the old graph: build one apart
            evicted.append(_entries.pop(key))
            entry = None
        if entry is None:
            entry = _Entry(
                recipe,
                Toolbox.for_team(recipe.team, dict(recipe.env)) if recipe.connect else Toolbox({}),
                HealthRegistry(health_path),
                open_audit(recipe.settings.data_dir),
            )
            _entries[key] = entry
        elif entry.users and entry.loop is not loop:
            return None
        _entries.move_to_end(key)
        entry.users += 1
        entry.loop = loop
        idle = [k for k, e in _entries.items() if not e.users]
        while len(_entries) > SIZE and idle:
            evicted.append(_entries.pop(idle.pop(0)))
    for old in evicted:
        old.close()
    return entry


async def _release(entry: _Entry) -> None:
    with _guard:
        entry.users -= 1
        last = entry.users == 0
        if last:
            entry.loop = None
    if last:
        await entry.toolbox.aclose()


@asynccontextmanager
async def _private_graph(recipe: Recipe, build: Build, health_path: Path) -> AsyncIterator[Graph]:
    """A graph for one block, opened and closed with it (the cache's fallback)."""
    toolbox = Toolbox.for_team(recipe.team, dict(recipe.env)) if recipe.connect else Toolbox({})
    health = HealthRegistry(health_path)
    audit = open_audit(recipe.settings.data_dir)
    try:
        async with toolbox:
            yield build(toolbox, health, audit)
    finally:
        health.close()
        audit.close()


def clear() -> None:
    """Forget every cached graph that no run is using, closing what it holds."""
    with _guard:
        idle = [key for key, entry in _entries.items() if not entry.users]
        gone = [_entries.pop(key) for key in idle]
    for entry in gone:
        entry.close()
