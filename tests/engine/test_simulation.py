"""Whole runs: the engine as supervisor and as every agent, over the real shop.

This is the graph's loop without the graph: route, run the agent to its
handoff, merge its facts, route again, until the supervisor finishes or asks
a human. The tools are the real retail operations on this test's own copy of
the demo data, so each test checks what the shop holds afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.engine_kit import RetailTeam
from tests.engine.retail_shop import MIA

PENDING = MIA.orders["pending"]  # wireless earbuds and an electric kettle


def skills(progress: list[dict[str, Any]]) -> list[str]:
    return [p["skill"] for p in progress if p["status"] == "done"]


def test_return_runs_the_whole_plan(team: RetailTeam, headphones: dict[str, Any]) -> None:
    task = (
        f"Hi, I'm Mia Chen, zip {MIA.zip}. The headphones I received arrived damaged, I want to "
        "return them and get my money back on my gift card."
    )
    progress, context, decisions = team.simulate(task)
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
    shop = team.shop
    order = shop.order(headphones["order_id"])
    assert order["status"] == "returned"
    price = shop.item(headphones["order_id"], "Headphones")["price"]
    gift_card = MIA.payment_methods["gift_card"]
    assert order["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": price,
        "payment_method_id": gift_card,
    }
    assert shop.user(MIA.user_id)["payment_methods"][gift_card]["balance"] == round(MIA.gift_card_balance + price, 2)
    assert context["return_reason_recorded"] == "arrived damaged"
    assert {p["agent"] for p in progress} == {"customer_service", "logistics", "inventory", "finance", "analytics"}
    name_zip = {"first_name": "Mia", "last_name": "Chen", "zip": MIA.zip}
    assert shop.calls[0] == ("find_user_id_by_name_zip", name_zip)


def test_exchange_runs(team: RetailTeam, bottle: dict[str, Any]) -> None:
    task = "Exchange the black water bottle I received for the white one. mia.chen@example.com"
    progress, _, _ = team.simulate(task)
    assert [(p["agent"], p["skill"]) for p in progress] == [
        ("finance", "process_exchange"),
        ("logistics", "schedule_pickup"),
        ("customer_service", "notify_customer"),
    ]
    shop = team.shop
    assert "get_product_details" in shop.tools_called()  # finance resolved the variant itself
    white = shop.variant(shop.item(bottle["order_id"], "Water Bottle"), color="white")
    order = shop.order(bottle["order_id"])
    assert order["exchange_new_items"] == [white["item_id"]]
    assert order["return_pickup"]["status"] == "scheduled"


def test_cancel_runs(team: RetailTeam) -> None:
    progress, _, _ = team.simulate(f"Cancel order {PENDING}, I ordered by mistake.")
    assert [(p["agent"], p["skill"]) for p in progress] == [
        ("finance", "cancel_order"),
        ("customer_service", "notify_customer"),
    ]
    order = team.shop.order(PENDING)
    assert order["status"] == "cancelled"
    assert order["cancel_reason"] == "ordered by mistake"


@pytest.mark.parametrize(
    "task",
    [
        f"I'd like to exchange the kettle in order {PENDING} for the silver one.",
        "Exchange the kettle I bought for the silver one. mia.chen@example.com",
    ],
)
def test_exchange_of_a_pending_order_becomes_an_item_change(team: RetailTeam, task: str) -> None:
    progress, _, decisions = team.simulate(task)
    assert [(p["skill"], p["status"]) for p in progress] == [
        ("process_exchange", "failed"),
        ("modify_items", "done"),
        ("notify_customer", "done"),
    ]
    assert "call for 'modify_items'" in decisions[1]["reason"]
    assert "exchange_delivered_order_items" not in team.shop.tools_called()
    order = team.shop.order(PENDING)
    assert order["status"] == "pending (item modified)"
    kettle = next(i for i in order["items"] if i["name"] == "Electric Kettle")
    assert kettle["options"]["color"] == "silver"


def test_escalation_answered_with_new_information_resumes(team: RetailTeam) -> None:
    def human(decision: dict[str, Any]) -> dict[str, Any]:
        return {"approved": True, "note": "Her email is mia.chen@example.com"}

    progress, _, decisions = team.simulate("Please cancel my pending order, I no longer need it.", on_escalate=human)
    assert [d["action"] for d in decisions] == ["route", "escalate", "route", "route", "finish"]
    assert team.shop.order(PENDING)["status"] == "cancelled"
    assert progress[0]["status"] == "failed" and progress[1]["kind"] == "human"


def test_failed_step_escalates_and_stops(team: RetailTeam) -> None:
    _, _, decisions = team.simulate("Return the headphones. nobody@example.com")
    assert decisions[-1]["action"] == "escalate"
    assert "User with email 'nobody@example.com' not found" in decisions[-1]["reason"]


def test_simple_desk_tasks(team: RetailTeam) -> None:
    progress, _, _ = team.simulate("Which colours does the water bottle come in?")
    assert [(p["agent"], p["status"]) for p in progress] == [("inventory", "done")]
    progress, _, _ = team.simulate("Show me the return trends this month.")
    assert [(p["agent"], p["status"]) for p in progress] == [("analytics", "done")]
    progress, _, _ = team.simulate("Where is my package? mia.chen@example.com")
    assert [(p["agent"], p["skill"]) for p in progress] == [("logistics", "track_shipment")]
    laptop_order = team.shop.order(MIA.orders["processed"])  # the one order still on its way
    assert progress[-1]["facts"]["tracking_ids"] == laptop_order["fulfillments"][0]["tracking_id"]
    progress, _, _ = team.simulate("Which orders do I have? My email is mia.chen@example.com")
    assert [(p["agent"], p["skill"]) for p in progress] == [("customer_service", "identify_customer")]
