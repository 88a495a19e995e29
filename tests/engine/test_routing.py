"""Routing decisions over hand-built prompts with the real retail cards."""

from __future__ import annotations

from typing import Any

import pytest

from graph.prompts import routing_messages
from switchboard.engine import EmbeddedChatModel
from tests.engine.engine_kit import route

RETURN_TASK = (
    "Hi, I'm Mia Chen, zip 78701. The headphones from order #W9000001 arrived damaged; "
    "I want to return them and get the refund on my gift card."
)
RETURN_PLAN = [
    ("identify_customer", "customer_service"),
    ("process_return", "finance"),
    ("schedule_pickup", "logistics"),
    ("restock_returns", "inventory"),
    ("issue_refund", "finance"),
    ("record_return_reason", "analytics"),
    ("notify_customer", "customer_service"),
]
IDENTIFIED = {
    "user_id": "mia_chen_4817",
    "order_id": "#W9000001",
    "order_status": "delivered",
    "item_ids": ["7000000001"],
    "payment_method_id": "gift_card_2222",
}


def _done(agent: str, skill: str, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "kind": "handoff",
        "agent": agent,
        "skill": skill,
        "instruction": "...",
        "status": "done",
        "summary": f"{skill} done",
        "facts": facts or {},
        "confidence": 0.9,
    }


@pytest.mark.parametrize(
    ("task", "intent", "first_agent"),
    [
        (RETURN_TASK, "return", "customer_service"),
        (
            "Please cancel order #W9000002, I no longer need it. mia.chen@example.com",
            "cancel",
            "customer_service",
        ),
        (
            "Exchange the blue water bottle I received for the red one.",
            "exchange",
            "customer_service",
        ),
        (
            "Before it ships, change the t-shirt in my pending order to size L.",
            "modify_items",
            "customer_service",
        ),
        (
            "I moved, ship my pending order to 12 Oak St, Austin TX 78701.",
            "change_address",
            "customer_service",
        ),
        (
            "Charge my pending order to my gift card instead of PayPal.",
            "change_payment",
            "customer_service",
        ),
        ("Where is my package? It hasn't arrived yet.", "tracking", "customer_service"),
        ("Do you have the hiking boots in size 10?", "product_question", "inventory"),
        ("What are the most common reasons for returns this month?", "return_trends", "analytics"),
        ("Get me a real person, I don't want a bot.", "human", "customer_service"),
    ],
)
def test_first_hop_of_each_intent(
    model: EmbeddedChatModel, cards: list[dict[str, Any]], task: str, intent: str, first_agent: str
) -> None:
    args = route(model, task, cards)
    assert args["action"] == "route"
    assert args["agent"] == first_agent
    assert f"intent '{intent}'" in args["reason"]
    assert 0 < args["confidence"] <= 1
    assert args["instruction"]


