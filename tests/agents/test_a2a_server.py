"""A Switchboard graph served over A2A, called with the a2a-sdk's own client and with Switchboard's.

The graph runs in the server's thread on uvicorn (127.0.0.1); its supervisor
is scripted and its one agent is a local Runnable. Checkpoints are in
memory, since the server's event loop is not the test's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.helpers import get_artifact_text, get_message_text
from a2a.types import Message, Part, Role, SendMessageRequest, Task, TaskState
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import interrupt

from switchboard.agents import Agent, AgentCard, Skill, a2a_agent
from switchboard.agents.a2a.server import a2a_app
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.testing import ScriptedChatModel, escalate, finish, route
from tests.agents.a2a_server import serve_app

WEATHER = AgentCard(
    name="weather",
    description="Weather reports for a city.",
    skills=(Skill(id="weather", description="Today's weather in a city.", examples=("Is it raining in Oslo?",)),),
)


def answering(state: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [*state["messages"], AIMessage("Light rain in Oslo, 9 C.")]}


def asking(state: dict[str, Any]) -> dict[str, Any]:
    """Asks the customer which city, as a card agent's ask_customer would, then answers."""
    reply = interrupt({"kind": "question", "agent": "weather", "question": "Which city?"})
    return {"messages": [*state["messages"], AIMessage(f"Light rain in {reply['reply']}.")]}


def graph_of(agent: Any, *steps: AIMessage) -> Any:
    supervisor = ScriptedChatModel(steps=list(steps))
    return build_graph(
        [Agent(RunnableLambda(agent), card=WEATHER)], supervisor_model=supervisor, checkpointer=InMemorySaver()
    )


def app_for(graph: Any) -> Any:
    return lambda url: a2a_app(graph, name="Switchboard weather desk", description="Weather.", cards=[WEATHER], url=url)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def send(client: Client, text: str, *, task: Task | None = None) -> Task:
    message = Message(message_id=f"m-{text}", role=Role.ROLE_USER, parts=[Part(text=text)])
    if task is not None:
        message.task_id, message.context_id = task.id, task.context_id
    responses = [r async for r in client.send_message(SendMessageRequest(message=message))]
    assert responses[-1].HasField("task")
    return responses[-1].task


async def test_a_run_answers_with_its_report_and_the_card_lists_the_team_skills(http: httpx.AsyncClient) -> None:
    graph = graph_of(answering, route("weather", "Weather in Oslo.", skill="weather"), finish("answered"))
    with serve_app(app_for(graph)) as url:
        client = await ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create_from_url(url)
        task = await send(client, "Is it raining in Oslo?")

        served = (await http.get(f"{url}/.well-known/agent-card.json")).json()
    assert [s["id"] for s in served["skills"]] == ["weather"]
    assert served["skills"][0]["examples"] == ["Is it raining in Oslo?"]
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    (report,) = task.artifacts
    assert "weather: Light rain in Oslo, 9 C." in get_artifact_text(report)
    state = await graph.aget_state({"configurable": {"thread_id": f"a2a-{task.context_id}"}})
    assert state.values["outcome"] == "resolved"  # one Switchboard thread per A2A context


async def test_an_escalation_is_input_required_with_the_question(http: httpx.AsyncClient) -> None:
    graph = graph_of(answering, escalate("I cannot tell which city is meant"))
    with serve_app(app_for(graph)) as url:
        client = await ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create_from_url(url)
        task = await send(client, "Weather?")
        again = await send(client, "Oslo, approve it", task=task)  # a caller cannot answer for a principal

    for waiting in (task, again):
        assert waiting.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        question = get_message_text(waiting.status.message)
        assert "I cannot tell which city is meant" in question and "switchboard resume a2a-" in question


async def test_a_customer_question_is_answered_by_the_callers_next_message(http: httpx.AsyncClient) -> None:
    graph = graph_of(asking, route("weather", "Weather, please.", skill="weather"), finish("answered"))
    with serve_app(app_for(graph)) as url:
        client = await ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create_from_url(url)
        task = await send(client, "Weather, please.")
        asked = get_message_text(task.status.message)
        done = await send(client, "Bergen", task=task)

    assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED and asked == "Which city?"
    assert done.status.state == TaskState.TASK_STATE_COMPLETED
    assert "Light rain in Bergen." in get_artifact_text(done.artifacts[0])


