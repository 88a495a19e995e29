"""The compact routing context (issue 8): what the supervisor is sent, and that the engine reads it whole.

The prompt sends each fact once (a done handoff's facts in ``<progress>``,
only earlier facts in ``<context>``) and each card by name, first sentence
and skill ids. The embedded engine must rebuild the same memory and cards
from it, and the schemas the models are shown must stay valid, small JSON
schemas.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from langchain_core.utils.function_calling import convert_to_openai_tool

from switchboard.agents.findings import HandoffArgs, handoff_tool_schema
from switchboard.agents.questions import AskCustomerArgs, ask_customer_tool_schema
from switchboard.engine.parse import read_routing
from switchboard.graph.decision import decision_schema
from switchboard.graph.prompts import routing_messages
from switchboard.graph.routing import context_view, progress_view


def _handoff(agent: str, status: str, **facts: Any) -> dict[str, Any]:
    return {
        "kind": "handoff",
        "agent": agent,
        "skill": "s",
        "instruction": f"do {agent}'s part",
        "status": status,
        "summary": f"{agent} {status}",
        "facts": facts,
        "confidence": 0.9,
        "turn": 0,
    }


def test_progress_keeps_the_instruction_only_of_steps_that_did_not_come_back_done() -> None:
    view = progress_view([_handoff("finance", "done", user_id="u1"), _handoff("logistics", "failed")])  # type: ignore[list-item]
    assert "instruction" not in view[0] and view[1]["instruction"] == "do logistics's part"
    assert "kind" not in view[0]  # a handoff is the default entry; human answers say "human"


def test_context_sends_only_facts_progress_does_not_show_and_the_engine_rebuilds_the_memory() -> None:
    trail = [_handoff("finance", "done", user_id="u1", order_id="o1"), _handoff("logistics", "failed", carrier="x")]
    memory = {"email": "a@b.c", "user_id": "u1", "order_id": "o1"}  # email: from an earlier turn
    progress = progress_view(trail)  # type: ignore[arg-type]
    sent = context_view(memory, progress)
    assert sent == {"email": "a@b.c"}  # user_id and order_id are in the done handoff already
    messages = routing_messages("task", [], progress, sent)
    assert read_routing(messages).context == memory  # a failed step's facts never join the memory


def test_a_fact_a_later_step_changed_is_read_back_with_its_latest_value() -> None:
    trail = [_handoff("a", "done", status_of="requested"), _handoff("b", "done", status_of="received")]
    progress = progress_view(trail)  # type: ignore[arg-type]
    memory = {"status_of": "received"}
    assert read_routing(routing_messages("t", [], progress, context_view(memory, progress))).context == memory


def test_the_engine_reads_cards_by_skill_id_with_descriptions_when_sent() -> None:
    cards = [{"name": "finance", "description": "Billing.", "skills": ["quote"], "writes": ["refund"]}]
    skills = [{"id": "refund", "description": "Refund returned items.", "examples": ["Refund me."]}]
    read = read_routing(routing_messages("t", cards, [], {}, skills=skills)).agents[0]["skills"]
    assert read[0] == {"id": "quote"}
    assert read[1] == {
        "id": "refund",
        "description": "Refund returned items.",
        "examples": ["Refund me."],
        "writes": True,
    }


def test_the_schemas_models_are_shown_are_small_valid_json_schemas() -> None:
    decision = convert_to_openai_tool(decision_schema(("finance", "logistics")))["function"]
    for function in (decision, handoff_tool_schema()["function"], ask_customer_tool_schema()["function"]):
        Draft202012Validator.check_schema(function["parameters"])
        text = json.dumps(function["parameters"])
        assert "title" not in function["parameters"] and '"anyOf"' not in text and "default" not in text
    assert decision["name"] == "RoutingDecision"
    assert decision["parameters"]["properties"]["agent"]["enum"] == ["finance", "logistics"]
    assert set(handoff_tool_schema()["function"]["parameters"]["properties"]) == set(HandoffArgs.model_fields)
    assert list(ask_customer_tool_schema()["function"]["parameters"]["properties"]) == list(
        AskCustomerArgs.model_fields
    )
