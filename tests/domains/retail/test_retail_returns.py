"""Switchboard's return process: quote, pickup, receipt, refund, reasons, notices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from switchboard.domains.retail import RetailOperations, RetailStore, categorize_reason
from switchboard.domains.retail._returns import pickup_tracking_id
from tests.domains.retail.helpers import MIA, NOW, OMAR, Dump, gift_card_balance, order, refused

CARD = MIA.payment_methods["credit_card"]


def _request_return(ops: RetailOperations, store: RetailStore, order_id: str, method: str) -> list:
    item_ids = [item["item_id"] for item in order(store, order_id)["items"]]
    ops.return_delivered_order_items(order_id, item_ids, method)
    return item_ids


# quote_return_refund ----------------------------------------------------------------------


def test_quote_sums_the_items_and_writes_nothing(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = MIA.orders["delivered_over_500"]
    items = order(store, order_id)["items"]
    chosen = [items[1]["item_id"], items[0]["item_id"]]
    before = dump()
    quote = ops.quote_return_refund(order_id, chosen)
    assert dump() == before
    history = order(store, order_id)["payment_history"]
    assert quote == {
        "order_id": order_id,
        "item_ids": sorted(chosen),
        "amount": round(items[0]["price"] + items[1]["price"], 2),
        "paid": round(sum(e["amount"] for e in history if e["transaction_type"] == "payment"), 2),
        "original_payment_method_id": history[0]["payment_method_id"],
    }
    assert quote["amount"] > 500


def test_quote_counts_duplicates(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = OMAR.orders["delivered_exchange"]
    shirt = order(store, order_id)["items"][0]
    quote = ops.quote_return_refund(order_id, [shirt["item_id"]] * 2)
    assert quote["amount"] == round(2 * shirt["price"], 2)
    refused(dump, "holds 2", ops.quote_return_refund, order_id, [shirt["item_id"]] * 3)


def test_quote_refusals(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    pending = MIA.orders["pending"]
    item_id = order(store, pending)["items"][0]["item_id"]
    refused(dump, "'pending'", ops.quote_return_refund, pending, [item_id])
    delivered = MIA.orders["delivered_over_500"]
    refused(dump, "not found in order", ops.quote_return_refund, delivered, [item_id])
    refused(dump, "empty", ops.quote_return_refund, delivered, [])


# The whole process -------------------------------------------------------------------------


def test_return_process_to_the_card(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = MIA.orders["delivered_over_500"]
    items = order(store, order_id)["items"]
    returned = [items[0]["item_id"], items[1]["item_id"]]
    product = store.get_product(items[0]["product_id"])
    assert product is not None
    product["variants"][items[0]["item_id"]]["available"] = False
    store.put_product(product)  # set-up: that variant sold out since
    ops.return_delivered_order_items(order_id, returned, CARD)

    scheduled = ops.schedule_return_pickup(order_id)
    pickup = scheduled["return_pickup"]
    assert pickup["pickup_date"] == (NOW.date() + timedelta(days=1)).isoformat()
    assert pickup["tracking_id"] == pickup_tracking_id(order_id)
    assert re.fullmatch(r"\d{12}", pickup["tracking_id"])
    assert store.get_pickup(order_id) == {"order_id": order_id, **pickup}
    assert scheduled["status"] == "return requested"

    received = ops.receive_returned_items(order_id)
    assert received["status"] == "return received"
    assert received["return_pickup"]["status"] == "received"
    assert received["return_pickup"]["restocked_item_ids"] == sorted(returned)
    restocked = store.get_product(items[0]["product_id"])
    assert restocked is not None and restocked["variants"][items[0]["item_id"]]["available"]

    refunded = ops.issue_return_refund(order_id)
    amount = round(items[0]["price"] + items[1]["price"], 2)
    assert refunded["status"] == "returned"
    assert refunded["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": amount,
        "payment_method_id": CARD,
    }
    assert order(store, order_id) == refunded
    assert gift_card_balance(store, "mia_chen") == MIA.gift_card_balance
    refused(dump, "already been refunded", ops.issue_return_refund, order_id)


def test_refund_to_a_gift_card_credits_it_at_once(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["delivered_under_500"]
    total = round(sum(item["price"] for item in order(store, order_id)["items"]), 2)
    _request_return(ops, store, order_id, MIA.payment_methods["gift_card"])
    ops.schedule_return_pickup(order_id, "2025-03-20")
    ops.receive_returned_items(order_id)
    ops.issue_return_refund(order_id)
    assert gift_card_balance(store, "mia_chen") == round(MIA.gift_card_balance + total, 2)


def test_steps_cannot_be_skipped(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = MIA.orders["delivered_over_500"]
    refused(dump, "is 'delivered'", ops.schedule_return_pickup, order_id)
    _request_return(ops, store, order_id, CARD)
    refused(dump, "no return pickup yet", ops.receive_returned_items, order_id)
    refused(dump, "receive_returned_items first", ops.issue_return_refund, order_id)
    ops.schedule_return_pickup(order_id)
    refused(dump, "already scheduled", ops.schedule_return_pickup, order_id)
    refused(dump, "receive_returned_items first", ops.issue_return_refund, order_id)
    ops.receive_returned_items(order_id)
    refused(dump, "'return received'", ops.receive_returned_items, order_id)


@pytest.mark.parametrize(
    ("pickup_date", "message"),
    [("2025-03-13", "in the past"), ("next tuesday", "not a date"), ("2025-02-30", "not a date")],
)
def test_pickup_date_is_checked(
    ops: RetailOperations, store: RetailStore, dump: Dump, pickup_date: str, message: str
) -> None:
    order_id = MIA.orders["delivered_over_500"]
    _request_return(ops, store, order_id, CARD)
    refused(dump, message, ops.schedule_return_pickup, order_id, pickup_date)


def test_pickup_today_is_fine(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["delivered_over_500"]
    _request_return(ops, store, order_id, CARD)
    today = NOW.date().isoformat()
    assert ops.schedule_return_pickup(order_id, today)["return_pickup"]["pickup_date"] == today


def test_an_exchange_gets_a_pickup_but_is_not_received_as_a_return(
    ops: RetailOperations, store: RetailStore, dump: Dump
) -> None:
    order_id = OMAR.orders["delivered_exchange"]
    boots = order(store, order_id)["items"][2]
    product = store.get_product(boots["product_id"])
    assert product is not None
    other = next(v for v in product["variants"] if v != boots["item_id"])
    card = OMAR.payment_methods["credit_card"]
    ops.exchange_delivered_order_items(order_id, [boots["item_id"]], [other], card)
    assert ops.schedule_return_pickup(order_id)["return_pickup"]["status"] == "scheduled"
    refused(dump, "'exchange requested'", ops.receive_returned_items, order_id)


# Return reasons -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("The espresso machine arrived damaged", "damaged/defective"),
        ("Headphones stopped working after a day", "damaged/defective"),
        ("It doesn't work", "damaged/defective"),
        ("Too small for me", "wrong size/fit"),
        ("The shirt does not fit", "wrong size/fit"),
        ("Ordered the wrong size by mistake", "wrong size/fit"),
        ("I ordered it by mistake", "ordered by mistake"),
        ("Bought it accidentally", "ordered by mistake"),
        ("I no longer need it", "no longer needed"),
        ("Changed my mind", "no longer needed"),
        ("The colour is uglier than on the photo", "other"),
    ],
)
def test_categorize_reason(reason: str, category: str) -> None:
    assert categorize_reason(reason) == category


def test_record_return_reason_and_stats(ops: RetailOperations, store: RetailStore) -> None:
    empty = ops.get_return_reason_stats()
    assert empty["total"] == 0 and set(empty["categories"].values()) == {0}
    big, small = MIA.orders["delivered_over_500"], MIA.orders["delivered_under_500"]
    _request_return(ops, store, big, CARD)
    _request_return(ops, store, small, MIA.payment_methods["gift_card"])
    record = ops.record_return_reason(big, "  Arrived damaged  ")
    assert record == {"order_id": big, "reason": "Arrived damaged", "category": "damaged/defective"}
    ops.record_return_reason(small, "no longer needed")
    ops.record_return_reason(small, "wrong size")  # replaces the first reason
    stats = ops.get_return_reason_stats()
    assert stats["total"] == 2
    assert stats["categories"]["damaged/defective"] == 1
    assert stats["categories"]["wrong size/fit"] == 1
    assert stats["categories"]["no longer needed"] == 0
    assert store.get_return_reason(small) == {
        "order_id": small,
        "reason": "wrong size",
        "category": "wrong size/fit",
    }


def test_record_return_reason_refusals(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = MIA.orders["delivered_over_500"]
    refused(dump, "'delivered'", ops.record_return_reason, order_id, "damaged")
    refused(dump, "not found", ops.record_return_reason, "#W0000000", "damaged")
    _request_return(ops, store, order_id, CARD)
    refused(dump, "empty", ops.record_return_reason, order_id, "   ")


# Notifications ------------------------------------------------------------------------------


def test_notify_customer(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    first = ops.notify_customer(MIA.user_id, "Your pickup is booked for tomorrow.")
    second = ops.notify_customer(MIA.user_id, "Your refund has been issued.")
    assert first == {
        "notification_id": first["notification_id"],
        "user_id": MIA.user_id,
        "message": "Your pickup is booked for tomorrow.",
        "created_at": NOW.isoformat(timespec="seconds"),
    }
    assert second["notification_id"] > first["notification_id"]
    assert store.notifications(MIA.user_id) == [first, second]
    refused(dump, "not found", ops.notify_customer, "nobody_0000", "hello")
    refused(dump, "empty", ops.notify_customer, MIA.user_id, " \n")
