"""Remote A2A agents as team members, against a real a2a-sdk server on 127.0.0.1.

The remote agent is the SDK's own server (its request handler and JSON-RPC
routes on uvicorn, see ``a2a_server``); only the supervisor is scripted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.base import BaseCheckpointSaver

from switchboard.agents import Agent, AgentCard, Skill
from switchboard.agents.a2a import RemoteTaskFailed, a2a_agent, a2a_agent_from_card, discover_card
from switchboard.checkpoints import open_checkpointer
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.testing import ScriptedChatModel, finish, route
from tests.agents.a2a_server import ForecastExecutor, RunningAgent, free_port, remote_card, serve


@pytest.fixture
def remote() -> Iterator[RunningAgent]:
    with serve(ForecastExecutor(slow_s=3.0)) as running:
        yield running


@pytest.fixture
async def saver(tmp_path: Path) -> Any:
    async with open_checkpointer(tmp_path / "cp.sqlite") as checkpointer:
        yield checkpointer


def backup() -> Agent:
    """A local agent with the same skill, to take a step the remote agent failed."""

    def answer(state: dict[str, Any]) -> dict[str, Any]:
        return {"messages": [*state["messages"], AIMessage("Backup forecast: cloudy.")]}

    skill = Skill(id="forecast", description="Weather forecasts.")
    return Agent(RunnableLambda(answer), card=AgentCard(name="backup", description="Forecasts.", skills=(skill,)))


def handoffs(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in values["trail"] if e["kind"] == "handoff"]


async def test_discovery_maps_the_remote_card(remote: RunningAgent) -> None:
    agent = await a2a_agent(remote.url, timeout_s=30)

    card = agent.card
    assert card.name == "forecast_bot"  # "Forecast Bot" made a Switchboard name
    assert card.description == "Weather forecasts for any city, over A2A."
    assert [s.id for s in card.skills] == ["forecast", "alerts"]
    assert card.skills[0].examples == ("Will it rain in Paris tomorrow?",)
    assert card.timeout_s == 30 and not card.tools

    renamed = await a2a_agent(remote.url, name="weather", description="Forecasts for the trip planner.")
    assert (renamed.name, renamed.card.description) == ("weather", "Forecasts for the trip planner.")


def test_an_agent_is_built_from_a_card_it_is_given_without_network() -> None:
    port = free_port()  # nothing listens there: building must not try
    as_json = MessageToDict(remote_card(f"http://127.0.0.1:{port}"))
    agent = a2a_agent_from_card(as_json, fallbacks={})
    graph = build_graph([agent, backup()])

    assert agent.name == "forecast_bot" and "forecast_bot" in graph.nodes
    with pytest.raises(ConfigError, match="must be lower_snake_case"):
        a2a_agent_from_card(as_json, name="Forecast Bot")
    mine = AgentCard(name="weather", description="Forecasts.", skills=(Skill(id="forecast", description="x"),))
    assert a2a_agent_from_card(as_json, card=mine).card is mine  # a card from a team file, as is


async def test_a_routed_step_is_answered_by_the_remote_agent(
    remote: RunningAgent, saver: BaseCheckpointSaver[Any]
) -> None:
    agent = a2a_agent_from_card(remote.card)
    supervisor = ScriptedChatModel(steps=[route("forecast_bot", "Forecast for Paris.", skill="forecast"), finish()])
    graph = build_graph([agent], supervisor_model=supervisor, checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "paris"}}
    values = await graph.ainvoke({"task": "Will it rain in Paris?"}, config)

    supervisor.assert_complete()
    (step,) = handoffs(values)
    assert step["agent"] == "forecast_bot" and step["status"] == "done"
    assert step["summary"] == "Forecast: light rain, 18 C. (forecast for paris.)"
    assert remote.executor.texts == ["Forecast for Paris."]  # the instruction, as one A2A message
    assert sum(remote.executor.received.values()) == 1


async def test_a_failed_remote_task_is_reassigned_to_the_fallback(
    remote: RunningAgent, saver: BaseCheckpointSaver[Any]
) -> None:
    agent = a2a_agent_from_card(remote.card, fallbacks={"forecast": ("backup",)})
    supervisor = ScriptedChatModel(steps=[route("forecast_bot", "Please fail.", skill="forecast"), finish()])
    graph = build_graph([agent, backup()], supervisor_model=supervisor, checkpointer=saver)
    values = await graph.ainvoke({"task": "forecast"}, {"configurable": {"thread_id": "failing"}})

    supervisor.assert_complete()
    first, second = handoffs(values)
    assert first["agent"] == "forecast_bot" and first["status"] == "failed" and first["retryable"]
    assert "RemoteTaskFailed" in first["summary"] and "the forecast service is down" in first["summary"]
    assert second["agent"] == "backup" and second["status"] == "done"
    assert second["assignment"] == first["assignment"]


async def test_an_agent_that_cannot_be_reached_is_replaced_by_its_fallback() -> None:
    dead = remote_card(f"http://127.0.0.1:{free_port()}")  # nothing listens: no request was sent
    agent = a2a_agent_from_card(dead, fallbacks={"forecast": ("backup",)})
    supervisor = ScriptedChatModel(steps=[route("forecast_bot", "Forecast for Paris.", skill="forecast"), finish()])
    values = await build_graph([agent, backup()], supervisor_model=supervisor).ainvoke({"task": "forecast"})

    supervisor.assert_complete()
    first, second = handoffs(values)
    assert first["status"] == "failed" and first["retryable"] and not first["tool_calls"]
    assert (second["agent"], second["status"]) == ("backup", "done")


async def test_a_remote_agent_asking_for_input_fails_the_step_with_its_question(
    remote: RunningAgent, saver: BaseCheckpointSaver[Any]
) -> None:
    agent = a2a_agent_from_card(remote.card)
    supervisor = ScriptedChatModel(steps=[route("forecast_bot", "Ask me which city.", skill="forecast")])
    graph = build_graph([agent], supervisor_model=supervisor, checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "asking"}}
    await graph.ainvoke({"task": "forecast"}, config)

    state = await graph.aget_state(config)
    (step,) = handoffs(state.values)
    assert step["status"] == "failed" and "asks for input: Which city do you mean?" in step["summary"]
    (pending,) = state.interrupts  # no fallback: a human sees the question
    assert "Which city do you mean?" in pending.value["question"]


async def test_a_remote_agent_past_the_timeout_is_not_retried_elsewhere(
    remote: RunningAgent, saver: BaseCheckpointSaver[Any]
) -> None:
    agent = a2a_agent_from_card(remote.card, timeout_s=0.5, fallbacks={"forecast": ("backup",)})
    supervisor = ScriptedChatModel(steps=[route("forecast_bot", "Slow forecast.", skill="forecast")])
    graph = build_graph([agent, backup()], supervisor_model=supervisor, checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "slow"}}
    await graph.ainvoke({"task": "forecast"}, config)

    supervisor.assert_complete()
    state = await graph.aget_state(config)
    (step,) = handoffs(state.values)  # the backup never got it: the remote agent may have acted
    assert step["status"] == "failed" and not step["retryable"]
    assert "did not finish within 0.5s" in step["summary"]
    assert [c["outcome"] for c in step["tool_calls"]] == ["uncertain"]
    (pending,) = state.interrupts  # a human checks before anyone tries again
    assert "may have acted" in pending.value["question"]


async def test_a_rerun_of_a_step_takes_the_earlier_task_and_sends_nothing_new(remote: RunningAgent) -> None:
    agent = a2a_agent_from_card(remote.card)
    step = {"messages": [HumanMessage("Forecast for Oslo.", id="switchboard-step-1234")]}
    config: Any = {"configurable": {"thread_id": "crashed"}}
    first = await agent.runnable.ainvoke(step, config)
    again = await agent.runnable.ainvoke(step, config)  # as LangGraph re-runs a step after a crash
    other = await agent.runnable.ainvoke(step, {"configurable": {"thread_id": "another"}})

    assert first["messages"][-1].text == again["messages"][-1].text == other["messages"][-1].text
    assert sorted(remote.executor.received.values()) == [1, 1]  # one message per thread and step, never two


async def test_a_remote_failure_raises_with_the_typed_outcome(remote: RunningAgent) -> None:
    agent = a2a_agent_from_card(remote.card)
    with pytest.raises(RemoteTaskFailed) as raised:
        await agent.runnable.ainvoke({"messages": [HumanMessage("Fail now.", id="s")]}, {})

    outcome = raised.value.outcome
    assert (outcome.state, outcome.text, outcome.agent) == ("failed", "the forecast service is down", "forecast_bot")
    assert outcome.task_id and outcome.context_id


async def test_an_unreachable_url_is_named_at_discovery() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConfigError, match=f"cannot read the A2A agent card at {url}"):
        await discover_card(url, timeout_s=2)


def test_a_missing_sdk_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "a2a.client", None)
    with pytest.raises(ConfigError, match=r"pip install 'switchboard\[a2a\]'"):
        a2a_agent_from_card({"name": "x"})


async def test_a_team_file_names_a_remote_agent_by_its_saved_card(
    remote: RunningAgent, saver: BaseCheckpointSaver[Any], tmp_path: Path
) -> None:
    """Teams are configured in files: an agent card with ``a2a: {card: FILE}`` is the remote agent."""
    from switchboard.agents.card import load_team

    (tmp_path / "forecast.json").write_text(json.dumps(MessageToDict(remote.card)))
    team_file = tmp_path / "desk.yaml"
    team_file.write_text(
        "name: desk\nagents:\n"
        "  - name: weather\n    description: Weather forecasts for any city.\n"
        "    skills: [{id: forecast, description: Tomorrow's weather.}]\n"
        "    a2a: {card: forecast.json}\n"
    )
    supervisor = ScriptedChatModel(steps=[route("weather", "Forecast for Oslo.", skill="forecast"), finish()])
    graph = build_graph(team=load_team(team_file), supervisor_model=supervisor, checkpointer=saver)
    values = await graph.ainvoke({"task": "Rain in Oslo?"}, {"configurable": {"thread_id": "oslo"}})

    supervisor.assert_complete()
    (step,) = handoffs(values)
    assert step["agent"] == "weather" and step["summary"] == "Forecast: light rain, 18 C. (forecast for oslo.)"
    assert remote.executor.texts == ["Forecast for Oslo."]


def test_a_remote_agent_in_a_team_file_takes_no_tools_and_needs_its_card(tmp_path: Path) -> None:
    from switchboard.agents.card import load_team

    team_file = tmp_path / "desk.yaml"
    body = (
        "name: desk\nagents:\n  - name: weather\n    description: Forecasts.\n"
        "    skills: [{id: forecast, description: x}]\n"
    )
    team_file.write_text(body + "    tools: [get_weather]\n    a2a: {card: forecast.json}\n")
    with pytest.raises(ConfigError, match="takes no `tools`"):
        load_team(team_file)
    team_file.write_text(body + "    a2a: {card: missing.json}\n")
    with pytest.raises(ConfigError, match=r"'weather': cannot read its saved A2A card .*missing\.json"):
        build_graph(team=load_team(team_file), model=ScriptedChatModel(steps=[]))


def test_odd_remote_cards_map_to_usable_distinct_cards() -> None:
    """Duplicate skill ids stayed twice, non-Latin names all became `a2a` (A2A review)."""
    from switchboard.agents.a2a.cards import parse_card, to_switchboard_card

    base = MessageToDict(remote_card("http://127.0.0.1:1"))
    skill = {"id": "Tomorrow Forecast", "name": "Forecast", "description": "Tomorrow's weather."}
    odd = {**base, "name": "Météo Bot", "skills": [skill, {**skill, "description": "again"}]}
    card = to_switchboard_card(parse_card(odd))
    assert card.name == "meteo_bot" and [s.id for s in card.skills] == ["tomorrow_forecast"]
    first, second = ({**base, "name": "天气"}, {**base, "name": "天氣預報"})
    names = {a2a_agent_from_card(first).name, a2a_agent_from_card(second).name}
    assert len(names) == 2 and all(n.startswith("a2a_") for n in names)


def test_a_saved_card_that_is_not_a_card_names_the_agent_and_file(tmp_path: Path) -> None:
    from switchboard.agents.card import load_team

    (tmp_path / "forecast.json").write_text("[1, 2]")
    team_file = tmp_path / "desk.yaml"
    team_file.write_text(
        "name: desk\nagents:\n  - name: weather\n    description: Forecasts.\n"
        "    skills: [{id: forecast, description: x}]\n    a2a: {card: forecast.json}\n"
    )
    with pytest.raises(ConfigError, match=r"agent 'weather': its saved A2A card .*forecast\.json is unusable"):
        build_graph(team=load_team(team_file), model=ScriptedChatModel(steps=[]))


async def test_a_malformed_url_at_discovery_names_the_url() -> None:
    with pytest.raises(ConfigError, match=r"http://256\.0\.0\.1:80"):
        await discover_card("http://256.0.0.1:80")
