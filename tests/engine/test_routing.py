"""Routing decisions over hand-built prompts with the real retail cards."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.engine import EmbeddedChatModel
from switchboard.graph.prompts import routing_messages
from tests.engine.engine_kit import route

RETURN_TASK = (
    "Hi, I'm Mia Chen, zip 78701. The headphones from order #W9000001 arrived damaged; "
    "I want to return them and get the refund on my gift card."
)
RETURN_PLAN = [
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
    "found_status": "delivered",
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
        (RETURN_TASK, "return", "finance"),
        ("Please cancel order #W9000002, I no longer need it. mia.chen@example.com", "cancel", "finance"),
        ("Exchange the blue water bottle I received for the red one.", "exchange", "finance"),
        ("Before it ships, change the t-shirt in my pending order to size L.", "modify_items", "finance"),
        ("I moved, ship my pending order to 12 Oak St, Austin TX 78701.", "change_address", "logistics"),
        ("Charge my pending order to my gift card instead of PayPal.", "change_payment", "finance"),
        ("Where is my package? It hasn't arrived yet.", "tracking", "logistics"),
        ("Please book a courier to collect my return from order #W9000001.", "pickup", "logistics"),
        ("The return for #W9000001 arrived at the warehouse; restock it.", "restock", "inventory"),
        ("Return for #W9000001 received and checked: issue the refund.", "refund", "finance"),
        ("Log the return reason for #W9000001: arrived damaged.", "record_reason", "analytics"),
        ("What is the status of my order #W9000001?", "account", "customer_service"),
        ("Let the customer of #W9000001 know the pickup is tomorrow.", "notify", "customer_service"),
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
        progress.append(_done(agent, skill, IDENTIFIED if skill == "process_return" else {}))
    final = route(model, RETURN_TASK, cards, progress, IDENTIFIED)
    assert final["action"] == "finish"
    assert final["agent"] is None


def test_instructions_are_self_contained(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    first = route(model, "My email is mia.chen@example.com. Return order #W9000001 please.", cards)
    assert first["instruction"].startswith(
        "Identify the customer by email mia.chen@example.com and read order #W9000001; then request the return"
    )
    progress = [_done("finance", "process_return", IDENTIFIED)]
    second = route(model, RETURN_TASK, cards, progress, IDENTIFIED)
    assert second["skill"] == "schedule_pickup"
    assert second["instruction"].startswith("Schedule a courier pickup")  # already identified: no look-up
    assert "#W9000001" in second["instruction"]
    notify = route(model, RETURN_TASK, cards, [*progress, *(_done(a, s) for s, a in RETURN_PLAN[1:-1])], IDENTIFIED)
    assert notify["skill"] == "notify_customer"
    for fact in ("#W9000001", "mia_chen_4817"):
        assert fact in notify["instruction"]


def test_owner_instruction_names_the_wanted_variant(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    args = route(model, "Exchange the blue water bottle I received for the red one. mia.chen@example.com", cards)
    assert (args["agent"], args["skill"]) == ("finance", "process_exchange")
    assert args["instruction"].startswith("Identify the customer by email mia.chen@example.com and find their")
    assert "'the red one'" in args["instruction"]


def test_failed_handoff_escalates_naming_agent_and_summary(
    model: EmbeddedChatModel, cards: list[dict[str, Any]]
) -> None:
    failed = {
        **_done("finance", "process_return"),
        "status": "failed",
        "summary": "No customer was found for email x@example.com.",
    }
    args = route(model, RETURN_TASK, cards, [failed])
    assert args["action"] == "escalate"
    assert "finance" in args["reason"]
    assert "No customer was found" in args["reason"]


def test_rejected_handoff_finishes(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    progress = [{**_done("finance", "process_return"), "status": "rejected", "summary": "policy"}]
    assert route(model, RETURN_TASK, cards, progress, IDENTIFIED)["action"] == "finish"


def test_human_answers(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    task = "Please cancel my order, I no longer need it."
    failed = {
        **_done("finance", "cancel_order"),
        "status": "failed",
        "summary": "I cannot identify the customer.",
    }
    question = "finance could not complete 'cancel_order'"

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
    assert (args["action"], args["agent"], args["skill"]) == ("route", "finance", "cancel_order")
    assert "mia.chen@example.com" in args["instruction"]


def test_skill_nobody_offers_escalates(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    without_finance = [c for c in cards if c["name"] not in {"finance", "finance_backup"}]
    args = route(model, RETURN_TASK, without_finance)
    assert args["action"] == "escalate"
    assert "process_return" in args["reason"]


def test_routes_to_first_agent_offering_the_skill(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    backup = {**next(c for c in cards if c["name"] == "finance"), "name": "finance_backup"}
    cards = [c for c in cards if c["name"] != "finance_backup"]
    assert route(model, RETURN_TASK, [*cards, backup])["agent"] == "finance"
    assert route(model, RETURN_TASK, [backup, *cards])["agent"] == "finance_backup"
    refused = route(
        model,
        RETURN_TASK,
        [*cards, backup],
        feedback="Agent 'finance' is overloaded; choose another agent.",
    )
    assert refused["agent"] == "finance_backup"


def test_feedback_listing_every_agent_keeps_a_valid_choice(
    model: EmbeddedChatModel, cards: list[dict[str, Any]]
) -> None:
    names = ", ".join(c["name"] for c in cards)
    args = route(model, RETURN_TASK, cards, feedback=f"Unknown agent 'billing'. Choose one of: {names}.")
    assert (args["action"], args["agent"]) == ("route", "finance")
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


def test_owner_failing_on_a_pending_order_switches_exchange_to_modify(
    model: EmbeddedChatModel, cards: list[dict[str, Any]]
) -> None:
    task = "Exchange the t-shirt in order #W9000002 for size L."
    found = {**IDENTIFIED, "order_id": "#W9000002", "order_status": "pending", "found_status": "pending"}
    failed = {
        **_done("finance", "process_exchange", found),
        "status": "failed",
        "summary": "Order #W9000002 is 'pending', but this needs it to be delivered; nothing was changed.",
    }
    args = route(model, task, cards, [failed])
    assert (args["action"], args["skill"], args["agent"]) == ("route", "modify_items", "finance")
    assert "call for 'modify_items'" in args["reason"]
    progress = [failed, _done("finance", "modify_items", {**found, "order_status": "pending (item modified)"})]
    assert route(model, task, cards, progress, found)["skill"] == "notify_customer"


def test_failure_within_the_switched_plan_escalates(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    task = "Exchange the t-shirt in order #W9000002 for size L."
    found = {**IDENTIFIED, "order_id": "#W9000002", "found_status": "pending"}
    first = {**_done("finance", "process_exchange", found), "status": "failed", "summary": "pending"}
    second = {**_done("finance", "modify_items", found), "status": "failed", "summary": "no size L left"}
    args = route(model, task, cards, [first, second])
    assert args["action"] == "escalate"
    assert "no size L left" in args["reason"]


def test_owner_failing_on_the_wrong_status_escalates(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    failed = {
        **_done("finance", "cancel_order", IDENTIFIED),
        "status": "failed",
        "summary": "Order #W9000001 is 'delivered', but this needs it to be pending; nothing was changed.",
    }
    args = route(model, "Cancel my order #W9000001 please.", cards, [failed])
    assert args["action"] == "escalate"
    assert "'delivered'" in args["reason"] and "pending" in args["reason"]


def test_later_status_changes_do_not_break_requirements(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    progress = [_done("finance", "process_return", {**IDENTIFIED, "order_status": "return requested"})]
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
        _done("finance", "process_return", IDENTIFIED),
        {
            "kind": "human",
            "question": "The run reached its limit of 12 agent steps. Continue?",
            "approved": True,
            "note": "",
        },
    ]
    args = route(model, RETURN_TASK, cards, progress, IDENTIFIED)
    assert (args["action"], args["skill"]) == ("route", "schedule_pickup")


def test_structured_output_with_the_graphs_agent_enum(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    from switchboard.graph.decision import decision_schema

    schema = decision_schema([c["name"] for c in cards])
    out = model.with_structured_output(schema, include_raw=True).invoke(routing_messages(RETURN_TASK, cards, [], {}))
    assert isinstance(out, dict) and out["parsing_error"] is None
    assert out["parsed"].agent == "finance"


def test_a_failed_step_without_a_skill_is_not_called_none(
    model: EmbeddedChatModel, cards: list[dict[str, Any]]
) -> None:
    """A pinned rule's step has no skill: the question read "could not complete 'None'" (outside review)."""
    failed = {**_done("finance", "x"), "skill": None, "status": "failed", "summary": "The invoice was not found."}
    args = route(model, "Please look into invoice INV-99999.", cards, [failed])
    assert args["action"] == "escalate" and "'None'" not in args["reason"]
    assert "finance could not complete its step: The invoice was not found." in args["reason"]
