"""A brought agent that may have acted before it failed goes to a human; one that provably did nothing is retried.

The remote agent is a real HTTP endpoint on 127.0.0.1 (an asyncio server
the test starts), called with httpx, so its client's timeouts and dropped
connections are httpx's own; it notes every request it receives. Other
failures are raised by in-process fakes of the agent. The backup agent is a
fake that notes each step it is given: a step that reaches it after the
remote may have acted is the work done twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langgraph.checkpoint.base import BaseCheckpointSaver

from switchboard.agents import Agent, AgentCard, Skill
from switchboard.agents.health import HealthRegistry
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.testing import ScriptedChatModel, finish, route

CONFIG: Any = {"configurable": {"thread_id": "t"}}


@dataclass
class RemoteAgent:
    """An A2A-like endpoint: ``{"mode", "text"}`` in, ``{"text"}`` out; ``mode`` picks how it misbehaves."""

    url: str
    received: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    """Requests it carried out to the end, whether or not anyone was still listening."""


@pytest.fixture
async def remote() -> AsyncIterator[RemoteAgent]:
    handlers: set[asyncio.Task[Any]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
        body = json.loads(await reader.readexactly(int(length.group(1)) if length else 0))
        agent.received.append(body["mode"])
        if body["mode"] == "drop":  # gone mid-request: the work may or may not have been done
            writer.close()
            return
        status = "500 Internal Server Error" if body["mode"] == "fail" else "200 OK"
        if body["mode"] == "slow":
            await asyncio.sleep(1.0)
        agent.finished.append(body["mode"])
        payload = json.dumps({"text": "Forecast: sunny in Paris."}).encode()
        writer.write(
            f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n"
            "connection: close\r\n\r\n".encode()
            + payload
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    agent = RemoteAgent(f"http://127.0.0.1:{port}/rpc")
    yield agent
    await asyncio.wait_for(asyncio.gather(*handlers, return_exceptions=True), 5)
    server.close()
    await server.wait_closed()


@pytest.fixture
async def saver(tmp_path: Path) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    async with open_checkpointer(tmp_path / "cp.sqlite") as checkpointer:
        yield checkpointer


def _card(name: str, **fields: Any) -> AgentCard:
    skill = Skill(id="forecast", description="Weather forecasts.")
    return AgentCard(name=name, description="Forecasts the weather.", skills=(skill,), **fields)


def _over_http(url: str, mode: str, client_timeout: float = 0.2) -> Runnable[Any, Any]:
    """The remote agent as a brought agent: one POST with the client's own timeout."""

    async def ask(state: dict[str, Any]) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=client_timeout) as client:
            reply = await client.post(url, json={"mode": mode, "text": state["messages"][-1].content})
            reply.raise_for_status()
        return {"messages": [*state["messages"], AIMessage(reply.json()["text"])]}

    return RunnableLambda(ask, name="remote")


def _raising(exc: BaseException) -> Runnable[Any, Any]:
    async def fail(state: dict[str, Any]) -> dict[str, Any]:
        raise exc

    return RunnableLambda(fail, name="remote")


Backup = tuple[Agent, list[str]]


def _backup() -> Backup:
    steps: list[str] = []

    async def forecast(state: dict[str, Any]) -> dict[str, Any]:
        steps.append(str(state["messages"][-1].content))
        return {"messages": [*state["messages"], AIMessage("Backup forecast: sunny.")]}

    return Agent(RunnableLambda(forecast, name="backup"), card=_card("backup")), steps


def _would_redo() -> ScriptedChatModel:
    """Asked again after the remote's failure, the routing model would give the step to the backup."""
    return ScriptedChatModel(
        steps=[
            route("remote", "Forecast for Paris.", skill="forecast"),
            route("backup", "Forecast for Paris.", skill="forecast"),
            finish(),
        ]
    )


def _reassigned() -> ScriptedChatModel:
    """The routing model routes once and finishes: a retryable failure is reassigned without it."""
    return ScriptedChatModel(steps=[route("remote", "Forecast for Paris.", skill="forecast"), finish()])


async def _run(
    runnable: Runnable[Any, Any],
    saver: BaseCheckpointSaver[Any],
    *,
    timeout_s: float = 10.0,
    health: HealthRegistry | None = None,
    thread: str = "t",
    supervisor: ScriptedChatModel | None = None,
) -> tuple[Any, list[str], ScriptedChatModel]:
    primary = Agent(runnable, card=_card("remote", timeout_s=timeout_s, fallbacks={"forecast": ("backup",)}))
    backup, steps = _backup()
    supervisor = supervisor or _would_redo()
    graph = build_graph([primary, backup], supervisor_model=supervisor, checkpointer=saver, health=health)
    config: Any = {"configurable": {"thread_id": thread}}
    await graph.ainvoke({"task": "forecast for Paris"}, config)
    return await graph.aget_state(config), steps, supervisor