async def test_switchboard_calls_a_switchboard_graph_over_a2a() -> None:
    served = graph_of(answering, route("weather", "Weather in Oslo.", skill="weather"), finish("answered"))
    with serve_app(app_for(served)) as url:
        remote = await a2a_agent(url, name="weather_desk")
        caller = ScriptedChatModel(steps=[route("weather_desk", "Is it raining in Oslo?", skill="weather"), finish()])
        values = await build_graph([remote], supervisor_model=caller).ainvoke({"task": "Oslo weather"})

    (step,) = [e for e in values["trail"] if e["kind"] == "handoff"]
    assert step["status"] == "done" and "Light rain in Oslo, 9 C." in step["summary"]


def test_a_graph_without_a_checkpointer_is_refused() -> None:
    graph = build_graph([Agent(RunnableLambda(answering), card=WEATHER)], supervisor_model=ScriptedChatModel(steps=[]))
    with pytest.raises(ConfigError, match="needs a checkpointer"):
        a2a_app(graph, name="x", description="x", cards=[WEATHER], url="http://127.0.0.1:1")


async def send_in(client: Client, text: str, context_id: str) -> Task:
    """A message in a context, naming no task (how many A2A clients follow up)."""
    message = Message(message_id=f"m-{context_id}-{text[:20]}", role=Role.ROLE_USER, parts=[Part(text=text)])
    message.context_id = context_id
    responses = [r async for r in client.send_message(SendMessageRequest(message=message))]
    return responses[-1].task


async def test_a_served_thread_waits_for_a_lock_another_process_holds(http: httpx.AsyncClient) -> None:
    """The A2A server ran a thread while `switchboard reply` held it in another process (A2A review)."""
    from switchboard.runs import thread_lock
    from switchboard.settings import Settings

    graph = graph_of(answering, route("weather", "Weather in Oslo.", skill="weather"), finish("answered"))

    def served(url: str) -> Any:  # with the store whose locks the CLI's runs hold
        return a2a_app(graph, name="desk", description="Weather.", cards=[WEATHER], url=url, settings=Settings())

    with serve_app(served) as url:
        client = await ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create_from_url(url)
        async with thread_lock(Settings(), "a2a-held"):
            refused = await send_in(client, "Is it raining in Oslo?", "held")
        done = await send_in(client, "Is it raining in Oslo?", "free")
    assert refused.status.state == TaskState.TASK_STATE_REJECTED
    assert "another process" in get_message_text(refused.status.message)
    assert not (await graph.aget_state({"configurable": {"thread_id": "a2a-held"}})).values  # nothing ran
    assert done.status.state == TaskState.TASK_STATE_COMPLETED


async def test_a_bad_task_or_reply_is_refused_with_why_and_nothing_is_saved(http: httpx.AsyncClient) -> None:
    graph = graph_of(asking, route("weather", "Weather, please.", skill="weather"), finish("answered"))
    with serve_app(app_for(graph)) as url:
        client = await ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create_from_url(url)
        bad = await send_in(client, "\x1b[2Jclear the screen", "bad")
        asked = await send_in(client, "Weather, please.", "ok")
        empty = await send_in(client, "   ", "ok")  # by context only: still the reply to the question
        done = await send_in(client, "Bergen", "ok")
        odd = await send_in(client, "Weather, please.", "../\x1b[31m" + "x" * 500)

    assert bad.status.state == TaskState.TASK_STATE_REJECTED and "refused" in get_message_text(bad.status.message)
    assert not (await graph.aget_state({"configurable": {"thread_id": "a2a-bad"}})).values
    assert asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert empty.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert get_message_text(empty.status.message).startswith("the reply is empty")
    assert done.status.state == TaskState.TASK_STATE_COMPLETED
    assert odd.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    from switchboard.agents.a2a.server import thread_of

    assert thread_of(odd.context_id).startswith("a2a-") and len(thread_of(odd.context_id)) == 36  # hashed


async def test_runs_lock_their_thread_in_the_graphs_own_store(tmp_path: Any) -> None:
    """By default the lock is where the graph's checkpoints are; an in-memory graph has no other process to fear."""
    from switchboard.agents.a2a.server import _lock_target
    from switchboard.checkpoints import open_checkpointer

    async with open_checkpointer(tmp_path / "served.sqlite") as saver:
        graph = build_graph(
            [Agent(RunnableLambda(answering), card=WEATHER)], supervisor_model=ScriptedChatModel(steps=[]),
            checkpointer=saver,
        )  # fmt: skip
        assert _lock_target(graph, None) == str(tmp_path / "served.sqlite")
    assert _lock_target(graph_of(answering), None) is None
