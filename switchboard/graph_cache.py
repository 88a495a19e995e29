"""Compiled supervisor graphs, kept for the life of the process.

Compiling the graph costs one subgraph per agent: about 0.1 s at five agents
and seconds at hundreds, which every run used to pay again. The compiled
graph depends only on what it was built from (the team, the model, the
policy and its principals, the settings and the team's environment), so runs
in one process share one graph for each combination of those.

What the runs need open is shared by the runs busy at the same time (a
*session*): the checkpointer and the store open with the first of them and
close after the last, so concurrent threads share one saver instead of
opening their own, and never wait on each other's SQLite locks (on Postgres,
each run gets a saver instance of its own over the session's connection
pool, since an instance runs one query at a time). The session's graph is a
cheap copy of the compiled one with its saver and store attached (LangGraph's
``Pregel.copy``; agent subgraphs inherit both from the parent's run config).
The health registry and the audit log stay open with the graph and are
closed when it leaves the cache (the least recently used of :data:`SIZE` graphs).

The MCP servers outlive a session: starting a stdio server costs over a
second, which a notebook or a worker running tasks one after another would
pay on every run. They stay up for ``Settings.mcp_keepalive`` seconds after
the last run leaves, and the next run on the same event loop takes them over
once each has answered a ping (a server that died meanwhile, or whose
files were replaced, is started again: see ``Toolbox.revive``).
``asyncio.run`` ends them as it returns, since it cancels the keepalive
timer (:func:`run` and :func:`stop_idle` stop them cleanly first);
``mcp_keepalive=0`` stops them with every session.

A workflow file a team names is read when its graph is built: editing one
takes effect in a new process (or after :func:`clear`), as does a code
change.

MCP sessions belong to the event loop that opened them: while a graph's
toolbox is open on one loop, a run on another loop gets a graph of its own,
built and closed as runs were before the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from switchboard.agents.card import Team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer, open_store
from switchboard.checkpoints.audit import AuditLog, open_audit
from switchboard.checkpoints.factory import saver_for_run
from switchboard.policies import Registry
from switchboard.settings import Settings

__all__ = ["IDLE_TOOLBOXES", "SIZE", "Recipe", "clear", "run", "shared_graph", "stop_idle"]

T = TypeVar("T")
Graph = CompiledStateGraph[Any, Any, Any, Any]
Build = Callable[[Toolbox, HealthRegistry, AuditLog], Graph]

SIZE = 8
"""Graphs kept at once; the least recently used one not in use is closed first."""
IDLE_TOOLBOXES = 2
"""Graphs whose MCP servers are kept up while no run uses them; beyond, the least recently used are stopped.

Every run of an evaluation has a recipe of its own (its own database), so
without a bound each would leave a server process idle for the keepalive."""


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
    clock: Callable[[], float] | None = None
    """The audit log's clock (tests inject one for escalation timeouts), compared by identity."""

    def key(self) -> tuple[Any, ...]:
        """The cache key: values for settings, files and environment, identities for objects."""
        policy = self.team.policy_path
        stamp = (policy.stat().st_mtime_ns, policy.stat().st_size) if policy and policy.is_file() else None
        return (
            self.settings.model_dump_json(),
            str(self.settings.data_dir),  # the default follows the working directory
            id(self.team),
            json.dumps(dict(self.env), sort_keys=True),
            id(self.model),
            stamp,
            self.connect,
            id(self.clock),
        )


@dataclass(frozen=True)
class _Session:
    """What the runs of one busy period share: the graph over an open toolbox, saver and store."""

    graph: Graph
    stack: AsyncExitStack

    def for_run(self) -> Graph:
        """The graph for one run: the shared one, or a copy with a saver of its own over the shared connections.

        A Postgres saver runs one query at a time, so runs sharing it would
        queue for it (see ``saver_for_run``).
        """
        saver = self.graph.checkpointer
        if not isinstance(saver, BaseCheckpointSaver):
            return self.graph
        own = saver_for_run(saver)
        return self.graph if own is saver else self.graph.copy(update={"checkpointer": own})