def _asked_a_human(state: Any) -> str:
    """The question the run waits on, checked to be the supervisor's own about an uncertain step."""
    assert state.next == ("escalate",)
    asked = query.decisions(state.values["trail"])[-1]
    assert (asked["source"], asked["error"]) == ("guard", "uncertain step")
    (pending,) = state.interrupts
    return str(pending.value["question"])


async def test_a_brought_agent_past_its_card_timeout_goes_to_a_human(saver: BaseCheckpointSaver[Any]) -> None:
    async def dawdle(state: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(30)
        return state

    state, backup_steps, supervisor = await _run(RunnableLambda(dawdle), saver, timeout_s=0.1)

    assert backup_steps == []  # the routing model was not asked, so it could not hand the step on
    assert len(supervisor.calls) == 1
    (step,) = query.handoffs(state.values["trail"])
    assert step["status"] == "failed" and not step["retryable"]
    assert [c["outcome"] for c in step["tool_calls"]] == ["uncertain"]
    assert "did not finish within 0.1s" in step["summary"] and "after 0.1s" in _asked_a_human(state)


async def test_a_client_read_timeout_is_uncertain_and_not_redone(
    remote: RemoteAgent, saver: BaseCheckpointSaver[Any]
) -> None:
    state, backup_steps, _ = await _run(_over_http(remote.url, "slow"), saver)

    assert backup_steps == []
    (step,) = query.handoffs(state.values["trail"])
    assert step["status"] == "failed" and not step["retryable"] and "ReadTimeout" in step["summary"]
    assert "ReadTimeout" in _asked_a_human(state)
    await asyncio.sleep(1.2)
    assert remote.finished == ["slow"]  # the remote did the work after its caller gave up


async def test_a_connection_dropped_mid_request_is_uncertain(
    remote: RemoteAgent, saver: BaseCheckpointSaver[Any]
) -> None:
    state, backup_steps, _ = await _run(_over_http(remote.url, "drop"), saver)

    assert remote.received == ["drop"] and backup_steps == []
    assert "RemoteProtocolError" in _asked_a_human(state)


async def test_a_refused_connection_is_retried_by_the_fallback(saver: BaseCheckpointSaver[Any]) -> None:
    with socket.socket() as probe:  # a port nothing listens on: the request never left
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state, backup_steps, supervisor = await _run(
        _over_http(f"http://127.0.0.1:{port}/rpc", "ok"), saver, supervisor=_reassigned()
    )

    first, second = query.handoffs(state.values["trail"])
    supervisor.assert_complete()
    assert first["retryable"] and "ConnectError" in first["summary"]
    assert second["agent"] == "backup" and second["status"] == "done" and len(backup_steps) == 1


async def test_a_connect_timeout_is_retried_by_the_fallback(saver: BaseCheckpointSaver[Any]) -> None:
    """A listener whose queue is full takes no new connection, so the request never leaves."""
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        waiting = [socket.socket() for _ in range(4)]
        for sock in waiting:
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.connect(("127.0.0.1", port))
        try:
            state, backup_steps, supervisor = await _run(
                _over_http(f"http://127.0.0.1:{port}/rpc", "ok"), saver, supervisor=_reassigned()
            )
        finally:
            for sock in waiting:
                sock.close()

    supervisor.assert_complete()
    first, second = query.handoffs(state.values["trail"])
    assert first["retryable"] and ("ConnectTimeout" in first["summary"] or "ConnectError" in first["summary"])
    assert second["agent"] == "backup" and len(backup_steps) == 1


async def test_a_clean_error_answer_is_retried_by_the_fallback(
    remote: RemoteAgent, saver: BaseCheckpointSaver[Any]
) -> None:
    state, backup_steps, supervisor = await _run(_over_http(remote.url, "fail"), saver, supervisor=_reassigned())

    first, second = query.handoffs(state.values["trail"])
    supervisor.assert_complete()
    assert first["retryable"] and "HTTPStatusError" in first["summary"]
    assert second["agent"] == "backup" and len(backup_steps) == 1


class _SocketDeadline(TimeoutError):
    """A library's own timeout, raised inside the agent (not Switchboard's ``timeout_s``)."""


_REQUEST = httpx.Request("POST", "http://127.0.0.1:9/rpc")


def _raised_from(outer: BaseException, inner: BaseException) -> BaseException:
    """``outer``, raised from ``inner`` as a client library maps a lower layer's error."""
    try:
        try:
            raise inner
        except type(inner) as exc:
            raise outer from exc
    except type(outer) as raised:
        return raised


UNCERTAIN: list[BaseException] = [
    httpx.ReadTimeout("read", request=_REQUEST),
    httpx.WriteTimeout("write", request=_REQUEST),
    httpx.ReadError("connection reset", request=_REQUEST),
    httpx.RemoteProtocolError("server disconnected", request=_REQUEST),
    _SocketDeadline("the agent's own deadline"),
    ConnectionResetError("reset by peer"),
]

RETRYABLE: list[BaseException] = [
    httpx.ConnectError("refused", request=_REQUEST),
    httpx.ConnectTimeout("connect", request=_REQUEST),
    _raised_from(httpx.ConnectTimeout("connect", request=_REQUEST), TimeoutError()),  # as httpx raises it
    httpx.PoolTimeout("no free connection", request=_REQUEST),
    ConnectionRefusedError("refused"),
    ValueError("a bug in the agent"),
]


@pytest.mark.parametrize("exc", UNCERTAIN, ids=lambda e: type(e).__name__)
async def test_an_error_after_the_request_may_have_arrived_is_uncertain(
    exc: BaseException, saver: BaseCheckpointSaver[Any]
) -> None:
    state, backup_steps, _ = await _run(_raising(exc), saver)

    assert backup_steps == []
    assert type(exc).__name__ in _asked_a_human(state)


async def test_an_uncertain_error_wrapped_by_the_agent_is_still_uncertain(saver: BaseCheckpointSaver[Any]) -> None:
    async def wrap(state: dict[str, Any]) -> dict[str, Any]:
        try:
            raise httpx.ReadTimeout("read", request=_REQUEST)
        except httpx.ReadTimeout as exc:
            raise RuntimeError("the forecast service failed") from exc

    state, backup_steps, _ = await _run(RunnableLambda(wrap), saver)

    assert backup_steps == []
    _asked_a_human(state)


@pytest.mark.parametrize("exc", RETRYABLE, ids=lambda e: type(e).__name__)
async def test_an_error_that_proves_nothing_was_done_is_retried(
    exc: BaseException, saver: BaseCheckpointSaver[Any]
) -> None:
    state, backup_steps, supervisor = await _run(_raising(exc), saver, supervisor=_reassigned())

    supervisor.assert_complete()
    first, second = query.handoffs(state.values["trail"])
    assert first["retryable"] and first["tool_calls"] == []
    assert second["agent"] == "backup" and len(backup_steps) == 1


async def test_uncertain_failures_count_against_the_brought_agent(saver: BaseCheckpointSaver[Any]) -> None:
    health = HealthRegistry()
    for thread in ("a", "b", "c"):
        await _run(_raising(httpx.ReadTimeout("read", request=_REQUEST)), saver, health=health, thread=thread)
    seen = health.health("remote")
    assert seen.error_rate == 1.0 and seen.breaker == "open"


def test_a_refused_connection_through_requests_is_nothing_sent() -> None:
    """requests wraps a refused connection and a reset mid-reply in one ConnectionError (review of this round)."""
    import requests

    from switchboard.graph.external_node import may_have_acted

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(requests.exceptions.ConnectionError) as refused:
        requests.post(f"http://127.0.0.1:{port}/rpc", json={}, timeout=5)
    assert may_have_acted(refused.value) is None


async def test_a_brought_agents_long_answer_is_bounded_like_any_handoff(saver: BaseCheckpointSaver[Any]) -> None:
    """A 200,000-character answer became the summary, and every later routing prompt (A2A review)."""
    from switchboard.agents.findings import SUMMARY_MAX_CHARS

    def verbose(state: dict[str, Any]) -> dict[str, Any]:
        return {"messages": [*state["messages"], AIMessage("rain " * 40_000)]}

    skill = Skill(id="forecast", description="Forecasts.")
    agent = Agent(RunnableLambda(verbose), card=AgentCard(name="talker", description="Talks.", skills=(skill,)))
    supervisor = ScriptedChatModel(steps=[route("talker", "Forecast.", skill="forecast"), finish()])
    graph = build_graph([agent], supervisor_model=supervisor, checkpointer=saver)
    values = await graph.ainvoke({"task": "forecast"}, {"configurable": {"thread_id": "long"}})
    (step,) = query.handoffs(values["trail"])
    assert step["status"] == "done" and len(step["summary"]) == SUMMARY_MAX_CHARS
    assert step["summary"].endswith("(clipped)")
