"""MCP tools for the agents, with sessions that live as long as the toolbox.

langchain-mcp-adapters opens a fresh session (for stdio: a fresh server
process) on every tool call unless it is given a session. A return takes a
dozen calls, so the toolbox opens one session per server and binds every tool
to it. The servers live as long as the toolbox is open: the runs of a process
on one event loop, until they have been idle for ``Settings.mcp_keepalive``
seconds (see :mod:`switchboard.graph_cache`), or the whole process for a
graph served by ``langgraph dev``.

Each session belongs to a background task of the toolbox (one per server),
not to whoever opened it: anyio requires a stdio client to be entered and
exited in the same task, and a server opens the toolbox in its first request
and closes it at shutdown, in another task.

A server that fails during a run is started again during that run, not only
between runs (:meth:`Toolbox.revive`). The tools are bound to their server,
not to one session of it (:class:`_Session` stands in for the session), so a
call always goes to the server's current session:

- a call that finds the server's transport gone (its process exited, its
  connection dropped: :func:`transport_failed`) raises
  :class:`ToolServerFailure` and sets off a restart of that server;
- a call that got no answer in time (:meth:`Toolbox.no_answer`) sets off a
  ping of its server, and a restart if the ping gets no answer either (a
  server that answers pings is busy, not hung, and its other calls go on).

One such recovery per server is under way at a time, and every call to that
server waits for it (:meth:`Toolbox.ready`), so the next call (the agent's
next try, or the step reassigned to another agent) reaches a live server.
The call that failed is never sent again from here: a write may have taken
effect, and what happens to it is the guard's decision (``agents/guard.py``).
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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TypeVar, cast

import anyio
import httpx
from langchain_core.tools import BaseTool
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.tools import load_mcp_tools
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import McpError
from mcp.types import CONNECTION_CLOSED, CallToolResult, EmptyResult, ListToolsResult

from switchboard.agents.card import AgentCard, Team
from switchboard.agents.idempotency import call_tool_with_key, idempotency_interceptor, was_replayed
from switchboard.errors import ConfigError

log = logging.getLogger(__name__)

PING_TIMEOUT_S = 5.0
"""How long a server has to answer a ping before it counts as gone (between runs) or hung (after a timeout)."""

RESTART_WAIT_S = 30.0
"""How long a call waits for its server to be started again before it fails (the start itself goes on)."""

SESSION_GONE = frozenset({CONNECTION_CLOSED, 32600})
"""MCP error codes that say the session itself is gone, not that a request was refused: the MCP
client's "Connection closed" (the server's process exited, or its stream ended) and its streamable
HTTP transport's "Session terminated" (the server no longer knows the session: it was restarted)."""

_T = TypeVar("_T")


class ToolServerFailure(Exception):
    """A tool's MCP server failed under a call: its transport went away, or it could not be started again.

    The server is at fault, not the agent that called it: the guard records
    such a call as a tool server failure (``agents/guard.py``), which does
    not count against the agent's health.
    """

    def __init__(self, server: str, message: str) -> None:
        super().__init__(message)
        self.server = server


def transport_failed(exc: BaseException) -> bool:
    """Whether ``exc`` says an MCP session's transport is gone (rather than that a request failed on a live one).

    That is what the MCP client, anyio and httpx raise for a stdio server
    whose process exited (``McpError: Connection closed`` for the request in
    flight, anyio's ``ClosedResourceError`` for the next), a pipe or socket
    that broke, and an HTTP server that no longer answers or no longer knows
    the session; within an exception group (anyio's task groups), any of them.
    """
    if isinstance(exc, ToolServerFailure):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(transport_failed(inner) for inner in exc.exceptions)
    if isinstance(exc, McpError):
        return exc.error.code in SESSION_GONE
    return isinstance(
        exc, anyio.ClosedResourceError | anyio.BrokenResourceError | anyio.EndOfStream | ConnectionError
        | httpx.TransportError,
    )  # fmt: skip


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


