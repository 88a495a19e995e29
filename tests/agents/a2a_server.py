"""A real A2A agent for the tests: the a2a-sdk's own server, on uvicorn, on 127.0.0.1.

Its executor acts on keywords in the instruction, so one server plays every
case: ``fail`` ends the task failed, ``ask`` wants input, ``slow`` sleeps
past any short timeout, anything else is answered. It counts the messages it
was sent, by message id, so a test can see what the client sent.
:func:`serve_app` serves any ASGI app the same way (a Switchboard graph over A2A).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from a2a.helpers import new_task, new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandlerV2
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Part, TaskState
from starlette.applications import Starlette


@dataclass
class ForecastExecutor(AgentExecutor):
    """A weather agent that answers from a script of keywords."""

    received: Counter[str] = field(default_factory=Counter)
    """Message ids sent to it, with how often each came."""
    texts: list[str] = field(default_factory=list)
    """The text of each message, in order."""
    slow_s: float = 30.0

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None and context.task_id and context.context_id
        self.received[context.message.message_id] += 1
        text = context.get_user_input()
        self.texts.append(text)
        if context.current_task is None:  # a new task: announce it before its status changes
            await event_queue.enqueue_event(
                new_task(context.task_id, context.context_id, TaskState.TASK_STATE_SUBMITTED, history=[context.message])
            )
        task = TaskUpdater(event_queue, context.task_id, context.context_id)
        await task.start_work()
        said = text.split("\n\n", 1)[0].lower()
        if "fail" in said:
            await task.failed(new_text_message("the forecast service is down"))
        elif "ask" in said:
            await task.requires_input(new_text_message("Which city do you mean?"))
        else:
            if "slow" in said:
                await asyncio.sleep(self.slow_s)
            await task.add_artifact([Part(text=f"Forecast: light rain, 18 C. ({said})")], name="forecast")
            await task.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def remote_card(url: str) -> AgentCard:
    """The card the test agent serves: two skills, with examples to route by."""
    return AgentCard(
        name="Forecast Bot",
        description="Weather forecasts for any city, over A2A.",
        version="1.0.0",
        supported_interfaces=[AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[
            AgentSkill(
                id="forecast",
                name="Forecast",
                description="Tomorrow's weather for a city.",
                tags=["weather"],
                examples=["Will it rain in Paris tomorrow?"],
            ),
            AgentSkill(id="alerts", name="Storm alerts", description="Storm warnings.", tags=["weather"]),
        ],
    )


@dataclass
class RunningAgent:
    """A served A2A agent: where it is, and what it was sent."""

    url: str
    card: AgentCard
    executor: ForecastExecutor


@contextmanager
def serve(executor: ForecastExecutor | None = None) -> Iterator[RunningAgent]:
    """Serve the test agent on a free port of 127.0.0.1 in a background thread, until the block ends."""
    executor = executor or ForecastExecutor()
    cards: list[AgentCard] = []

    def app(url: str) -> Starlette:
        cards.append(remote_card(url))
        handler = DefaultRequestHandlerV2(agent_executor=executor, task_store=InMemoryTaskStore(), agent_card=cards[0])
        return Starlette(routes=[*create_agent_card_routes(cards[0]), *create_jsonrpc_routes(handler, "/")])

    with serve_app(app) as url:
        yield RunningAgent(url, cards[0], executor)


@contextmanager
def serve_app(app: Callable[[str], Any]) -> Iterator[str]:
    """Serve the ASGI app ``app(url)`` makes on a free port of 127.0.0.1, in a background thread; yield its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        app(url), host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test A2A server did not start")
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
