"""Quote tools: each prices what its write would move, and writes nothing."""

from __future__ import annotations

from switchboard.domains.retail import RetailOperations, RetailStore
from tests.domains.retail.helpers import MIA, OMAR, Dump, order, refused, variant_ids


def test_cancel_quote_equals_what_the_cancel_refunds(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = MIA.orders["pending"]
    before = dump()
    quote = ops.quote_cancel_refund(order_id)
    assert dump() == before
    cancelled = ops.cancel_pending_order(order_id, "no longer needed")
    refunds = [e for e in cancelled["payment_history"] if e["transaction_type"] == "refund"]
    assert quote["amount"] == round(sum(e["amount"] for e in refunds), 2) > 0
    assert quote["refunds"] == {e["payment_method_id"]: e["amount"] for e in refunds}
    assert quote["paid"] == quote["amount"]


def test_cancel_quote_after_a_payment_change_counts_each_method_once(ops: RetailOperations) -> None:
    order_id = MIA.orders["pending"]
    ops.modify_pending_order_payment(order_id, MIA.payment_methods["gift_card"])
    quote = ops.quote_cancel_refund(order_id)
    assert list(quote["refunds"]) == [MIA.payment_methods["gift_card"]]
    assert quote["amount"] == ops.get_order_details(order_id)["payment_history"][0]["amount"]


def test_cancel_quote_refuses_what_cancel_refuses(ops: RetailOperations, dump: Dump) -> None:
    refused(dump, "'processed'", ops.quote_cancel_refund, MIA.orders["processed"])


def test_item_change_quote_prices_the_swap_either_way(
    ops: RetailOperations, store: RetailStore, dump: Dump
) -> None:
    order_id = MIA.orders["pending"]
    item = order(store, order_id)["items"][0]
    dearer = variant_ids(store, item)[-1]
    before = dump()
    quote = ops.quote_item_change(order_id, [item["item_id"]], [dearer])
    assert dump() == before
    result = ops.modify_pending_order_items(order_id, [item["item_id"]], [dearer], MIA.payment_methods["credit_card"])
    assert result["payment_history"][-1]["amount"] == quote["amount"] == quote["difference"] > 0
    assert quote["direction"] == "charge"


def test_item_change_quote_covers_delivered_exchanges(ops: RetailOperations, store: RetailStore) -> None:
    order_id = OMAR.orders["delivered_exchange"]
    item = order(store, order_id)["items"][-1]
    other = variant_ids(store, item)[0]
    quote = ops.quote_item_change(order_id, [item["item_id"]], [other])
    exchanged = ops.exchange_delivered_order_items(
        order_id, [item["item_id"]], [other], OMAR.payment_methods["credit_card"]
    )
    assert exchanged["exchange_price_difference"] == quote["difference"]
    assert quote["amount"] == abs(quote["difference"])


def test_item_change_quote_refusals(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = MIA.orders["pending"]
    item = order(store, order_id)["items"][0]
    refused(dump, "same length|exactly one new item", ops.quote_item_change, order_id, [item["item_id"]], [])
    refused(dump, "'processed'", ops.quote_item_change, MIA.orders["processed"], [item["item_id"]], ["1"])


def test_payment_change_quote_is_the_amount_moved(ops: RetailOperations, dump: Dump) -> None:
    order_id = MIA.orders["pending"]
    gift_card = MIA.payment_methods["gift_card"]
    quote = ops.quote_payment_change(order_id, gift_card)
    changed = ops.modify_pending_order_payment(order_id, gift_card)
    assert quote["amount"] == changed["payment_history"][0]["amount"]
    assert quote["from_payment_method_id"] == MIA.payment_methods["credit_card"]
    refused(dump, "exactly one payment", ops.quote_payment_change, order_id, MIA.payment_methods["paypal"])


def test_payment_change_quote_refuses_another_users_method(ops: RetailOperations, dump: Dump) -> None:
    omar_card = OMAR.payment_methods["gift_card"]
    refused(dump, "not found for user", ops.quote_payment_change, MIA.orders["pending"], omar_card)