class _Server:
    """One MCP server of an open toolbox: the task holding its session, and the one recovery of it under way."""

    def __init__(self, name: str, conn: Mapping[str, Any]) -> None:
        self.name = name
        self.conn = conn
        self.session: ClientSession | None = None
        self.owner: asyncio.Task[None] | None = None
        """The task that entered the session's transport, and will exit it."""
        self.stop: asyncio.Event | None = None
        self.recovery: asyncio.Task[bool] | None = None
        """The check or restart under way, which every call waits for; its result: whether it restarted the server."""
        self.closed = False
        self.restarts = 0
        """How often the server was started again since the toolbox opened it."""
        self.stands_in = cast(ClientSession, _Session(self))
        """What its tools are bound to in place of a session."""
        self.again = "reconnected" if conn.get("url") else "restarted"
        """What starting it again is, for messages: an HTTP server is not ours to start, only to reconnect to."""

    async def start(self) -> None:
        """Start the server and open its session, in a task of its own (see the module doc)."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[ClientSession] = loop.create_future()
        self.stop = stop = asyncio.Event()
        # A fresh context: the session belongs to no run, whichever run (re)started it.
        self.owner = loop.create_task(
            _hold(self.name, self.conn, ready, stop), name=f"switchboard-mcp:{self.name}", context=contextvars.Context()
        )
        self.session = await asyncio.shield(ready)

    async def halt(self, *, closing: bool) -> None:
        """Close the session and stop the server; a server still starting is stopped once it has started."""
        owner, stop = self.owner, self.stop
        self.session = None  # no call goes to it any more
        if owner is None or stop is None:
            return
        stop.set()
        await asyncio.wait([owner])  # the owner task closes what it opened
        if self.owner is owner:
            self.owner = self.stop = None
        error = None if owner.cancelled() else owner.exception()
        if error is not None:  # a server that died: its transport's error, left behind in its task
            when = "before the toolbox closed" if closing else f"before it was {self.again}"
            (log.warning if closing else log.info)("MCP server %r had failed %s: %s", self.name, when, _describe(error))

    async def close(self) -> None:
        """Stop the server for good (the toolbox is closing): nothing starts it again."""
        self.closed = True
        recovery = self.recovery
        if recovery is not None:
            recovery.cancel()
            await asyncio.wait([recovery])
        await self.halt(closing=True)

    def recover(self, session: ClientSession | None, why: str, *, check: bool = False) -> asyncio.Task[bool] | None:
        """Check (``check``: ping first) or restart the server whose ``session`` failed; the recovery under way.

        No second recovery is started while one is under way (callers that
        saw the same failure share it), nor when ``session`` is no longer the
        server's (it was restarted since: ``None`` is returned), nor once the
        toolbox is closed.
        """
        if self.closed:
            return None
        if self.recovery is not None or session is not self.session:
            return self.recovery
        task = asyncio.get_running_loop().create_task(
            self._recover(session, why, check), name=f"switchboard-mcp-restart:{self.name}",
            context=contextvars.Context(),
        )  # fmt: skip
        self.recovery = task
        task.add_done_callback(self._recovered)
        return task

    async def _recover(self, session: ClientSession | None, why: str, check: bool) -> bool:
        if check and session is not None:
            try:
                await asyncio.wait_for(session.send_ping(), PING_TIMEOUT_S)
            except Exception:  # no answer to a ping either: hung, or gone
                why = f"{why}, nor a ping within {PING_TIMEOUT_S:g}s"
            else:
                log.info("MCP server %r %s, but answers a ping: kept", self.name, why)
                return False
        log.warning("MCP server %r %s; it is %s", self.name, why, self.again)
        await self.halt(closing=False)
        await self.start()
        self.restarts += 1
        return True

    def _recovered(self, task: asyncio.Task[bool]) -> None:
        if self.recovery is task:
            self.recovery = None
        error = None if task.cancelled() else task.exception()
        if error is not None:
            log.warning("MCP server %r could not be %s: %s", self.name, self.again, _describe(error))

    async def live(self) -> ClientSession:
        """The server's session, once any recovery under way is over; one whose transport ended is restarted first.

        Raises:
            ToolServerFailure: The toolbox was closed, or the server could
                not be restarted (within :data:`RESTART_WAIT_S`).
        """
        if self.closed:
            raise ToolServerFailure(self.name, f"MCP server {self.name!r} was closed with its toolbox")
        if self.session is None or self.owner is None or self.owner.done():
            # Its transport ended between calls (an HTTP server gone), or its last restart failed.
            self.recover(self.session, "is not running")
        recovery = self.recovery
        if recovery is not None:
            done, _ = await asyncio.wait([recovery], timeout=RESTART_WAIT_S)
            if not done:
                raise ToolServerFailure(
                    self.name, f"MCP server {self.name!r} is still being {self.again} after {RESTART_WAIT_S:g}s"
                )
            error = None if recovery.cancelled() else recovery.exception()
            if error is not None:
                raise ToolServerFailure(
                    self.name, f"MCP server {self.name!r} could not be {self.again}: {_describe(error)}"
                ) from error
        if self.session is None or self.closed:
            raise ToolServerFailure(self.name, f"MCP server {self.name!r} is not running")
        return self.session

    async def call(self, request: Callable[[ClientSession], Awaitable[_T]]) -> _T:
        """Send ``request`` on the live session; a transport that fails under it raises :class:`ToolServerFailure`.

        The request runs beside the task holding the transport: when that
        task ends first (an HTTP transport failed), no answer will ever come,
        so the call fails at once instead of waiting for its timeout.
        """
        session = await self.live()
        owner = self.owner
        assert owner is not None  # live() returned a running server's session
        sent = asyncio.ensure_future(request(session))
        sent.add_done_callback(_retrieved)
        try:
            await asyncio.wait([sent, owner], return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled (the call's timeout, or its run): so is the request
            sent.cancel()
            raise
        if not sent.done():
            sent.cancel()
            error = None if owner.cancelled() else owner.exception()
            raise self.failed(
                session, f"its transport failed: {_describe(error)}" if error else "its session was closed"
            )
        try:
            return sent.result()
        except Exception as exc:
            if transport_failed(exc):
                raise self.failed(session, _describe(exc)) from exc
            raise

    def failed(self, session: ClientSession, cause: str) -> ToolServerFailure:
        """The error for a call whose transport failed; the server is started again for the next call."""
        self.recover(session, f"failed under a call ({cause})")
        return ToolServerFailure(
            self.name, f"tool server {self.name!r} failed mid-call ({cause}); it is {self.again} for the next call"
        )


class _Session:
    """What a server's tools hold in place of its ``ClientSession``: each request goes to its live session."""

    def __init__(self, server: _Server) -> None:
        self._server = server

    async def list_tools(self, *args: Any, **kwargs: Any) -> ListToolsResult:
        return await self._server.call(lambda session: session.list_tools(*args, **kwargs))

    async def call_tool(self, *args: Any, **kwargs: Any) -> CallToolResult:
        return await self._server.call(lambda session: session.call_tool(*args, **kwargs))

    async def send_ping(self) -> EmptyResult:
        return await self._server.call(lambda session: session.send_ping())


