"""MCP tools for the agents, with sessions that live as long as the toolbox.

langchain-mcp-adapters opens a fresh session (for stdio: a fresh server
process) on every tool call unless it is given a session. A return takes a
dozen calls, so the toolbox opens one session per server and binds every tool
to it. The servers live as long as the toolbox is open: the runs of a process
on one event loop, until they have been idle for ``Settings.mcp_keepalive``
seconds (see :mod:`switchboard.graph_cache`), or the whole process for a
graph served by ``langgraph dev``.

The sessions belong to one background task of the toolbox, not to whoever
opened it: anyio requires a stdio client to be entered and exited in the same
task, and a server opens the toolbox in its first request and closes it at
shutdown, in another task.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import io
import logging
import os
import stat
import sys
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Any

from langchain_core.tools import BaseTool
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.tools import load_mcp_tools
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import McpError

from switchboard.agents.card import AgentCard, Team
from switchboard.agents.idempotency import call_tool_with_key, idempotency_interceptor, was_replayed
from switchboard.errors import ConfigError

log = logging.getLogger(__name__)

PING_TIMEOUT_S = 5.0
"""How long a server kept open between runs has to answer a ping before it counts as gone."""


def _needs_errlog(conn: Mapping[str, Any]) -> bool:
    """Whether a stdio server must be given a real stderr explicitly.

    The MCP SDK hands the server ``sys.stderr``, which Jupyter replaces with a
    stream that has no file descriptor, so servers fail to start in notebooks.
    """
    if conn.get("transport") != "stdio":
        return False
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return True
    return False


@asynccontextmanager
async def _stdio_session(conn: Mapping[str, Any]) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=conn["command"], args=list(conn.get("args") or []), env=conn.get("env"), cwd=conn.get("cwd")
    )
    errlog = sys.__stderr__ or open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def _strings(value: Any) -> list[str]:
    """Every string in a connection (its command, arguments, environment), nested lists and mappings included."""
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, Mapping) else value if isinstance(value, list | tuple) else ()
    return [text for item in items for text in _strings(item)]


def _files(paths: Iterable[str]) -> dict[str, tuple[int, int]]:
    """The regular files among ``paths``, each with its device and inode."""
    found: dict[str, tuple[int, int]] = {}
    for path in paths:
        try:
            info = os.stat(path)
        except (OSError, ValueError):  # not a path, or nothing there (any more)
            continue
        if stat.S_ISREG(info.st_mode):
            found[path] = (info.st_dev, info.st_ino)
    return found


class Toolbox:
    """The tools of a team, by name, over live MCP sessions.

    Open it with :meth:`open` and close it with :meth:`aclose`, or use it as
    an async context manager; MCP tools are available while it is open only.
    """

    def __init__(self, connections: Mapping[str, Mapping[str, Any]]) -> None:
        self._connections = {name: dict(conn) for name, conn in connections.items()}
        self._tools: dict[str, BaseTool] = {}
        self._read_only: set[str] = set()
        self._sessions: dict[str, ClientSession] = {}
        self._owner: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._stop: asyncio.Event | None = None
        self._files: dict[str, tuple[int, int]] = {}
        """The files the servers were started with, by path: their device and inode then."""

    @classmethod
    def for_team(cls, team: Team, env: dict[str, str] | None = None) -> Toolbox:
        """A toolbox over the MCP servers the team file declares."""
        return cls(team.connections(env))

    @classmethod
    def of(cls, tools: Iterable[BaseTool]) -> Toolbox:
        """A toolbox over tools already in hand (in-process tools, or tools a
        caller loaded from sessions it manages itself).

        A tool whose ``metadata`` has ``readOnlyHint`` (as MCP tools loaded
        by langchain-mcp-adapters do) is a read, as for the team's servers.
        """
        box = cls({})
        box._tools = {tool.name: tool for tool in tools}
        box._read_only.update(name for name, tool in box._tools.items() if (tool.metadata or {}).get("readOnlyHint"))
        return box

    async def open(self) -> Toolbox:
        """Start the MCP servers and load their tools; a no-op when already open.

        Callers that arrive while the servers start wait for the same start,
        so a server process is never started twice. A start that failed is
        tried again by the next call.

        Raises:
            ConfigError: Two servers serve a tool of the same name.
        """
        if not self._connections:
            return self
        loop = asyncio.get_running_loop()
        if self._owner is not None and self._owner.get_loop().is_closed():
            # Left open by an event loop that is gone, with its sessions: their servers saw their stdin close.
            self._owner = self._ready = self._stop = None
            self._tools, self._sessions = {}, {}
        if self._owner is None or self._ready is None:
            self._files = _files(_strings(self._connections))
            self._ready, self._stop = loop.create_future(), asyncio.Event()
            # A fresh context: the sessions belong to no run, whichever run opened them.
            self._owner = loop.create_task(
                self._own(self._ready, self._stop), name="switchboard-toolbox", context=contextvars.Context()
            )
        owner, ready = self._owner, self._ready
        try:
            await asyncio.shield(ready)
        except BaseException:
            if ready.done() and self._owner is owner:
                self._owner = self._ready = self._stop = None  # failed: the next open() starts afresh
            raise
        return self

    async def aclose(self) -> None:
        """Stop the MCP servers; open() may start them again later.

        A server that died while open (killed, or an HTTP server gone) left
        its transport's error behind in the task that held the sessions. It
        is logged, not raised: the run that used the server has had its
        calls fail already, and closing is no place to fail it again.
        """
        owner, stop = self._owner, self._stop
        self._owner = self._ready = self._stop = None
        if owner is None or stop is None:
            return
        tools = self._tools
        stop.set()
        await asyncio.wait([owner])  # the owner task closes the sessions it opened
        if self._tools is tools:  # not the tools of an opening that came meanwhile
            self._tools, self._sessions = {}, {}
        error = None if owner.cancelled() else owner.exception()
        if error is not None:
            log.warning("an MCP server had failed before the toolbox closed: %s", _describe(error))

    async def revive(self, timeout: float = PING_TIMEOUT_S) -> None:
        """Make sure every server still answers, restarting them all if one does not.

        A toolbox kept open between runs (see :mod:`switchboard.graph_cache`)
        may have lost a server meanwhile: killed, or crashed by a tool. One
        MCP ping per server tells, before a run relies on it; a closed
        toolbox is simply opened. The servers are restarted too when a file
        they were started with has been replaced (``switchboard retail
        demo-db`` writes a new database over the old one): they hold the old
        one open and would go on reading it.
        """
        owner = self._owner
        if owner is not None and not owner.done():
            if _files(self._files) == self._files:  # none replaced (or removed) since they started
                try:
                    for session in {id(s): s for s in self._sessions.values()}.values():
                        await asyncio.wait_for(session.send_ping(), timeout)
                    return
                except Exception:  # any failure to answer means the same: start afresh
                    pass
            with contextlib.suppress(Exception):  # a dead server's session may fail to close cleanly
                await self.aclose()
        await self.open()

    async def _own(self, ready: asyncio.Future[None], stop: asyncio.Event) -> None:
        """Open every session, hand the tools over, and hold them until told to stop."""
        try:
            async with AsyncExitStack() as stack:
                self._tools = await self._load(stack)
                ready.set_result(None)
                await stop.wait()
        except BaseException as exc:
            if ready.done():
                raise
            if isinstance(exc, asyncio.CancelledError):
                ready.cancel()
            else:
                ready.set_exception(exc)  # the caller of open() gets the error

    async def _load(self, stack: AsyncExitStack) -> dict[str, BaseTool]:
        tools: dict[str, BaseTool] = {}
        client = MultiServerMCPClient(self._connections)  # type: ignore[arg-type]
        for name, conn in self._connections.items():
            opened = _stdio_session(conn) if _needs_errlog(conn) else client.session(name)
            try:
                session = await stack.enter_async_context(opened)
                # Keyed calls (see agents/idempotency.py) go out with their key in `_meta`.
                keyed = [idempotency_interceptor(session, self._read_only)]
                loaded = await load_mcp_tools(session, server_name=name, tool_interceptors=keyed)
            except Exception as exc:
                raise ConfigError(
                    f"MCP server {name!r} ({_where(conn)}) did not start or answer: {_describe(exc)}; "
                    "run its command (or open its URL) by hand to see why, or fix the team file's `servers` entry"
                ) from exc
            self._read_only.update(tool.name for tool in loaded if (tool.metadata or {}).get("readOnlyHint"))
            self._sessions.update((tool.name, session) for tool in loaded)
            for tool in loaded:
                if tool.name in tools:
                    raise ConfigError(
                        f"tool {tool.name!r} is served by two MCP servers; "
                        "rename one or drop a server from the team file"
                    )
                tools[tool.name] = tool
        return tools

    async def __aenter__(self) -> Toolbox:
        try:
            return await self.open()
        except BaseException:
            await self.aclose()  # a cancelled start must not leave servers behind
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def names(self) -> frozenset[str]:
        """Names of every tool available now."""
        return frozenset(self._tools)

    def get(self, name: str) -> BaseTool | None:
        """The tool called ``name``, if there is one."""
        return self._tools.get(name)

    def read_only(self, name: str) -> bool:
        """Whether the server declares ``name`` read-only (``readOnlyHint``): calling it changes nothing."""
        return name in self._read_only

    async def already_done(self, name: str, args: Mapping[str, Any], key: str) -> bool:
        """Whether the server already ran this keyed call (its record answers; nothing runs).

        Asked on the tool's MCP session directly, not through the LangChain
        tool: the lookup is no tool call, and must not show in traces or
        telemetry as one. Read-only tools are never asked; a server that does
        not keep the contract answers with an error (or without the replay
        flag), which reads as "not done", so the call is decided as usual.
        """
        session = self._sessions.get(name)
        if session is None or name in self._read_only:
            return False
        try:
            answer = await call_tool_with_key(session, name, args, key, replay_only=True)
        except McpError:  # a server that rejects the request outright: not known to be done
            return False
        return not answer.isError and was_replayed(answer)

    def tools_for(self, card: AgentCard) -> list[BaseTool]:
        """The tools on the card's allow-list, in card order."""
        return [self._tools[name] for name in card.tools if name in self._tools]

    def check(self, team: Team, extra: Iterable[str] = ()) -> None:
        """Fail early if a card (or a policy) names a tool nobody serves.

        Raises:
            ConfigError: naming the agent, the tool, and the tools on offer.
        """
        for card in team.agents:
            missing = [name for name in card.tools if name not in self._tools]
            if missing:
                raise ConfigError(
                    f"agent {card.name!r} lists tools no MCP server provides: "
                    f"{', '.join(missing)}. Fix the card or the server; available: "
                    f"{', '.join(sorted(self._tools))}"
                )
        unknown = sorted(set(extra) - set(self._tools))
        if unknown:
            raise ConfigError(f"the policy file names tools no MCP server provides: {', '.join(unknown)}")


def _where(conn: Mapping[str, Any]) -> str:
    """How a server is reached, for a message: its URL, or its command line."""
    if conn.get("url"):
        return str(conn["url"])
    return " ".join([str(conn.get("command") or "?"), *map(str, conn.get("args") or [])])[:200]


def _describe(exc: BaseException) -> str:
    """The innermost errors of an exception group (what anyio's task groups raise), else the error itself."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"
