"""One compiled agent subgraph serves every card and spec agent of a graph.

Compiling a subgraph per agent made a 500-agent team take seconds to build
(issue 8). The agents now share one; each step picks its card, model, tools
and prompt at run time from the agent node that runs it. These tests pin
that the sharing is invisible: each agent still runs with its own card and
model, pauses and resumes under its own node's namespace, and is traced
under its own name. Models are scripted; tools, checkpoints and the guard
are real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import BaseMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from switchboard.agents import AgentSpec
from switchboard.agents.interrupts import Governance
from switchboard.agents.subgraph import AGENT_METADATA_KEY, Member, build_crew_graph
from switchboard.agents.synthetic import synthetic_team
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route


def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"{city}: light rain"


def convert(amount: float, currency: str) -> str:
    """Convert an amount of euros into another currency."""
    return f"{amount * 1.1:.2f} {currency}"


def specs(weather_model: ScriptedChatModel, currency_model: ScriptedChatModel) -> list[AgentSpec]:
    return [
        AgentSpec(name="weather", description="Weather reports.", tools=[get_weather], model=weather_model,
                  prompt="Always name the city."),
        AgentSpec(name="currency", description="Currency conversion.", tools=[convert], model=currency_model,
                  prompt="Round to cents."),
    ]  # fmt: skip


@pytest.fixture
async def saver(tmp_path: Path) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    async with open_checkpointer(tmp_path / "cp.sqlite") as checkpointer:
        yield checkpointer


def test_a_team_compiles_one_agent_subgraph_whatever_its_size() -> None:
    graph = build_graph(team=synthetic_team(40), model=ScriptedChatModel(steps=[]), policy=PolicyFile(name="t"))
    subgraphs = dict(graph.get_subgraphs())
    assert set(subgraphs) == set(synthetic_team(40).names)  # every agent node still runs a subgraph
    assert len({id(subgraph) for subgraph in subgraphs.values()}) == 1


async def test_each_agent_runs_with_its_own_card_model_and_tools(saver: BaseCheckpointSaver[Any]) -> None:
    weather = ScriptedChatModel(steps=[call("get_weather", city="Paris"), handoff("rain in Paris", sky="rain")])
    currency = ScriptedChatModel(steps=[call("convert", amount=100, currency="USD"), handoff("110 USD", usd=110)])
    supervisor = ScriptedChatModel(
        steps=[
            route("weather", "Weather in Paris?", skill="weather"),
            route("currency", "100 EUR in USD?", skill="currency"),
            finish(),
        ]
    )
    graph = build_graph(
        specs(weather, currency), model=ScriptedChatModel(steps=[]), supervisor_model=supervisor, checkpointer=saver
    )
    values = await graph.ainvoke({"task": "Weather in Paris, and 100 EUR in USD?"}, _config("own"))

    for model, agent, tool, prompt in ((weather, "weather", "get_weather", "Always name the city."),
                                       (currency, "currency", "convert", "Round to cents.")):  # fmt: skip
        model.assert_complete()
        assert {c.agent for c in model.calls} == {agent}
        assert model.calls[0].tools == [tool, "ask_customer", "handoff"]  # its own tools, none of the other's
        assert prompt in model.calls[0].text
    handoffs = [e for e in values["trail"] if e["kind"] == "handoff"]
    assert [(h["agent"], h["status"], [c["tool"] for c in h["tool_calls"]]) for h in handoffs] == [
        ("weather", "done", ["get_weather"]),
        ("currency", "done", ["convert"]),
    ]
    assert handoffs[1]["tool_calls"][0]["result"] == "110.00 USD"


async def test_a_paused_step_resumes_as_the_agent_that_paused(saver: BaseCheckpointSaver[Any]) -> None:
    """The second agent asks the customer; on resume it, not the first, goes on, under its own namespace."""

    def sees_reply(messages: Sequence[BaseMessage], tools: list[str]) -> Any:
        assert "Lyon" in str(messages[-1].content)
        return call("get_weather", city="Lyon")

    weather = ScriptedChatModel(steps=[call("ask_customer", question="Which city?"), sees_reply, handoff("rain")])
    currency = ScriptedChatModel(steps=[call("convert", amount=5, currency="GBP"), handoff("5.50 GBP")])
    supervisor = ScriptedChatModel(
        steps=[route("currency", "5 EUR in GBP?", skill="currency"), route("weather", "Weather?", skill="weather"),
               finish()]
    )  # fmt: skip
    graph = build_graph(
        specs(weather, currency), model=ScriptedChatModel(steps=[]), supervisor_model=supervisor, checkpointer=saver
    )
    config = _config("paused")
    await graph.ainvoke({"task": "5 EUR in GBP, and the weather?"}, config)

    state = await graph.aget_state(config, subgraphs=True)
    (task,) = state.tasks
    assert task.name == "weather" and task.interrupts
    assert task.interrupts[0].value["kind"] == "question"
    assert task.state is not None and task.state.config["configurable"]["checkpoint_ns"].startswith("weather:")
    values = await graph.ainvoke(Command(resume={"reply": "Lyon"}), config)

    weather.assert_complete()
    currency.assert_complete()
    assert [(e["agent"], e["status"]) for e in values["trail"] if e["kind"] == "handoff"] == [
        ("currency", "done"),
        ("weather", "done"),
    ]


async def test_agents_on_one_model_are_each_bound_to_their_own_tools(saver: BaseCheckpointSaver[Any]) -> None:
    """Bindings are cached per model and tool set, so sharing a model never shows one agent another's tools."""
    weather_steps = [call("get_weather", city="Oslo"), handoff("snow")]
    currency_steps = [call("convert", amount=1, currency="GBP"), handoff("0.85 GBP")]
    model = ScriptedChatModel(steps=[], agents={"weather": weather_steps, "currency": currency_steps})
    supervisor = ScriptedChatModel(
        steps=[route("weather", "Oslo?", skill="weather"), route("currency", "1 EUR?", skill="currency"), finish()]
    )
    agents = [spec.model_copy(update={"model": None}) for spec in specs(model, model)]
    graph = build_graph(agents, model=model, supervisor_model=supervisor, checkpointer=saver)
    await graph.ainvoke({"task": "Oslo weather, and 1 EUR in GBP?"}, _config("one-model"))

    model.assert_complete()
    assert [(c.agent, c.tools[0]) for c in model.calls] == [
        ("weather", "get_weather"),
        ("weather", "get_weather"),
        ("currency", "convert"),
        ("currency", "convert"),
    ]


