"""Idempotency keys for mutating MCP tool calls: the client half of exactly-once.

A step that crashed after its write landed but before its progress was saved
runs again on resume, and so calls the same tool again. If that call carries
the same key as the first, a server that honours the contract (README,
"Exactly-once effects: what a domain server must do") returns the first
result instead of acting twice.

The key travels in the MCP request's ``_meta`` under :data:`IDEMPOTENCY_META_KEY`,
never in the tool's arguments: arguments are what the model reads and writes,
and a key the model could see it could also forget, invent or reuse.

langchain-mcp-adapters (0.3) has no parameter for a call's ``_meta``, so
:func:`idempotency_interceptor` is a tool-call interceptor that makes the
call itself on the session, with the key of the current
:func:`keyed_call` block. Without a key it leaves the call alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Container, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from mcp import ClientSession
from mcp.types import CallToolResult

from switchboard.checkpoints.crashpoints import crash_point

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from langchain_mcp_adapters.interceptors import MCPToolCallRequest, MCPToolCallResult, ToolCallInterceptor

IDEMPOTENCY_META_KEY = "switchboard/idempotency-key"
"""Where a tool call's idempotency key sits in the MCP request's ``_meta``."""

REPLAY_META_KEY = "switchboard/idempotency"
"""Where a server says, in a result's ``_meta``, whether it replayed a recorded call."""

STEP_METADATA_KEY = "switchboard_step"
"""Run-config metadata naming the step (the supervisor's assignment id) a
call is made for. It stays the same when a failed step is reassigned to
another agent, so the new agent's repeat of a write carries the same key."""

REPLAY_ONLY_META_KEY = "switchboard/replay-only"
"""Set (true) in a request's ``_meta`` beside the key: answer from the record
of that key if there is one, and otherwise do nothing and say so."""

_current_key: ContextVar[str | None] = ContextVar("switchboard_idempotency_key", default=None)


def call_identity(tool: str, args: Mapping[str, Any]) -> str:
    """What a call does, independent of who asked: the tool and its arguments, canonically.

    Model-made tool-call ids differ between two agents (and two samplings of
    one model), so a reassigned step's repeat of the same write would get a
    new key; the call's content does not change. Two identical writes in one
    step are thereby one effect, which is what exactly-once means for them.
    """
    return json.dumps([tool, dict(args)], sort_keys=True, separators=(",", ":"), default=str)


def idempotency_key(thread_id: str, step_id: str, call_id: str | int) -> str:
    """The key of one tool call: the same call of the same step of the same thread.

    Pure and deterministic, so a re-run step derives the same key as the run
    that crashed, and two different calls never share one.

    Args:
        thread_id: The LangGraph thread the run belongs to.
        step_id: The step within the thread (a plan step id, or the node and
            checkpoint step that issued the call).
        call_id: The call within the step: the model's ``tool_call_id``, or
            the call's index in the step when calls have no stable id.
    """
    parts = json.dumps([thread_id, step_id, str(call_id)], separators=(",", ":"))
    return "sb1-" + hashlib.sha256(parts.encode()).hexdigest()[:40]


@contextmanager
def keyed_call(key: str) -> Iterator[None]:
    """Send ``key`` with every MCP tool call made inside the block (this task only)."""
    token = _current_key.set(key)
    try:
        yield
    finally:
        _current_key.reset(token)


async def call_tool_with_key(
    session: ClientSession, name: str, arguments: Mapping[str, Any], key: str, *, replay_only: bool = False
) -> CallToolResult:
    """Call an MCP tool with an idempotency key in the request's ``_meta``."""
    meta: dict[str, Any] = {IDEMPOTENCY_META_KEY: key}
    if replay_only:
        meta[REPLAY_ONLY_META_KEY] = True
    return await session.call_tool(name, dict(arguments), meta=meta)


def idempotency_interceptor(session: ClientSession, read_only: Container[str] = frozenset()) -> ToolCallInterceptor:
    """An interceptor for ``load_mcp_tools(session, tool_interceptors=[...])``.

    Inside a :func:`keyed_call` block it calls the tool on ``session`` with the
    key in ``_meta``; outside one it hands the call on unchanged.

    Args:
        session: The MCP session the tools were loaded from.
        read_only: Tools the server declares read-only (``readOnlyHint``);
            the crash matrix's ``effect-*`` windows (see
            :mod:`switchboard.checkpoints.crashpoints`) surround every other
            keyed call. A container, so the toolbox may fill it once loaded.
    """

    async def intercept(
        request: MCPToolCallRequest, handler: Callable[[MCPToolCallRequest], Awaitable[MCPToolCallResult]]
    ) -> MCPToolCallResult:
        key = _current_key.get()
        if key is None:
            return await handler(request)
        effect = request.name not in read_only
        if effect:
            crash_point("effect-before")
        result = await call_tool_with_key(session, request.name, request.args, key)
        if effect:
            crash_point("effect-after")
        return result

    return intercept


def was_replayed(result: CallToolResult) -> bool:
    """Whether the server answered from its record of an earlier call with the same key."""
    meta = result.meta or {}
    info = meta.get(REPLAY_META_KEY)
    return isinstance(info, Mapping) and bool(info.get("replayed"))
