"""Bring your own agents: brought graphs, specs and cards in one graph.

Models are scripted or fake; everything around them is real: LangGraph's
``create_react_agent`` running real Python tools, the retail MCP server over
stdio for the card agent, SQLite checkpoints, the policy engine at the tool
call.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import create_react_agent
from langgraph.types import Command, interrupt
from pydantic import Field

from switchboard.agents import Agent, AgentCard, AgentSpec, Skill, load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.engine import EmbeddedChatModel
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.policies import DenyRule, PolicyFile, RoutingPolicy
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

# LangGraph 1.0 points to langchain.agents.create_agent; the prebuilt one still works and is what users have.
pytestmark = pytest.mark.filterwarnings("ignore:create_react_agent has been moved")


class FakeToolModel(GenericFakeChatModel):
    """langchain_core's fake chat model, able to sit in a tool-calling agent.

    It plays its messages in order (running past the end is an error) and
    keeps what it was sent.
    """

    received: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> FakeToolModel:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.received.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


def fake(*replies: AIMessage) -> FakeToolModel:
    return FakeToolModel(messages=iter(replies))


def tool_call(name: str, **args: Any) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"call-{name}", "type": "tool_call"}])


def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"{city}: 18 degrees C, light rain"


def convert(amount: float, currency: str) -> str:
    """Convert an amount of euros into another currency."""
    rates = {"USD": 1.1, "GBP": 0.85}
    return f"{amount:g} EUR = {amount * rates[currency]:.2f} {currency}"


def weather_agent(model: FakeToolModel | None = None, name: str | None = "weather") -> Any:
    model = model or fake(tool_call("get_weather", city="Paris"), AIMessage("Light rain in Paris, 18 C."))
    return create_react_agent(model, [get_weather], name=name, prompt="You report the weather.")


def currency_agent(model: FakeToolModel | None = None) -> Any:
    model = model or fake(tool_call("convert", amount=100, currency="USD"), AIMessage("100 EUR is 110.00 USD."))
    return create_react_agent(model, [convert], name="currency", prompt="You convert currencies.")


def trail_of(values: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in values["trail"] if e["kind"] == kind]


@pytest.fixture
async def saver(tmp_path: Path) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    async with open_checkpointer(tmp_path / "cp.sqlite") as checkpointer:
        yield checkpointer


async def test_two_react_agents_and_a_card_agent_share_one_supervisor(
    retail_db: Path, saver: BaseCheckpointSaver[Any], mia: Any
) -> None:
    """The issue's "done when": routed to each agent, the chain read back from the checkpoint.

    The card agent (retail's customer_service over the real MCP server)
    names its own model on its card (``embedded``); the graph's default agent
    model is a script with no steps, and the supervisor's is another, so any
    call to the wrong one fails the test.
    """
    retail = load_team()
    front_desk = retail.card("customer_service").model_copy(update={"model": "embedded"})
    team = retail.model_copy(update={"agents": (front_desk,)})
    # Its routing rules pin other agents, and its grants name only retail's agents as handoff targets.
    policy = retail.load_policy().model_copy(update={"routing": RoutingPolicy(), "grants": None})

    def sees_facts(messages: Sequence[BaseMessage], tools: list[str]) -> AIMessage:
        assert "customer_service" in str(messages[-1].content) and "user_id" in str(messages[-1].content)
        return route("weather", "What is the weather in Paris?", skill="weather")

    supervisor = ScriptedChatModel(
        steps=[
            route("customer_service", f"Identify the customer {mia.email}.", skill="identify_customer"),
            sees_facts,
            route("currency", "Convert 100 EUR to USD.", skill="currency"),
            finish("all three answered"),
        ]
    )
    unused_default = ScriptedChatModel(steps=[])
    weather_model = fake(tool_call("get_weather", city="Paris"), AIMessage("Light rain in Paris, 18 C."))
    async with Toolbox.for_team(team) as toolbox:
        graph = build_graph(
            [currency_agent(), weather_agent(weather_model)],
            team=team,
            model=unused_default,
            supervisor_model=supervisor,
            toolbox=toolbox,
            policy=policy,
            checkpointer=saver,
        )
        config: Any = {"configurable": {"thread_id": "byo"}}
        await graph.ainvoke({"task": f"I am {mia.email}; weather in Paris, and 100 EUR in USD?"}, config)

    supervisor.assert_complete()
    unused_default.assert_complete()
    assert all("RoutingDecision" in c.tools for c in supervisor.calls)  # the supervisor's model only routed
    values = (await graph.aget_state(config)).values  # what `switchboard show` prints, from the checkpoint
    routes = [d["agent"] for d in trail_of(values, "decision") if d["action"] == "route"]
    assert routes == ["customer_service", "weather", "currency"]
    handoffs = {h["agent"]: h for h in trail_of(values, "handoff")}
    assert [h["status"] for h in handoffs.values()] == ["done", "done", "done"]
    # The card agent ran on the embedded engine against the real server: its facts come from the database.
    desk = handoffs["customer_service"]
    assert desk["facts"]["user_id"] == mia.user_id
    assert desk["tool_calls"][0]["tool"] == "find_user_id_by_email"
    assert all(c["policy"] is None and c["outcome"] == "ok" for c in desk["tool_calls"])
    # The brought agents ran their real tools; their calls are recorded as observed.
    assert handoffs["weather"]["summary"] == "Light rain in Paris, 18 C."
    (observed,) = handoffs["weather"]["tool_calls"]
    assert observed["tool"] == "get_weather" and observed["result"] == "Paris: 18 degrees C, light rain"
    assert handoffs["currency"]["tool_calls"][0]["result"] == "100 EUR = 110.00 USD"
    # The brought agent was given its instruction and the facts found so far.
    opening = weather_model.received[0][-1]
    assert isinstance(opening, HumanMessage)
    assert "What is the weather in Paris?" in opening.text and mia.user_id in opening.text
    assert values["outcome"] == "resolved"


def test_cards_are_derived_from_name_description_and_docstring() -> None:
    assert Agent(weather_agent()).card.name == "weather"
    assert Agent(weather_agent(), description="Weather reports.").card.description == "Weather reports."
    assert Agent(weather_agent()).card.description == "The weather agent."  # a graph carries no docstring

    def lookup_order(state: dict[str, Any]) -> dict[str, Any]:
        """Looks orders up by id.

        More detail that routing does not need.
        """
        return state

    card = Agent(RunnableLambda(lookup_order), examples=("where is order 12?",)).card
    assert card.description == "Looks orders up by id."
    (skill,) = card.skills
    assert skill.id == "lookup_order" and skill.examples == ("where is order 12?",)
    assert card.tools == ()

    given = AgentCard(name="meteo", description="Forecasts.", skills=(Skill(id="forecast", description="Forecasts."),))
    assert Agent(weather_agent(), card=given).name == "meteo"

    spec = AgentSpec(name="payments", description="Refunds.", tools=[convert], prompt="Be careful.", model="embedded")
    assert spec.card().tools == ("convert",) and spec.card().instructions == "Be careful."
    assert spec.card().model == "embedded"


def test_unusable_agents_are_refused_when_the_graph_is_built() -> None:
    with pytest.raises(ConfigError, match="no name to route by"):
        build_graph([weather_agent(name=None)])
    with pytest.raises(ConfigError, match=r"two agents are named 'weather'.*rename one"):
        build_graph([weather_agent(), weather_agent()])
    with pytest.raises(ConfigError, match="cannot use a str as an agent"):
        build_graph(["weather"])  # type: ignore[list-item]
    card = AgentCard(name="w", description="x", skills=(Skill(id="x", description="x"),), tools=("get_weather",))
    with pytest.raises(ConfigError, match="cannot check the tool calls of a graph you bring"):
        Agent(weather_agent(), card=card)
    with pytest.raises(ConfigError, match="runs with its own model and prompt"):
        Agent(weather_agent(), card=card.model_copy(update={"tools": (), "model": "embedded"}))
    with pytest.raises(ConfigError, match="empty list of agents"):
        build_graph([])
    with pytest.raises(ConfigError, match="lower_snake_case"):
        build_graph([weather_agent(name="Weather Bot")])

    misspelt = PolicyFile(name="p", deny=(DenyRule(id="r", tools=("conver",), reason="typo"),))
    with pytest.raises(ConfigError, match="the policy file names tools no MCP server provides: conver"):
        build_graph([AgentSpec(name="money", description="x", tools=[convert])], policy=misspelt)

    def undocumented(city: str) -> str:
        return city

    with pytest.raises(ConfigError, match="needs a docstring"):
        AgentSpec(name="w", description="x", tools=[undocumented])


async def test_a_spec_agent_is_built_by_switchboard_and_its_tool_calls_pass_the_guard(
    saver: BaseCheckpointSaver[Any],
) -> None:
    refunded: list[float] = []

    def refund(amount: float) -> str:
        """Refund an amount to the customer."""
        refunded.append(amount)
        return "refunded"

    policy = PolicyFile(name="desk", deny=(DenyRule(id="no-refunds", tools=("refund",), reason="refunds are off"),))
    own = ScriptedChatModel(
        steps=[
            call("refund", amount=40),
            call("get_weather", city="Paris"),  # not its tool: the allow-list refuses it
            handoff("Could not refund.", status="failed"),
        ]
    )
    spec = AgentSpec(
        name="payments", description="Refunds customers.", tools=[refund, convert], prompt="Never guess.", model=own
    )
    supervisor = ScriptedChatModel(steps=[route("payments", "Refund 40 EUR.", skill="payments"), finish()])
    graph = build_graph([spec, weather_agent()], supervisor_model=supervisor, policy=policy, checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "spec"}}
    await graph.ainvoke({"task": "refund 40"}, config)

    supervisor.assert_complete()
    own.assert_complete()
    assert refunded == []  # the deny rule held: the function never ran
    (step,) = trail_of((await graph.aget_state(config)).values, "handoff")
    denied, foreign = step["tool_calls"]
    assert denied["policy"] == "no-refunds: refused" and denied["outcome"] == "refused"
    assert foreign["outcome"] == "refused" and "payments may not use 'get_weather'" in foreign["result"]
    system = str(own.calls[0].messages[0].content)
    assert system.rstrip().endswith("Never guess.")  # the spec's prompt reached its model
    # only its own tools were bound, beside the built-ins every agent gets (handoff, ask_customer)
    assert sorted(own.calls[0].tools) == ["ask_customer", "convert", "handoff", "refund"]


def _raising(message: str) -> RunnableLambda[Any, Any]:
    async def explode(state: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError(message)

    return RunnableLambda(explode)


def _forecast_card(name: str, **fields: Any) -> AgentCard:
    skill = Skill(id="forecast", description="Weather forecasts.")
    return AgentCard(name=name, description="Forecasts the weather.", skills=(skill,), **fields)


async def test_a_brought_agent_that_raises_is_replaced_by_its_fallback(saver: BaseCheckpointSaver[Any]) -> None:
    flaky = Agent(_raising("provider down"), card=_forecast_card("flaky", fallbacks={"forecast": ("backup",)}))
    backup = Agent(weather_agent(), card=_forecast_card("backup"))
    supervisor = ScriptedChatModel(steps=[route("flaky", "Forecast for Paris.", skill="forecast"), finish()])
    graph = build_graph([flaky, backup], supervisor_model=supervisor, checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "flaky"}}
    await graph.ainvoke({"task": "forecast Paris"}, config)

    supervisor.assert_complete()
    values = (await graph.aget_state(config)).values
    first, second = trail_of(values, "handoff")
    assert first["agent"] == "flaky" and first["status"] == "failed" and first["retryable"]
    assert "RuntimeError: provider down" in first["summary"]
    assert second["agent"] == "backup" and second["status"] == "done"
    assert second["assignment"] == first["assignment"]
    reassigned = trail_of(values, "decision")[1]
    assert reassigned["source"] == "reassign" and reassigned["agent"] == "backup"


async def test_a_brought_agent_that_raises_with_no_fallback_goes_to_a_human(
    saver: BaseCheckpointSaver[Any],
) -> None:
    supervisor = ScriptedChatModel(steps=[route("flaky", "Forecast for Paris.", skill="forecast")])
    graph = build_graph(
        [Agent(_raising("boom"), card=_forecast_card("flaky"))], supervisor_model=supervisor, checkpointer=saver
    )
    config: Any = {"configurable": {"thread_id": "alone"}}
    await graph.ainvoke({"task": "forecast Paris"}, config)

    supervisor.assert_complete()
    state = await graph.aget_state(config)
    (pending,) = state.interrupts
    assert "failed with flaky" in pending.value["question"] and "boom" in pending.value["question"]


async def test_an_interrupt_inside_a_brought_graph_pauses_the_thread(saver: BaseCheckpointSaver[Any]) -> None:
    def ask(state: MessagesState) -> dict[str, Any]:
        city = interrupt({"question": "Which city?"})
        return {"messages": [AIMessage(f"Forecast for {city}: sun.")]}

    builder = StateGraph(MessagesState)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    asking = builder.compile(name="asking")
    supervisor = ScriptedChatModel(steps=[route("asking", "Give a forecast.", skill="asking"), finish()])
    graph = build_graph([asking], supervisor_model=supervisor, checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "asks"}}
    await graph.ainvoke({"task": "forecast"}, config)

    paused = await graph.aget_state(config)
    assert [i.value for i in paused.interrupts] == [{"question": "Which city?"}]
    assert trail_of(paused.values, "handoff") == []
    await graph.ainvoke(Command(resume="Oslo"), config)
    supervisor.assert_complete()
    (step,) = trail_of((await graph.aget_state(config)).values, "handoff")
    assert step["status"] == "done" and step["summary"] == "Forecast for Oslo: sun."


async def test_the_default_model_routes_by_cards_when_there_is_no_playbook() -> None:
    """No model given, no playbook: the embedded engine routes by the cards, one step, then finishes."""
    weather_model = fake()  # any call to it would fail: the fake has no messages
    currency_model = fake(tool_call("convert", amount=50, currency="GBP"), AIMessage("50 EUR is 42.50 GBP."))
    currency = create_agent(currency_model, [convert], name="currency")  # LangChain's agent works the same
    graph = build_graph(
        [
            Agent(weather_agent(weather_model), description="Weather reports and forecasts for a city."),
            Agent(currency, description="Converts money between currencies, euros to dollars."),
        ]
    )
    result = await graph.ainvoke({"task": "How much is 50 euros in pounds? Convert the money for me."})

    assert weather_model.received == []
    decisions = trail_of(result, "decision")
    assert [(d["action"], d["agent"]) for d in decisions] == [("route", "currency"), ("finish", None)]
    assert "With no playbook" in decisions[0]["reason"]
    assert decisions[0]["instruction"].startswith("How much is 50 euros in pounds?")
    (step,) = trail_of(result, "handoff")
    assert step["agent"] == "currency" and step["summary"] == "50 EUR is 42.50 GBP."
    assert result["outcome"] == "resolved"


async def test_the_default_model_routes_by_a_cards_examples_the_compact_prompt_leaves_out() -> None:
    """The routing prompt lists skill ids only; the engine escalated a task word for word a skill's example."""
    nurse, billing = (create_agent(fake(AIMessage(answer)), [], name=name)
                      for name, answer in (("nurse", "Rex is vaccinated."), ("billing", "Paid.")))  # fmt: skip
    skill = {"id": "check_vaccines", "description": "Check a pet's shots.", "examples": ["Is my dog vaccinated?"]}
    graph = build_graph([
        Agent(nurse, card=AgentCard.model_validate({"name": "nurse", "description": "Vaccination desk.",
                                                    "skills": [skill]})),
        Agent(billing, card=AgentCard.model_validate({"name": "billing", "description": "Invoices.",
                                                      "skills": [{"id": "charge", "description": "Charge a bill.",
                                                                  "examples": ["Pay my vet bill"]}]})),
    ])  # fmt: skip
    for task, agent in (("Is my dog vaccinated?", "nurse"), ("Pay my vet bill", "billing")):
        result = await graph.ainvoke({"task": task})
        first = trail_of(result, "decision")[0]
        assert (first["action"], first["agent"]) == ("route", agent), task


async def test_a_task_no_card_matches_goes_to_a_human_under_the_default_model(
    saver: BaseCheckpointSaver[Any],
) -> None:
    graph = build_graph([Agent(weather_agent(fake()), description="Weather reports.")], checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "nomatch"}}
    await graph.ainvoke({"task": "Please file my tax return."}, config)
    (pending,) = (await graph.aget_state(config)).interrupts
    assert "cannot tell who should handle this task" in pending.value["question"]


