"""The embedded model as a LangChain chat model: binding, structured output, loading."""

from __future__ import annotations

from typing import Any, cast

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from switchboard.domains.retail.playbook import PLAYBOOK
from switchboard.engine import EMPTY_PLAYBOOK, EmbeddedChatModel, Playbook, load_playbook
from switchboard.errors import ConfigError
from switchboard.graph.prompts import routing_messages
from tests.engine.engine_kit import RoutingDecision, route

TASK = "Please cancel my order #W9000002, I ordered by mistake. mia.chen@example.com"


def test_llm_type_and_playbook_spec_string() -> None:
    model = EmbeddedChatModel(playbook=cast(Any, "switchboard.domains.retail.playbook:PLAYBOOK"))
    assert model._llm_type == "switchboard-embedded"
    assert model.playbook is PLAYBOOK
    assert EmbeddedChatModel().playbook is EMPTY_PLAYBOOK


def test_structured_output_round_trip(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    structured = model.with_structured_output(RoutingDecision, include_raw=True)
    out = structured.invoke(routing_messages(TASK, cards, [], {}))
    assert isinstance(out, dict)
    assert out["parsing_error"] is None
    decision = out["parsed"]
    assert isinstance(decision, RoutingDecision)
    assert (decision.action, decision.agent, decision.skill) == ("route", "finance", "cancel_order")
    raw = out["raw"]
    assert isinstance(raw, AIMessage) and raw.content
    assert raw.tool_calls[0]["name"] == "RoutingDecision"
    assert raw.tool_calls[0]["type"] == "tool_call"


def test_structured_output_without_raw(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    decision = model.with_structured_output(RoutingDecision).invoke(routing_messages(TASK, cards, [], {}))
    assert isinstance(decision, RoutingDecision)
    assert "mia.chen@example.com" in decision.instruction


def test_same_input_same_output_including_ids(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    bound = model.bind_tools([RoutingDecision])
    messages = routing_messages(TASK, cards, [], {})
    first, second = bound.invoke(messages), bound.invoke(messages)
    assert first.content == second.content
    assert first.tool_calls == second.tool_calls
    other = bound.invoke(routing_messages(TASK + " Thanks!", cards, [], {}))
    assert other.tool_calls[0]["id"] != first.tool_calls[0]["id"]


async def test_async_invoke_matches_sync(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    bound = model.bind_tools([RoutingDecision])
    messages = routing_messages(TASK, cards, [], {})
    assert (await bound.ainvoke(messages)).tool_calls == bound.invoke(messages).tool_calls


def test_unknown_tools_raise_config_error(model: EmbeddedChatModel) -> None:
    def lookup(order_id: str) -> str:
        """Look an order up."""
        return order_id

    with pytest.raises(ConfigError, match="RoutingDecision"):
        model.bind_tools([lookup]).invoke([HumanMessage("hello")])


def test_routing_without_tagged_blocks_treats_text_as_task(model: EmbeddedChatModel) -> None:
    message = model.bind_tools([RoutingDecision]).invoke([HumanMessage("talk to a human")])
    # No agents on offer: the engine cannot route, so it asks a human.
    assert message.tool_calls[0]["args"]["action"] == "escalate"


def test_empty_playbook_routes_by_capability(cards: list[dict[str, Any]]) -> None:
    model = EmbeddedChatModel()
    args = route(model, "Is the 1000ml stainless steel bottle in stock?", cards)
    assert (args["action"], args["agent"], args["skill"]) == (
        "route",
        "inventory",
        "product_lookup",
    )
    assert args["confidence"] <= 0.6


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("switchboard.domains.retail.playbook", "module:ATTRIBUTE"),
        ("no_such_module_xyz:PLAYBOOK", "Cannot import"),
        ("switchboard.domains.retail.playbook:NOPE", "not a Playbook"),
        ("switchboard.domains.retail.playbook_intents:RETURN", "not a Playbook"),
    ],
)
def test_load_playbook_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_playbook(spec)


def test_load_playbook_and_bad_spec_in_model() -> None:
    assert load_playbook("switchboard.domains.retail.playbook:PLAYBOOK") is PLAYBOOK
    with pytest.raises(ConfigError):
        EmbeddedChatModel(playbook=cast(Any, "switchboard.domains.retail.playbook:NOPE"))


def test_playbook_validates_its_intents() -> None:
    from switchboard.engine import Intent

    with pytest.raises(ConfigError, match="unknown intent"):
        Playbook("x", intents=(Intent("a", ("s",), ("ex",), otherwise="b"),))
    with pytest.raises(ConfigError, match="duplicate intent"):
        Playbook("x", intents=(Intent("a", ("s",), ("ex",)), Intent("a", ("s",), ("ex",))))