@dataclass
class _Entry:
    """One cached graph and what it holds open."""

    recipe: Recipe
    toolbox: Toolbox
    health: HealthRegistry
    audit: AuditLog
    graph: Graph | None = None
    """Compiled without a checkpointer or store; each session attaches its own."""
    users: int = 0
    loop: asyncio.AbstractEventLoop | None = None
    """The loop the session is open on, while ``users`` > 0."""
    session: asyncio.Task[_Session] | None = None
    closer: asyncio.Task[None] | None = None
    """Between sessions, the timer that stops the idle MCP servers (see :func:`_linger`)."""

    def close(self) -> None:
        """Close the health registry and the audit log (the session is closed with its last user)."""
        self.health.close()
        self.audit.close()


_entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
_guard = threading.Lock()
"""Guards ``_entries`` against event loops in other threads."""


@asynccontextmanager
async def shared_graph(recipe: Recipe, build: Build, health_path: Path) -> AsyncIterator[Graph]:
    """The compiled graph for ``recipe``, with its checkpointer, store and toolbox open, for a block.

    Concurrent blocks on one event loop share one session: one set of MCP
    servers, one checkpointer and one store (LangGraph's savers serve many
    threads at once), opened by the first and closed after the last.

    Args:
        recipe: What the graph is built from; ``recipe.settings`` names the
            checkpoint store.
        build: Compiles the graph over a toolbox, health registry and audit
            log (without a checkpointer or store: the session attaches them).
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
        if entry.session is None:
            # Its own task and context: a run that is cancelled while the
            # session opens does not cancel it for the others waiting on it.
            entry.session = loop.create_task(_open(entry, build), context=contextvars.Context())
        session = await asyncio.shield(entry.session)
        yield session.for_run()
    finally:
        await _release(entry)


async def _open(entry: _Entry, build: Build) -> _Session:
    target = entry.recipe.settings.checkpoint_target
    stack = AsyncExitStack()
    try:
        await entry.toolbox.revive()  # servers kept from the last session, if they still answer
        key = entry.recipe.settings.checkpoint_key()
        saver = await stack.enter_async_context(open_checkpointer(target, key=key))
        store = await stack.enter_async_context(open_store(target))
        if entry.graph is None:
            entry.graph = build(entry.toolbox, entry.health, entry.audit)
        return _Session(entry.graph.copy(update={"checkpointer": saver, "store": store}), stack)
    except BaseException:
        await stack.aclose()
        raise


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
                open_audit(recipe.settings.data_dir, clock=recipe.clock),
            )
            _entries[key] = entry
        elif entry.users and entry.loop is not loop:
            return None
        closer = entry.closer
        if closer is not None and closer.get_loop() is loop:
            entry.closer = None  # this run takes the idle servers over
            closer.cancel()
        elif closer is not None and closer.get_loop().is_closed():
            entry.closer = None  # gone with their loop; the toolbox starts afresh
        elif closer is not None:
            _stop_idle(entry)  # idle on another live loop: stopped there, this run builds its own
            return None
        _entries.move_to_end(key)
        entry.users += 1
        entry.loop = loop
        idle = [k for k, e in _entries.items() if not e.users]
        while len(_entries) > SIZE and idle:
            evicted.append(_entries.pop(idle.pop(0)))
    for old in evicted:
        _stop_idle(old)
        old.close()
    return entry


async def _release(entry: _Entry) -> None:
    """Count a user out; the last one closes the session."""
    with _guard:
        entry.users -= 1
        session = entry.session if entry.users == 0 else None
        if session is not None:
            entry.session = None
            entry.loop = None
    if session is None:
        return
    await asyncio.wait([session])
    opened = not session.cancelled() and session.exception() is None
    try:
        if opened:
            await session.result().stack.aclose()
    finally:
        await _park(entry, keep=opened)


async def _park(entry: _Entry, *, keep: bool) -> None:
    """Keep the idle entry's MCP servers up for the next session, or stop them now.

    Nothing happens if a run took the entry over meanwhile. A session that
    failed to open stops them: whatever failed is tried afresh next time; so
    does an entry that left the cache meanwhile.
    """
    seconds = entry.recipe.settings.mcp_keepalive
    with _guard:
        if entry.users or entry.closer is not None:
            return
        cached = any(e is entry for e in _entries.values())
        serves = entry.recipe.connect and bool(entry.recipe.team.servers)  # else there is nothing to keep
        if keep and seconds > 0 and cached and serves:
            entry.closer = asyncio.get_running_loop().create_task(
                _linger(entry, seconds), name="switchboard-mcp-keepalive", context=contextvars.Context()
            )
            idle = [e for e in _entries.values() if e.closer is not None and e is not entry]  # oldest first
            for old in idle[: max(0, len(idle) + 1 - IDLE_TOOLBOXES)]:
                _stop_idle(old)
            return
    await entry.toolbox.aclose()


async def _linger(entry: _Entry, seconds: float) -> None:
    """Stop the entry's MCP servers after ``seconds``, or at once when cancelled, unless a run took them over.

    A run that takes them over clears ``entry.closer`` before cancelling
    this task; any other cancellation (``asyncio.run`` returning, the entry
    leaving the cache) finds itself still the closer and stops the servers.
    """
    try:
        await asyncio.sleep(seconds)
    finally:
        with _guard:
            mine = entry.closer is asyncio.current_task()
            if mine:
                entry.closer = None
        if mine:
            with contextlib.suppress(Exception):  # a server that died meanwhile may not close cleanly
                await entry.toolbox.aclose()


def _stop_idle(entry: _Entry) -> None:
    """Have the keepalive timer of an idle entry stop its servers now, on their own event loop."""
    closer = entry.closer
    if closer is None or closer.done():
        return
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: its servers are gone with it
        closer.get_loop().call_soon_threadsafe(closer.cancel)


@asynccontextmanager
async def _private_graph(recipe: Recipe, build: Build, health_path: Path) -> AsyncIterator[Graph]:
    """A graph for one block, opened and closed with it (the cache's fallback)."""
    toolbox = Toolbox.for_team(recipe.team, dict(recipe.env)) if recipe.connect else Toolbox({})
    health = HealthRegistry(health_path)
    audit = open_audit(recipe.settings.data_dir, clock=recipe.clock)
    target = recipe.settings.checkpoint_target
    key = recipe.settings.checkpoint_key()
    try:
        async with toolbox, open_checkpointer(target, key=key) as saver, open_store(target) as store:
            yield build(toolbox, health, audit).copy(update={"checkpointer": saver, "store": store})
    finally:
        health.close()
        audit.close()


async def stop_idle() -> None:
    """Stop, now and cleanly, the MCP servers kept idle on this event loop.

    ``asyncio.run`` cancels every task as it returns, the sessions' own
    readers and writers among them, so servers still idle then are ended
    without an orderly shutdown: cut off mid-exit or terminated. A program
    about to end, such as a CLI command, calls this (or :func:`run`) first.
    """
    loop = asyncio.get_running_loop()
    with _guard:
        closers = [e.closer for e in _entries.values() if e.closer is not None and e.closer.get_loop() is loop]
    for closer in closers:
        closer.cancel()  # still the entry's closer: it stops the servers (see _linger)
    if closers:
        await asyncio.wait(closers)


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, with the idle MCP servers stopped cleanly before the loop ends."""

    async def then_stop() -> T:
        try:
            return await main
        finally:
            await stop_idle()

    return asyncio.run(then_stop())


def clear() -> None:
    """Forget every cached graph that no run is using, closing what it holds.

    Idle MCP servers are stopped by their keepalive timer on their own event
    loop, as soon as it runs.
    """
    with _guard:
        idle = [key for key, entry in _entries.items() if not entry.users]
        gone = [_entries.pop(key) for key in idle]
    for entry in gone:
        _stop_idle(entry)
        entry.close()