def test_the_embedded_model_without_a_playbook_is_routing_only() -> None:
    from switchboard.models import resolve_model

    model = resolve_model(None)
    assert isinstance(model, EmbeddedChatModel) and model.playbook.name == "empty"


async def test_a_brought_agent_past_its_timeout_is_stopped_and_not_retried_elsewhere() -> None:
    async def dawdle(state: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(30)
        return state

    card = _forecast_card("slow", timeout_s=0.05, fallbacks={"forecast": ("backup",)})
    slow = Agent(RunnableLambda(dawdle), card=card)
    backup = Agent(weather_agent(fake()), card=_forecast_card("backup"))
    supervisor = ScriptedChatModel(steps=[route("slow", "Forecast for Paris.", skill="forecast")])
    result = await build_graph([slow, backup], supervisor_model=supervisor).ainvoke({"task": "forecast"})

    supervisor.assert_complete()
    (step,) = trail_of(result, "handoff")  # the backup was never given the step: the slow one may have acted
    assert step["status"] == "failed" and not step["retryable"]
    assert "did not finish within 0.05s" in step["summary"]
    assert trail_of(result, "decision")[-1]["error"] == "uncertain step"  # a human is asked, not the model


def test_the_graph_package_does_not_depend_on_the_embedded_engine() -> None:
    code = (
        "import sys, switchboard.graph, switchboard.graph.shortlist, switchboard.graph.routing; "
        "print([m for m in sys.modules if m.startswith('switchboard.engine')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


async def test_a_team_built_without_a_toolbox_says_so_at_build_and_at_each_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Cards name MCP tools; with no toolbox every call was refused as 'not available right now', and nothing more."""
    file = tmp_path / "clinic.yaml"
    file.write_text(
        "name: clinic\nagents:\n  - name: nurse\n    description: Vaccination records.\n"
        "    tools: [find_pet]\n    skills: [{id: records, description: Look up a pet.}]\n"
    )
    model = ScriptedChatModel(
        steps=[route("nurse", "look up Rex", skill="records"), finish("looked")],
        agents={"nurse": [call("find_pet", name="Rex"), handoff("Could not look Rex up.", status="failed")]},
    )
    with caplog.at_level("WARNING", logger="switchboard.graph.builder"):
        graph = build_graph(team=load_team(file), model=model, policy=PolicyFile(name="clinic"))
    assert "nurse name MCP tools, but no toolbox was given" in caplog.text
    state = await graph.ainvoke({"task": "Is Rex vaccinated?"}, {"configurable": {"thread_id": "no-tools"}})
    (refused,) = [c for h in state["trail"] if h["kind"] == "handoff" for c in h["tool_calls"]]
    assert refused["outcome"] == "refused" and "built without a toolbox" in refused["result"]