async def _hold(name: str, conn: Mapping[str, Any], ready: asyncio.Future[ClientSession], stop: asyncio.Event) -> None:
    """Open the server's session, hand it over, and hold it until told to stop."""
    client = MultiServerMCPClient({name: conn})  # type: ignore[dict-item]
    opened = _stdio_session(conn) if _needs_errlog(conn) else client.session(name)
    try:
        async with opened as session:
            ready.set_result(session)
            await stop.wait()
    except BaseException as exc:
        if ready.done():
            raise  # the transport failed while open: the task ends with its error
        if isinstance(exc, asyncio.CancelledError):
            ready.cancel()
        else:
            ready.set_exception(exc)  # the caller of start() gets the error


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Mark the outcome of a request nobody waits for any more as seen (asyncio logs it otherwise)."""
    if not task.cancelled():
        task.exception()


class Toolbox:
    """The tools of a team, by name, over live MCP sessions.

    Open it with :meth:`open` and close it with :meth:`aclose`, or use it as
    an async context manager; MCP tools are available while it is open only.
    """

    def __init__(self, connections: Mapping[str, Mapping[str, Any]]) -> None:
        self._connections = {name: dict(conn) for name, conn in connections.items()}
        self._tools: dict[str, BaseTool] = {}
        self._read_only: set[str] = set()
        self._servers: dict[str, _Server] = {}
        """The servers of the current opening, by name."""
        self._serving: dict[str, _Server] = {}
        """The server of each MCP tool, by tool name."""
        self._opening: asyncio.Task[None] | None = None
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
            ConfigError: A server did not start, or two servers serve a tool of the same name.
        """
        if not self._connections:
            return self
        loop = asyncio.get_running_loop()
        if self._opening is not None and self._opening.get_loop().is_closed():
            # Left open by an event loop that is gone, with its sessions: their servers saw their stdin close.
            self._opening, self._servers, self._serving, self._tools = None, {}, {}, {}
        if self._opening is None:
            self._files = _files(_strings(self._connections))
            self._servers = {name: _Server(name, conn) for name, conn in self._connections.items()}
            # A fresh context: the servers belong to no run, whichever run opened them.
            self._opening = loop.create_task(
                self._start(self._servers), name="switchboard-toolbox", context=contextvars.Context()
            )
        opening, servers = self._opening, self._servers
        try:
            await asyncio.shield(opening)
        except BaseException:
            if opening.done() and self._opening is opening:  # failed: the next open() starts afresh
                self._opening = None
                if self._servers is servers:
                    self._servers = {}
            raise
        return self

    async def _start(self, servers: Mapping[str, _Server]) -> None:
        """Start every server and load its tools; on failure, stop the ones started."""
        tools: dict[str, BaseTool] = {}
        serving: dict[str, _Server] = {}
        try:
            for name, server in servers.items():
                try:
                    await server.start()
                    # Keyed calls (see agents/idempotency.py) go out with their key in `_meta`.
                    keyed = [idempotency_interceptor(server.stands_in, self._read_only)]
                    loaded = await load_mcp_tools(server.stands_in, server_name=name, tool_interceptors=keyed)
                except Exception as exc:
                    raise ConfigError(
                        f"MCP server {name!r} ({_where(server.conn)}) did not start or answer: {_describe(exc)}; "
                        "run its command (or open its URL) by hand to see why, or fix the team file's `servers` entry"
                    ) from exc
                self._read_only.update(tool.name for tool in loaded if (tool.metadata or {}).get("readOnlyHint"))
                for tool in loaded:
                    if tool.name in tools:
                        raise ConfigError(
                            f"tool {tool.name!r} is served by two MCP servers; "
                            "rename one or drop a server from the team file"
                        )
                    tools[tool.name] = tool
                    serving[tool.name] = server
        except BaseException:
            for server in servers.values():
                await server.close()
            raise
        if self._servers is servers:  # not closed (or opened afresh) meanwhile
            self._tools, self._serving = tools, serving

    async def aclose(self) -> None:
        """Stop the MCP servers; open() may start them again later.

        A server that died while open (killed, or an HTTP server gone) left
        its transport's error behind in the task that held its session. It
        is logged, not raised: the run that used the server has had its
        calls fail already, and closing is no place to fail it again.
        """
        opening, servers = self._opening, self._servers
        self._opening = None
        if opening is None:
            return
        await asyncio.wait([opening])  # a start under way ends first: its servers are then stopped, not left behind
        for server in servers.values():
            await server.close()
        if self._servers is servers:  # not the servers of an opening that came meanwhile
            self._servers, self._serving, self._tools = {}, {}, {}

    async def revive(self, timeout: float = PING_TIMEOUT_S) -> None:
        """Make sure every server still answers, restarting them all if one does not.

        A toolbox kept open between runs (see :mod:`switchboard.graph_cache`)
        may have lost a server meanwhile: killed, or crashed by a tool. One
        MCP ping per server tells, before a run relies on it; a closed
        toolbox is simply opened. The servers are restarted too when a file
        they were started with has been replaced (``switchboard retail
        demo-db`` writes a new database over the old one): they hold the old
        one open and would go on reading it. (During a run, a server that
        fails is started again by itself: see the module doc.)
        """
        opening = self._opening
        if opening is not None and opening.get_loop() is asyncio.get_running_loop() and opening.done():
            started = not opening.cancelled() and opening.exception() is None  # (a failed start is tried afresh)
            if started and _files(self._files) == self._files:  # none replaced (or removed) since they started
                try:
                    for server in self._servers.values():
                        session = await server.live()  # one that died for good is restarted here
                        await asyncio.wait_for(session.send_ping(), timeout)
                    return
                except Exception:  # any failure to answer means the same: start afresh
                    pass
            with contextlib.suppress(Exception):  # a dead server's session may fail to close cleanly
                await self.aclose()
        await self.open()

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

    async def ready(self, name: str) -> None:
        """Wait until the server of tool ``name`` can take a call.

        A recovery of it under way (a ping or a restart after a failed call)
        is waited for, and a server whose transport ended is started again.
        Call it before a call's own timeout starts: a restart is no part of
        the tool's time to answer. An in-process tool is always ready.

        Raises:
            ToolServerFailure: The server could not be started again (in
                :data:`RESTART_WAIT_S`); nothing was sent to it.
        """
        server = self._serving.get(name)
        if server is not None:
            await server.live()

    async def no_answer(self, name: str, timeout: float) -> bool:
        """Say that a call of tool ``name`` got no answer within ``timeout`` seconds; whether its server was hung.

        A hung server stays hung, so its next call would hang too: the
        server is pinged, and started again if it does not answer the ping
        either, before it takes another call. This waits for that (as the
        next call would; at most :data:`RESTART_WAIT_S`). A server that
        answers the ping is only slow, and is kept (its other calls in
        flight go on).

        Returns:
            Whether the server was hung (it answered no ping, or had been
            restarted meanwhile): then it, not the caller, is at fault.
            ``False`` for a server that answers, and for an in-process tool.
        """
        server = self._serving.get(name)
        if server is None:
            return False
        why = f"did not answer a call of {name} within {timeout:g}s"
        recovery = server.recover(server.session, why, check=True)
        if recovery is None:  # restarted since the call was sent (closed with the toolbox: no verdict)
            return not server.closed
        done, _ = await asyncio.wait([recovery], timeout=RESTART_WAIT_S)
        if not done:
            return True  # answered no ping, and is not back yet
        if recovery.cancelled():
            return False
        return recovery.exception() is not None or recovery.result()

    def restarts(self, server: str) -> int:
        """How often the server called ``server`` was started again since the toolbox was opened."""
        found = self._servers.get(server)
        return found.restarts if found else 0

    async def already_done(self, name: str, args: Mapping[str, Any], key: str) -> bool:
        """Whether the server already ran this keyed call (its record answers; nothing runs).

        Asked on the tool's MCP session directly, not through the LangChain
        tool: the lookup is no tool call, and must not show in traces or
        telemetry as one. Read-only tools are never asked; a server that does
        not keep the contract answers with an error (or without the replay
        flag), which reads as "not done", so the call is decided as usual. So
        does a server that failed under the lookup: the call, if allowed
        again, is sent with the same key, and a server that keeps the
        contract replays it then.
        """
        server = self._serving.get(name)
        if server is None or name in self._read_only:
            return False
        try:
            answer = await call_tool_with_key(server.stands_in, name, args, key, replay_only=True)
        except (McpError, ToolServerFailure):  # a server that rejects the request outright: not known to be done
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