def test_walks_the_return_plan_step_by_step(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    progress: list[dict[str, Any]] = []
    for skill, agent in RETURN_PLAN:
        args = route(model, RETURN_TASK, cards, progress, IDENTIFIED if progress else {})
        assert (args["action"], args["skill"], args["agent"]) == ("route", skill, agent)
        progress.append(_done(agent, skill, IDENTIFIED if skill == "identify_customer" else {}))
    final = route(model, RETURN_TASK, cards, progress, IDENTIFIED)
    assert final["action"] == "finish"
    assert final["agent"] is None


def test_instructions_are_self_contained(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    first = route(model, "My email is mia.chen@example.com. Return order #W9000001 please.", cards)
    assert first["instruction"].startswith(
        "Identify the customer by email mia.chen@example.com and read order #W9000001."
    )
    progress = [_done("customer_service", "identify_customer", IDENTIFIED)]
    second = route(model, RETURN_TASK, cards, progress, IDENTIFIED)
    for fact in ("#W9000001", "7000000001", "gift_card_2222", "mia_chen_4817"):
        assert fact in second["instruction"]


def test_failed_handoff_escalates_naming_agent_and_summary(
    model: EmbeddedChatModel, cards: list[dict[str, Any]]
) -> None:
    failed = {
        **_done("customer_service", "identify_customer"),
        "status": "failed",
        "summary": "No customer was found for email x@example.com.",
    }
    args = route(model, RETURN_TASK, cards, [failed])
    assert args["action"] == "escalate"
    assert "customer_service" in args["reason"]
    assert "No customer was found" in args["reason"]


def test_rejected_handoff_finishes(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    progress = [
        _done("customer_service", "identify_customer", IDENTIFIED),
        {**_done("finance", "process_return"), "status": "rejected", "summary": "policy"},
    ]
    assert route(model, RETURN_TASK, cards, progress, IDENTIFIED)["action"] == "finish"


def test_human_answers(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    task = "Please cancel my order, I no longer need it."
    failed = {
        **_done("customer_service", "identify_customer"),
        "status": "failed",
        "summary": "I cannot identify the customer.",
    }
    question = "customer_service could not complete 'identify_customer'"

    approved = {"kind": "human", "question": question, "approved": True, "note": "ok"}
    args = route(model, task, cards, [failed, approved])
    assert args["action"] == "finish"
    assert "handed over to a human" in args["reason"].lower()

    declined = {"kind": "human", "question": question, "approved": False, "note": ""}
    assert route(model, task, cards, [failed, declined])["action"] == "finish"

    informed = {
        "kind": "human",
        "question": question,
        "approved": True,
        "note": "Her email is mia.chen@example.com",
    }
    args = route(model, task, cards, [failed, informed])
    assert (args["action"], args["skill"]) == ("route", "identify_customer")
    assert "mia.chen@example.com" in args["instruction"]


def test_skill_nobody_offers_escalates(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    without_finance = [c for c in cards if c["name"] not in {"finance", "finance_backup"}]
    progress = [_done("customer_service", "identify_customer", IDENTIFIED)]
    args = route(model, RETURN_TASK, without_finance, progress, IDENTIFIED)
    assert args["action"] == "escalate"
    assert "process_return" in args["reason"]


def test_routes_to_first_agent_offering_the_skill(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    backup = {**next(c for c in cards if c["name"] == "finance"), "name": "finance_backup"}
    progress = [_done("customer_service", "identify_customer", IDENTIFIED)]
    assert route(model, RETURN_TASK, [*cards, backup], progress, IDENTIFIED)["agent"] == "finance"
    assert route(model, RETURN_TASK, [backup, *cards], progress, IDENTIFIED)["agent"] == ("finance_backup")
    refused = route(
        model,
        RETURN_TASK,
        [*cards, backup],
        progress,
        IDENTIFIED,
        feedback="Agent 'finance' is overloaded; choose another agent.",
    )
    assert refused["agent"] == "finance_backup"


def test_feedback_listing_every_agent_keeps_a_valid_choice(
    model: EmbeddedChatModel, cards: list[dict[str, Any]]
) -> None:
    names = ", ".join(c["name"] for c in cards)
    args = route(model, RETURN_TASK, cards, feedback=f"Unknown agent 'billing'. Choose one of: {names}.")
    assert (args["action"], args["agent"]) == ("route", "customer_service")
    assert "billing" in args["reason"]


def test_feedback_refusing_the_only_agent_escalates(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    args = route(
        model,
        "Do you have the hiking boots in size 10?",
        cards,
        feedback="inventory is unavailable right now.",
    )
    assert args["action"] == "escalate"
    assert "inventory" in args["reason"]


def test_facts_switch_exchange_to_modify_when_order_is_pending(
    model: EmbeddedChatModel, cards: list[dict[str, Any]]
) -> None:
    task = "Exchange the t-shirt in order #W9000002 for size L."
    facts = {**IDENTIFIED, "order_id": "#W9000002", "order_status": "pending"}
    progress = [
        _done("customer_service", "identify_customer", facts),
        _done("inventory", "product_lookup", {"new_item_ids": ["7000000022"]}),
    ]
    args = route(model, task, cards, progress, facts)
    assert (args["action"], args["skill"], args["agent"]) == ("route", "modify_items", "finance")
    assert "modify_items" in args["reason"]


def test_facts_that_break_the_plan_escalate(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    facts = {**IDENTIFIED, "order_status": "delivered"}
    progress = [_done("customer_service", "identify_customer", facts)]
    args = route(model, "Cancel my order #W9000001 please.", cards, progress, facts)
    assert args["action"] == "escalate"
    assert "'delivered'" in args["reason"] and "pending" in args["reason"]


def test_later_status_changes_do_not_break_requirements(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    progress = [
        _done("customer_service", "identify_customer", IDENTIFIED),
        _done("finance", "process_return", {"order_status": "return requested"}),
    ]
    context = {**IDENTIFIED, "order_status": "return requested"}
    assert route(model, RETURN_TASK, cards, progress, context)["skill"] == "schedule_pickup"


def test_gibberish_escalates_with_low_confidence(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    args = route(model, "qwxz plorb fnord", cards)
    assert args["action"] == "escalate"
    assert args["confidence"] <= 0.4


def test_ambiguous_task_gets_lower_confidence(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    clear = route(model, "Please cancel my order #W9000002, I ordered it by mistake.", cards)
    vague = route(model, "I have a question about my order.", cards)
    assert vague["confidence"] < clear["confidence"]


def test_approving_the_graphs_own_question_carries_on(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    progress = [
        _done("customer_service", "identify_customer", IDENTIFIED),
        {
            "kind": "human",
            "question": "The run reached its limit of 12 agent steps. Continue?",
            "approved": True,
            "note": "",
        },
    ]
    args = route(model, RETURN_TASK, cards, progress, IDENTIFIED)
    assert (args["action"], args["skill"]) == ("route", "process_return")


def test_structured_output_with_the_graphs_agent_enum(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    from graph.decision import decision_schema

    schema = decision_schema([c["name"] for c in cards])
    out = model.with_structured_output(schema, include_raw=True).invoke(routing_messages(RETURN_TASK, cards, [], {}))
    assert isinstance(out, dict) and out["parsing_error"] is None
    assert out["parsed"].agent == "customer_service"
