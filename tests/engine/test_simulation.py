"""Whole runs: the engine as supervisor and as every agent, over the fake store.

This is the graph's loop without the graph: route, run the agent to its
handoff, merge its facts, route again, until the supervisor finishes or asks
a human.
"""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.engine import EmbeddedChatModel
from tests.engine.engine_kit import FakeStore, simulate


def skills(progress: list[dict[str, Any]]) -> list[str]:
    return [p["skill"] for p in progress if p["status"] == "done"]


def test_return_runs_the_whole_plan(model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]) -> None:
    task = (
        "Hi, I'm Mia Chen, zip 78701. The headphones I received arrived damaged, I want to "
        "return them and get my money back on my gift card."
    )
    progress, context, decisions = simulate(model, store, cards, task)
    assert progress[0]["agent"] == "finance"
    assert skills(progress) == [
        "process_return",
        "schedule_pickup",
        "restock_returns",
        "issue_refund",
        "record_return_reason",
        "notify_customer",
    ]
    assert decisions[-1]["action"] == "finish"
    order = store.orders["#W9000001"]
    assert order["status"] == "returned"
    assert order["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": 120.0,
        "payment_method_id": "gift_card_2222",
    }
    assert context["return_reason_recorded"] == "arrived damaged"
    assert {p["agent"] for p in progress} == {"customer_service", "logistics", "inventory", "finance", "analytics"}
    assert store.calls[0] == ("find_user_id_by_name_zip", {"first_name": "Mia", "last_name": "Chen", "zip": "78701"})


def test_exchange_and_cancel_runs(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    store = FakeStore()
    progress, _, _ = simulate(
        model,
        store,
        cards,
        "Exchange the blue water bottle I received for the red one. mia.chen@example.com",
    )
    assert [(p["agent"], p["skill"]) for p in progress] == [
        ("finance", "process_exchange"),
        ("logistics", "schedule_pickup"),
        ("customer_service", "notify_customer"),
    ]
    assert "get_product_details" in [name for name, _ in store.calls]  # finance resolved the variant itself
    assert store.orders["#W9000001"]["exchange_new_items"] == ["7000000012"]
    assert store.orders["#W9000001"]["return_pickup"]["status"] == "scheduled"
    store = FakeStore()
    progress, _, _ = simulate(model, store, cards, "Cancel order #W9000002, I ordered by mistake.")
    assert [(p["agent"], p["skill"]) for p in progress] == [
        ("finance", "cancel_order"),
        ("customer_service", "notify_customer"),
    ]
    assert store.orders["#W9000002"]["status"] == "cancelled"
    assert store.orders["#W9000002"]["cancel_reason"] == "ordered by mistake"


@pytest.mark.parametrize(
    "task",
    [
        "I'd like to exchange the t-shirt in order #W9000002 for size L.",
        "Exchange the t-shirt I bought for size L. mia.chen@example.com",
    ],
)
def test_exchange_of_a_pending_order_becomes_an_item_change(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]], task: str
) -> None:
    progress, _, decisions = simulate(model, store, cards, task)
    assert [(p["skill"], p["status"]) for p in progress] == [
        ("process_exchange", "failed"),
        ("modify_items", "done"),
        ("notify_customer", "done"),
    ]
    assert "call for 'modify_items'" in decisions[1]["reason"]
    assert "exchange_delivered_order_items" not in [name for name, _ in store.calls]
    assert store.orders["#W9000002"]["status"] == "pending (item modified)"


def test_escalation_answered_with_new_information_resumes(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    def human(decision: dict[str, Any]) -> dict[str, Any]:
        return {"approved": True, "note": "Her email is mia.chen@example.com"}

    progress, _, decisions = simulate(
        model,
        store,
        cards,
        "Please cancel my pending order, I no longer need it.",
        on_escalate=human,
    )
    assert [d["action"] for d in decisions] == ["route", "escalate", "route", "route", "finish"]
    assert store.orders["#W9000002"]["status"] == "cancelled"
    assert progress[0]["status"] == "failed" and progress[1]["kind"] == "human"


def test_failed_step_escalates_and_stops(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    _, _, decisions = simulate(model, store, cards, "Return the headphones. nobody@example.com")
    assert decisions[-1]["action"] == "escalate"
    assert "user not found" in decisions[-1]["reason"]


def test_simple_desk_tasks(model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]) -> None:
    progress, _, _ = simulate(model, store, cards, "Which colours does the water bottle come in?")
    assert [(p["agent"], p["status"]) for p in progress] == [("inventory", "done")]
    progress, _, _ = simulate(model, store, cards, "Show me the return trends this month.")
    assert [(p["agent"], p["status"]) for p in progress] == [("analytics", "done")]
    progress, _, _ = simulate(model, store, cards, "Where is my package? mia.chen@example.com")
    assert [(p["agent"], p["skill"]) for p in progress] == [("logistics", "track_shipment")]
    assert progress[-1]["facts"]["tracking_ids"] == ["880000000003"]
    progress, _, _ = simulate(model, store, cards, "Which orders do I have? My email is mia.chen@example.com")
    assert [(p["agent"], p["skill"]) for p in progress] == [("customer_service", "identify_customer")]
