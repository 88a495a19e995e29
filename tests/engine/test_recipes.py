"""Agent mode: the retail recipes driven by τ-bench-shaped tool results."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.engine import EmbeddedChatModel
from tests.engine.engine_kit import MIA, FakeStore, card, run_agent, tools_called


def test_identify_by_email_with_named_order_and_gift_card(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    task = (
        "My email is Mia.Chen@example.com. Please return the headphones from order #W9000001, "
        "refund to my gift card. They arrived damaged."
    )
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "customer_service"),
        task=task,
        instruction="Identify the customer.",
        skill="identify_customer",
        context={},
    )
    assert handoff["status"] == "done"
    facts = handoff["facts"]
    assert {k: facts[k] for k in ("user_id", "order_id", "order_status", "item_ids")} == {
        k: MIA[k] for k in ("user_id", "order_id", "order_status", "item_ids")
    }
    assert facts["payment_method_id"] == "gift_card_2222"
    assert handoff["facts"]["reason"] == "arrived damaged"
    assert tools_called(store) == ["find_user_id_by_email", "get_user_details", "get_order_details"]


def test_identify_by_name_and_zip_finds_the_delivered_order(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    task = "Hi, this is Mia Chen, zip 78701. I want to return the water bottle I received."
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "customer_service"),
        task=task,
        instruction="Identify the customer.",
        skill="identify_customer",
        context={},
    )
    facts = handoff["facts"]
    assert (facts["order_id"], facts["item_ids"]) == ("#W9000001", ["7000000011"])
    assert facts["payment_method_id"] == "credit_card_1111"  # the original payment method
    assert tools_called(store)[0] == "find_user_id_by_name_zip"


def test_identify_by_order_id_alone(model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "customer_service"),
        task="Cancel order #W9000002, ordered by mistake.",
        instruction="Identify the customer.",
        skill="identify_customer",
        context={},
    )
    assert handoff["facts"]["user_id"] == "mia_chen_4817"
    assert handoff["facts"]["order_status"] == "pending"


def test_identify_without_any_identity_fails_clearly(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "customer_service"),
        task="Please cancel my order.",
        instruction="Identify the customer.",
        skill="identify_customer",
        context={},
    )
    assert handoff["status"] == "failed"
    assert "no email" in handoff["summary"]
    assert store.calls == []


def test_process_return_quotes_then_writes_once(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "finance"),
        task="Return my headphones.",
        instruction="Request the return.",
        skill="process_return",
        context=MIA,
    )
    assert handoff["status"] == "done"
    assert handoff["facts"]["refund_amount"] == 120.0
    assert handoff["facts"]["order_status"] == "return requested"
    assert tools_called(store) == [
        "get_order_details",
        "quote_return_refund",
        "return_delivered_order_items",
    ]
    assert store.orders["#W9000001"]["return_items"] == ["7000000001"]


def test_precondition_checked_before_writing(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    context = {**MIA, "order_id": "#W9000002"}
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "finance"),
        task="Return my t-shirt.",
        instruction="Request the return.",
        skill="process_return",
        context=context,
    )
    assert handoff["status"] == "failed"
    assert "'pending'" in handoff["summary"]
    assert tools_called(store) == ["get_order_details"]


@pytest.mark.parametrize(
    ("task", "reason", "confidence"),
    [
        ("Cancel order #W9000002, I ordered it by mistake.", "ordered by mistake", 0.9),
        ("Cancel order #W9000002.", "no longer needed", 0.75),
    ],
)
def test_cancel_order(
    model: EmbeddedChatModel,
    store: FakeStore,
    cards: list[dict[str, Any]],
    task: str,
    reason: str,
    confidence: float,
) -> None:
    context = {"user_id": "mia_chen_4817", "order_id": "#W9000002", "order_status": "pending"}
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "finance"),
        task=task,
        instruction="Cancel the order.",
        skill="cancel_order",
        context=context,
    )
    assert handoff["status"] == "done"
    assert store.orders["#W9000002"]["cancel_reason"] == reason
    assert handoff["confidence"] == confidence


def test_exchange_resolves_an_available_variant_then_exchanges(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    task = "Exchange the blue water bottle I received for the red one."
    context = {**MIA, "item_ids": ["7000000011"]}
    looked_up, _ = run_agent(
        model,
        store,
        card(cards, "inventory"),
        task=task,
        instruction="Find the variant.",
        skill="product_lookup",
        context=context,
    )
    # The red 1000ml bottle is unavailable; the red 500ml keeps the current capacity.
    assert looked_up["facts"]["new_item_ids"] == ["7000000012"]
    assert looked_up["facts"]["price_difference"] == 2.5
    context |= looked_up["facts"]
    exchanged, _ = run_agent(
        model,
        store,
        card(cards, "finance"),
        task=task,
        instruction="Exchange.",
        skill="process_exchange",
        context=context,
    )
    assert exchanged["status"] == "done"
    assert store.orders["#W9000001"]["status"] == "exchange requested"
    assert store.orders["#W9000001"]["exchange_new_items"] == ["7000000012"]


def test_exchange_without_a_wanted_variant_fails(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "inventory"),
        task="Exchange my water bottle.",
        instruction="Find the variant.",
        skill="product_lookup",
        context={**MIA, "item_ids": ["7000000011"]},
    )
    assert handoff["status"] == "failed"
    assert "which variant" in handoff["summary"]


def test_exchange_without_new_items_fails_before_writing(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "finance"),
        task="Exchange my bottle.",
        instruction="Exchange.",
        skill="process_exchange",
        context=MIA,
    )
    assert handoff["status"] == "failed"
    assert "exchange_delivered_order_items" not in tools_called(store)


def test_product_question(model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "inventory"),
        task="Do you have the hiking boots in size 10?",
        instruction="Answer the product question.",
        skill="product_lookup",
        context={},
    )
    assert handoff["status"] == "done"
    assert handoff["facts"]["products"][0]["available_item_ids"] == ["7000000031"]
    assert "Hiking Boots: 1 of 2" in handoff["summary"]


@pytest.mark.parametrize(
    ("task", "context", "tool"),
    [
        (
            "I moved, please ship my pending order to 12 Oak St, Austin TX 78701.",
            {"user_id": "mia_chen_4817", "order_id": "#W9000002"},
            "modify_pending_order_address",
        ),
        (
            "Change my default address to 9 Elm Road, Apt 3, Boston, MA 02115.",
            {"user_id": "mia_chen_4817"},
            "modify_user_address",
        ),
    ],
)
def test_change_address(
    model: EmbeddedChatModel,
    store: FakeStore,
    cards: list[dict[str, Any]],
    task: str,
    context: dict[str, Any],
    tool: str,
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "logistics"),
        task=task,
        instruction="Change the address.",
        skill="change_address",
        context=context,
    )
    assert handoff["status"] == "done"
    name, args = store.calls[-1]
    assert name == tool
    assert args["country"] == "USA" and args["zip"] in ("78701", "02115")


def test_track_trends_and_notify(model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]) -> None:
    tracked, _ = run_agent(
        model,
        store,
        card(cards, "logistics"),
        task="Where is my order?",
        instruction="Track it.",
        skill="track_shipment",
        context={"order_id": "#W9000003"},
    )
    assert tracked["facts"]["tracking_ids"] == ["880000000003"]
    trends, _ = run_agent(
        model,
        store,
        card(cards, "analytics"),
        task="Top return reasons?",
        instruction="Report.",
        skill="return_trends",
        context={},
    )
    assert "damaged (4)" in trends["summary"]
    notified, _ = run_agent(
        model,
        store,
        card(cards, "customer_service"),
        task="Cancel my order.",
        instruction="Notify.",
        skill="notify_customer",
        context={**MIA, "order_status": "cancelled", "refund_amount": 25.0},
    )
    assert notified["status"] == "done"
    message = store.calls[-1][1]["message"]
    assert message.startswith("Hello Mia,") and "cancelled" in message and "$25.00" in message


# Owners identify the customer themselves: the first hop of a plan goes to the owner.


def test_owner_identifies_then_returns(model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "finance"),
        task="My email is mia.chen@example.com. The headphones arrived damaged; refund to my gift card.",
        instruction="Identify the customer by email mia.chen@example.com; then request the return.",
        skill="process_return",
        context={},
    )
    assert handoff["status"] == "done"
    facts = handoff["facts"]
    assert (facts["user_id"], facts["order_id"], facts["item_ids"]) == ("mia_chen_4817", "#W9000001", ["7000000001"])
    assert (facts["found_status"], facts["order_status"]) == ("delivered", "return requested")
    assert (facts["payment_method_id"], facts["reason"]) == ("gift_card_2222", "arrived damaged")
    assert tools_called(store) == [
        "find_user_id_by_email",
        "get_user_details",
        "get_order_details",  # #W9000003: processed, no headphones
        "get_order_details",  # #W9000001: delivered, with the headphones
        "quote_return_refund",
        "return_delivered_order_items",
    ]
    assert handoff["summary"].startswith("Identified Mia Chen")


def test_owner_skips_identification_when_the_context_has_it(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "logistics"),
        task="Where is my order?",
        instruction="Track it.",
        skill="track_shipment",
        context={"user_id": "mia_chen_4817", "order_id": "#W9000003"},
    )
    assert handoff["status"] == "done"
    assert tools_called(store) == ["get_order_details"]


def test_logistics_identifies_and_tracks(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "logistics"),
        task="Hi, this is Mia Chen, zip 78701. Where are my hiking boots?",
        instruction="Track the order.",
        skill="track_shipment",
        context={},
    )
    assert handoff["status"] == "done"
    assert (handoff["facts"]["order_id"], handoff["facts"]["tracking_ids"]) == ("#W9000003", ["880000000003"])
    assert tools_called(store)[0] == "find_user_id_by_name_zip"


def test_logistics_identifies_and_changes_the_default_address(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "logistics"),
        task="mia.chen@example.com here. Change my default address to 9 Elm Road, Apt 3, Boston, MA 02115.",
        instruction="Change the default address.",
        skill="change_address",
        context={},
    )
    assert handoff["status"] == "done"
    assert tools_called(store) == ["find_user_id_by_email", "get_user_details", "modify_user_address"]
    assert handoff["facts"]["user_id"] == "mia_chen_4817" and "order_id" not in handoff["facts"]


def test_finance_resolves_the_new_variant_itself(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "finance"),
        task="Exchange the blue water bottle I received for the red one. mia.chen@example.com",
        instruction="Exchange.",
        skill="process_exchange",
        context={},
    )
    assert handoff["status"] == "done"
    assert handoff["facts"]["new_item_ids"] == ["7000000012"]
    assert handoff["facts"]["price_difference"] == 2.5
    assert "get_product_details" in tools_called(store)
    assert store.orders["#W9000001"]["exchange_new_items"] == ["7000000012"]


def test_owner_refusing_the_wrong_status_reports_what_it_found(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "finance"),
        task="Exchange the t-shirt in order #W9000002 for size L.",
        instruction="Exchange.",
        skill="process_exchange",
        context={},
    )
    assert handoff["status"] == "failed"
    assert "'pending'" in handoff["summary"]
    assert handoff["facts"]["found_status"] == "pending"  # lets the supervisor switch to modify_items
    assert "exchange_delivered_order_items" not in tools_called(store)


def test_owner_without_any_identity_fails_clearly(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "finance"),
        task="Please cancel my order.",
        instruction="Cancel the order.",
        skill="cancel_order",
        context={},
    )
    assert handoff["status"] == "failed"
    assert "no email" in handoff["summary"]
    assert store.calls == []


def test_notify_intent_looks_the_customer_up(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "customer_service"),
        task="Tell the customer of order #W9000003 that the pickup is tomorrow.",
        instruction="Send the message.",
        skill="notify_customer",
        context={},
    )
    assert handoff["status"] == "done"
    message = store.calls[-1][1]["message"]
    assert message.startswith("Hello Mia,") and "pickup is tomorrow" in message
