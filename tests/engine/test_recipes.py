"""Agent mode: the retail recipes, one step at a time, over the real shop.

Mia Chen's orders (see ``domains/retail/_personas.py``): a delivered one under
$500 paid by gift card (water bottle, t-shirt, yoga mat), a processed laptop,
a delivered one over $500 paid by credit card (espresso machine, headphones,
notebook) and a pending one (wireless earbuds, electric kettle).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.engine_kit import RetailTeam
from tests.engine.retail_shop import MIA, OMAR, Shop

PENDING = MIA.orders["pending"]
PROCESSED = MIA.orders["processed"]
OVER_500 = MIA.orders["delivered_over_500"]


def _tracking(shop: Shop, order_id: str) -> list[str]:
    return [t for f in shop.order(order_id)["fulfillments"] for t in f["tracking_id"]]


def test_identify_by_email_with_named_order_and_gift_card(team: RetailTeam, headphones: dict[str, Any]) -> None:
    task = (
        f"My email is Mia.Chen@example.com. Please return the headphones from order {OVER_500}, "
        "refund to my gift card. They arrived damaged."
    )
    handoff = team.step("customer_service", "identify_customer", task=task, instruction="Identify the customer.")
    assert handoff["status"] == "done"
    facts = handoff["facts"]
    keys = ("user_id", "order_id", "order_status", "item_ids")
    assert {k: facts[k] for k in keys} == {k: headphones[k] for k in keys}
    assert facts["payment_method_id"] == MIA.payment_methods["gift_card"]
    assert facts["reason"] == "arrived damaged"
    assert team.shop.tools_called() == ["find_user_id_by_email", "get_user_details", "get_order_details"]


def test_identify_by_name_and_zip_finds_the_delivered_order(team: RetailTeam) -> None:
    task = f"Hi, this is Mia Chen, zip {MIA.zip}. I want to return the notebook I received."
    handoff = team.step("customer_service", "identify_customer", task=task, instruction="Identify the customer.")
    facts = handoff["facts"]
    notebook = team.shop.item(OVER_500, "Notebook")
    assert (facts["order_id"], facts["item_ids"]) == (OVER_500, [notebook["item_id"]])
    assert facts["payment_method_id"] == MIA.payment_methods["credit_card"]  # the original payment method
    assert team.shop.tools_called()[0] == "find_user_id_by_name_zip"


def test_identify_by_order_id_alone(team: RetailTeam) -> None:
    task = f"Cancel order {PENDING}, ordered by mistake."
    handoff = team.step("customer_service", "identify_customer", task=task, instruction="Identify the customer.")
    assert handoff["facts"]["user_id"] == MIA.user_id
    assert handoff["facts"]["order_status"] == "pending"


def test_identify_without_any_identity_fails_clearly(team: RetailTeam) -> None:
    task = "Please cancel my order."
    handoff = team.step("customer_service", "identify_customer", task=task, instruction="Identify the customer.")
    assert handoff["status"] == "failed"
    assert "no email" in handoff["summary"]
    assert team.shop.calls == []


def test_process_return_quotes_then_writes_once(team: RetailTeam, headphones: dict[str, Any]) -> None:
    task = "Return my headphones."
    handoff = team.step("finance", "process_return", task=task, instruction="Request the return.", context=headphones)
    assert handoff["status"] == "done"
    assert handoff["facts"]["refund_amount"] == team.shop.item(OVER_500, "Headphones")["price"]
    assert handoff["facts"]["order_status"] == "return requested"
    assert team.shop.tools_called() == ["get_order_details", "quote_return_refund", "return_delivered_order_items"]
    assert team.shop.order(OVER_500)["return_items"] == headphones["item_ids"]


def test_precondition_checked_before_writing(team: RetailTeam, headphones: dict[str, Any]) -> None:
    context = {**headphones, "order_id": PENDING}
    handoff = team.step(
        "finance", "process_return", task="Return my kettle.", instruction="Request the return.", context=context
    )
    assert handoff["status"] == "failed"
    assert "'pending'" in handoff["summary"]
    assert team.shop.tools_called() == ["get_order_details"]


@pytest.mark.parametrize(
    ("task", "reason", "confidence"),
    [
        (f"Cancel order {PENDING}, I ordered it by mistake.", "ordered by mistake", 0.9),
        (f"Cancel order {PENDING}.", "no longer needed", 0.75),
    ],
)
def test_cancel_order(team: RetailTeam, task: str, reason: str, confidence: float) -> None:
    context = {"user_id": MIA.user_id, "order_id": PENDING, "order_status": "pending"}
    handoff = team.step("finance", "cancel_order", task=task, instruction="Cancel the order.", context=context)
    assert handoff["status"] == "done"
    assert team.shop.order(PENDING)["cancel_reason"] == reason
    assert handoff["confidence"] == confidence


def test_exchange_resolves_an_available_variant_then_exchanges(team: RetailTeam, bottle: dict[str, Any]) -> None:
    task = "Exchange the black water bottle I received for the white one."
    looked_up = team.step("inventory", "product_lookup", task=task, instruction="Find the variant.", context=bottle)
    # Other white bottles are bigger, or of steel (and sold out); this one keeps every other option.
    current = team.shop.item(bottle["order_id"], "Water Bottle")
    white = team.shop.variant(current, color="white")
    assert white["available"]
    assert looked_up["facts"]["new_item_ids"] == [white["item_id"]]
    assert looked_up["facts"]["price_difference"] == round(white["price"] - current["price"], 2)
    context = bottle | looked_up["facts"]
    exchanged = team.step("finance", "process_exchange", task=task, instruction="Exchange.", context=context)
    assert exchanged["status"] == "done"
    assert team.shop.order(bottle["order_id"])["status"] == "exchange requested"
    assert team.shop.order(bottle["order_id"])["exchange_new_items"] == [white["item_id"]]


def test_exchange_without_a_wanted_variant_fails(team: RetailTeam, bottle: dict[str, Any]) -> None:
    task = "Exchange my water bottle."
    handoff = team.step("inventory", "product_lookup", task=task, instruction="Find the variant.", context=bottle)
    assert handoff["status"] == "failed"
    assert "which variant" in handoff["summary"]


def test_exchange_without_new_items_fails_before_writing(team: RetailTeam, bottle: dict[str, Any]) -> None:
    handoff = team.step(
        "finance", "process_exchange", task="Exchange my bottle.", instruction="Exchange.", context=bottle
    )
    assert handoff["status"] == "failed"
    assert "exchange_delivered_order_items" not in team.shop.tools_called()


def test_product_question(team: RetailTeam) -> None:
    task = "Do you have the hiking boots in size 7?"
    handoff = team.step("inventory", "product_lookup", task=task, instruction="Answer the product question.")
    boots = team.shop.product_named("Hiking Boots")
    size_7 = [v for v in boots["variants"].values() if v["options"]["size"] == "7"]
    in_stock = [v["item_id"] for v in size_7 if v["available"]]
    assert 0 < len(in_stock) < len(size_7)  # the catalogue has size 7 both in and out of stock
    assert handoff["status"] == "done"
    assert handoff["facts"]["products"][0]["available_item_ids"] == in_stock
    assert f"Hiking Boots: {len(in_stock)} of {len(size_7)}" in handoff["summary"]


@pytest.mark.parametrize(
    ("task", "context", "tool"),
    [
        (
            "I moved, please ship my pending order to 12 Oak St, Austin TX 78701.",
            {"user_id": MIA.user_id, "order_id": PENDING},
            "modify_pending_order_address",
        ),
        (
            "Change my default address to 9 Elm Road, Apt 3, Boston, MA 02115.",
            {"user_id": MIA.user_id},
            "modify_user_address",
        ),
    ],
)
def test_change_address(team: RetailTeam, task: str, context: dict[str, Any], tool: str) -> None:
    handoff = team.step("logistics", "change_address", task=task, instruction="Change the address.", context=context)
    assert handoff["status"] == "done"
    name, args = team.shop.calls[-1]
    assert name == tool
    assert args["country"] == "USA" and args["zip"] in ("78701", "02115")
    changed = team.shop.order(PENDING) if tool == "modify_pending_order_address" else team.shop.user(MIA.user_id)
    assert changed["address"]["zip"] == args["zip"]


def test_track_trends_and_notify(team: RetailTeam, headphones: dict[str, Any]) -> None:
    shop = team.shop
    tracked = team.step(
        "logistics",
        "track_shipment",
        task="Where is my order?",
        instruction="Track it.",
        context={"order_id": PROCESSED},
    )
    assert tracked["facts"]["tracking_ids"] == _tracking(shop, PROCESSED)
    shop.request_return(OVER_500, "The glass arrived damaged.")
    shop.request_return(MIA.orders["delivered_under_500"], "It broke on day one.")
    shop.request_return(OMAR.orders["delivered_exchange"], "The shirts are too small.")
    trends = team.step("analytics", "return_trends", task="Top return reasons?", instruction="Report.")
    assert "damaged/defective (2), wrong size/fit (1)" in trends["summary"]
    context = {**headphones, "order_status": "cancelled", "refund_amount": 25.0}
    notified = team.step(
        "customer_service", "notify_customer", task="Cancel my order.", instruction="Notify.", context=context
    )
    assert notified["status"] == "done"
    message = shop.calls[-1][1]["message"]
    assert message.startswith("Hello Mia,") and "cancelled" in message and "$25.00" in message
    assert shop.store.notifications(MIA.user_id)[-1]["message"] == message


# Owners identify the customer themselves: the first hop of a plan goes to the owner.


def test_owner_identifies_then_returns(team: RetailTeam, headphones: dict[str, Any]) -> None:
    handoff = team.step(
        "finance",
        "process_return",
        task="My email is mia.chen@example.com. The headphones arrived damaged; refund to my gift card.",
        instruction="Identify the customer by email mia.chen@example.com; then request the return.",
    )
    assert handoff["status"] == "done"
    facts = handoff["facts"]
    assert (facts["user_id"], facts["order_id"], facts["item_ids"]) == (MIA.user_id, OVER_500, headphones["item_ids"])
    assert (facts["found_status"], facts["order_status"]) == ("delivered", "return requested")
    assert (facts["payment_method_id"], facts["reason"]) == (MIA.payment_methods["gift_card"], "arrived damaged")
    assert team.shop.calls[2:5] == [
        ("get_order_details", {"order_id": MIA.orders["delivered_under_500"]}),  # delivered, no headphones
        ("get_order_details", {"order_id": PROCESSED}),  # a laptop, not delivered yet
        ("get_order_details", {"order_id": OVER_500}),  # delivered, with the headphones
    ]
    assert team.shop.tools_called() == [
        "find_user_id_by_email",
        "get_user_details",
        "get_order_details",
        "get_order_details",
        "get_order_details",
        "quote_return_refund",
        "return_delivered_order_items",
    ]
    assert handoff["summary"].startswith("Identified Mia Chen")


def test_owner_skips_identification_when_the_context_has_it(team: RetailTeam) -> None:
    context = {"user_id": MIA.user_id, "order_id": PROCESSED}
    handoff = team.step(
        "logistics", "track_shipment", task="Where is my order?", instruction="Track it.", context=context
    )
    assert handoff["status"] == "done"
    assert team.shop.tools_called() == ["get_order_details"]


def test_logistics_identifies_and_tracks(team: RetailTeam) -> None:
    task = f"Hi, this is Mia Chen, zip {MIA.zip}. Where is my laptop?"
    handoff = team.step("logistics", "track_shipment", task=task, instruction="Track the order.")
    assert handoff["status"] == "done"
    facts = handoff["facts"]
    assert (facts["order_id"], facts["tracking_ids"]) == (PROCESSED, _tracking(team.shop, PROCESSED))
    assert team.shop.tools_called()[0] == "find_user_id_by_name_zip"


def test_logistics_identifies_and_changes_the_default_address(team: RetailTeam) -> None:
    task = "mia.chen@example.com here. Change my default address to 9 Elm Road, Apt 3, Boston, MA 02115."
    handoff = team.step("logistics", "change_address", task=task, instruction="Change the default address.")
    assert handoff["status"] == "done"
    assert team.shop.tools_called() == ["find_user_id_by_email", "get_user_details", "modify_user_address"]
    assert handoff["facts"]["user_id"] == MIA.user_id and "order_id" not in handoff["facts"]
    assert team.shop.user(MIA.user_id)["address"]["address1"] == "9 Elm Road"


def test_finance_resolves_the_new_variant_itself(team: RetailTeam, bottle: dict[str, Any]) -> None:
    task = "Exchange the black water bottle I received for the white one. mia.chen@example.com"
    handoff = team.step("finance", "process_exchange", task=task, instruction="Exchange.")
    current = team.shop.item(bottle["order_id"], "Water Bottle")
    white = team.shop.variant(current, color="white")
    assert handoff["status"] == "done"
    assert handoff["facts"]["new_item_ids"] == [white["item_id"]]
    assert handoff["facts"]["price_difference"] == round(white["price"] - current["price"], 2)
    assert "get_product_details" in team.shop.tools_called()
    assert team.shop.order(bottle["order_id"])["exchange_new_items"] == [white["item_id"]]


def test_owner_refusing_the_wrong_status_reports_what_it_found(team: RetailTeam) -> None:
    task = f"Exchange the kettle in order {PENDING} for the silver one."
    handoff = team.step("finance", "process_exchange", task=task, instruction="Exchange.")
    assert handoff["status"] == "failed"
    assert "'pending'" in handoff["summary"]
    assert handoff["facts"]["found_status"] == "pending"  # lets the supervisor switch to modify_items
    assert "exchange_delivered_order_items" not in team.shop.tools_called()


def test_owner_without_any_identity_fails_clearly(team: RetailTeam) -> None:
    handoff = team.step("finance", "cancel_order", task="Please cancel my order.", instruction="Cancel the order.")
    assert handoff["status"] == "failed"
    assert "no email" in handoff["summary"]
    assert team.shop.calls == []


def test_notify_intent_looks_the_customer_up(team: RetailTeam) -> None:
    task = f"Tell the customer of order {PROCESSED} that the pickup is tomorrow."
    handoff = team.step("customer_service", "notify_customer", task=task, instruction="Send the message.")
    assert handoff["status"] == "done"
    message = team.shop.calls[-1][1]["message"]
    assert message.startswith("Hello Mia,") and "pickup is tomorrow" in message