async def test_a_shared_subgraph_run_without_naming_its_agent_is_refused(tmp_path: Path) -> None:
    model = ScriptedChatModel(steps=[])
    gov = Governance.of(PolicyFile(name="t"), data_dir=tmp_path)
    crew = [Member(spec.card(), model, Toolbox.of(list(spec.tools))) for spec in specs(model, model)]
    graph = build_crew_graph(crew, gov=gov)
    with pytest.raises(ConfigError, match="not one of its agents"):
        await graph.ainvoke({"messages": [("user", "hi")]}, {"metadata": {AGENT_METADATA_KEY: "someone_else"}})
    with pytest.raises(ConfigError, match="unique names"):
        build_crew_graph([*crew, crew[0]], gov=gov)


class _ChainNames(AsyncCallbackHandler):
    """Names of the chain runs, each with its parent's name."""

    def __init__(self) -> None:
        self.names: dict[UUID, str] = {}
        self.pairs: list[tuple[str | None, str]] = []

    async def on_chain_start(
        self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        name = str(kwargs.get("name"))
        self.names[run_id] = name
        self.pairs.append((self.names.get(parent_run_id) if parent_run_id else None, name))


async def test_the_shared_subgraph_is_traced_under_the_agents_name(saver: BaseCheckpointSaver[Any]) -> None:
    weather = ScriptedChatModel(steps=[handoff("dry")])
    currency = ScriptedChatModel(steps=[handoff("1.10 USD")])
    supervisor = ScriptedChatModel(
        steps=[route("weather", "Weather?", skill="weather"), route("currency", "1 EUR?", skill="currency"), finish()]
    )
    graph = build_graph(
        specs(weather, currency), model=ScriptedChatModel(steps=[]), supervisor_model=supervisor, checkpointer=saver
    )
    names = _ChainNames()
    await graph.ainvoke({"task": "Weather, and 1 EUR in USD?"}, {**_config("traced"), "callbacks": [names]})

    # The node runs the subgraph, whose run bears the agent's name (the tracer folds it into the node's).
    for agent in ("weather", "currency"):
        assert (agent, agent) in names.pairs
        assert (agent, "think") in names.pairs


def _config(thread: str) -> Any:
    return {"configurable": {"thread_id": thread}}
