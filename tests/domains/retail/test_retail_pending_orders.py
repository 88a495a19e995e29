"""Writes on pending orders and users: effects, money, and refusals that change nothing."""

from __future__ import annotations

import pytest

from switchboard.domains.retail import RetailOperations, RetailStore
from tests.domains.retail.helpers import (
    MIA,
    OMAR,
    Dump,
    gift_card_balance,
    order,
    refused,
    user,
    variant_ids,
)

ADDRESS = ("1 Ferry Building", "Suite 5", "San Francisco", "CA", "USA", "94111")


def _pay_with_gift_card(store: RetailStore, order_id: str, method_id: str) -> None:
    """Set-up: make an order's single payment a gift card payment."""
    record = order(store, order_id)
    record["payment_history"][0]["payment_method_id"] = method_id
    store.put_order(record)


# cancel_pending_order ---------------------------------------------------------------


def test_cancel_refunds_a_card_payment(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["pending"]
    paid = order(store, order_id)["payment_history"][0]
    result = ops.cancel_pending_order(order_id, "no longer needed")
    assert result == order(store, order_id)
    assert result["status"] == "cancelled"
    assert result["cancel_reason"] == "no longer needed"
    assert result["payment_history"] == [paid, {**paid, "transaction_type": "refund"}]
    assert gift_card_balance(store, "mia_chen") == MIA.gift_card_balance


def test_cancel_credits_a_gift_card_at_once(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["pending"]
    _pay_with_gift_card(store, order_id, MIA.payment_methods["gift_card"])
    amount = order(store, order_id)["payment_history"][0]["amount"]
    ops.cancel_pending_order(order_id, "ordered by mistake")
    assert gift_card_balance(store, "mia_chen") == round(MIA.gift_card_balance + amount, 2)


def test_cancel_after_a_payment_change_refunds_each_method_once(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["pending"]
    amount = order(store, order_id)["payment_history"][0]["amount"]
    ops.modify_pending_order_payment(order_id, MIA.payment_methods["gift_card"])
    result = ops.cancel_pending_order(order_id, "no longer needed")
    # The card was already refunded by the payment change; only the gift card holds money.
    assert result["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": amount,
        "payment_method_id": MIA.payment_methods["gift_card"],
    }
    assert len(result["payment_history"]) == 4
    assert gift_card_balance(store, "mia_chen") == MIA.gift_card_balance


@pytest.mark.parametrize(
    ("order_id", "reason", "message"),
    [
        (MIA.orders["processed"], "no longer needed", "is 'processed'.*only a 'pending'"),
        (MIA.orders["delivered_over_500"], "no longer needed", "can be returned instead"),
        (MIA.orders["pending"], "too expensive", "Invalid cancellation reason"),
        ("#W9999999", "no longer needed", "not found"),
    ],
)
def test_cancel_refusals(ops: RetailOperations, dump: Dump, order_id: str, reason: str, message: str) -> None:
    refused(dump, message, ops.cancel_pending_order, order_id, reason)


# modify_pending_order_address / modify_user_address ---------------------------------


def test_modify_pending_order_address(ops: RetailOperations, store: RetailStore) -> None:
    order_id = OMAR.orders["pending_paypal"]
    result = ops.modify_pending_order_address(order_id, *ADDRESS)
    expected = dict(zip(("address1", "address2", "city", "state", "country", "zip"), ADDRESS, strict=True))
    assert list(result["address"].items()) == list(expected.items())
    assert order(store, order_id)["address"] == expected
    assert user(store, OMAR.user_id)["address"]["zip"] == "10001"  # the user keeps theirs


def test_modify_address_of_a_processed_order_is_refused(ops: RetailOperations, dump: Dump) -> None:
    order_id = MIA.orders["processed"]
    refused(dump, "'processed'", ops.modify_pending_order_address, order_id, *ADDRESS)
    refused(dump, "not found", ops.modify_pending_order_address, "#W1", *ADDRESS)


def test_modify_user_address(ops: RetailOperations, store: RetailStore) -> None:
    old = order(store, MIA.orders["pending"])["address"]
    result = ops.modify_user_address(MIA.user_id, *ADDRESS)
    assert result["address"]["address1"] == "1 Ferry Building"
    assert user(store, MIA.user_id) == result
    assert order(store, MIA.orders["pending"])["address"] == old
    assert ops.find_user_id_by_name_zip("Mia", "Chen", "94111") == MIA.user_id


def test_modify_user_address_unknown_user(ops: RetailOperations, dump: Dump) -> None:
    refused(dump, "not found", ops.modify_user_address, "nobody_0000", *ADDRESS)


# modify_pending_order_payment ------------------------------------------------------------


def test_modify_payment_to_a_gift_card_debits_it(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["pending"]
    first = order(store, order_id)["payment_history"][0]
    gift_card = MIA.payment_methods["gift_card"]
    result = ops.modify_pending_order_payment(order_id, gift_card)
    assert result["payment_history"] == [
        first,
        {"transaction_type": "payment", "amount": first["amount"], "payment_method_id": gift_card},
        {**first, "transaction_type": "refund"},
    ]
    assert result["status"] == "pending"
    assert gift_card_balance(store, "mia_chen") == round(MIA.gift_card_balance - first["amount"], 2)


def test_modify_payment_from_a_gift_card_credits_it(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["pending"]
    _pay_with_gift_card(store, order_id, MIA.payment_methods["gift_card"])
    amount = order(store, order_id)["payment_history"][0]["amount"]
    ops.modify_pending_order_payment(order_id, MIA.payment_methods["paypal"])
    assert gift_card_balance(store, "mia_chen") == round(MIA.gift_card_balance + amount, 2)


@pytest.mark.parametrize(
    ("order_id", "method", "message"),
    [
        (OMAR.orders["pending_paypal"], OMAR.payment_methods["gift_card"], "balance of 25"),
        (OMAR.orders["pending_paypal"], OMAR.payment_methods["paypal"], "already paid with"),
        (OMAR.orders["pending_paypal"], MIA.payment_methods["gift_card"], "not found for user"),
        (MIA.orders["processed"], MIA.payment_methods["paypal"], "'processed'"),
    ],
)
def test_modify_payment_refusals(ops: RetailOperations, dump: Dump, order_id: str, method: str, message: str) -> None:
    refused(dump, message, ops.modify_pending_order_payment, order_id, method)


def test_payment_can_be_changed_only_once(ops: RetailOperations, dump: Dump) -> None:
    order_id = MIA.orders["pending"]
    ops.modify_pending_order_payment(order_id, MIA.payment_methods["paypal"])
    card = MIA.payment_methods["credit_card"]
    refused(dump, "exactly one payment", ops.modify_pending_order_payment, order_id, card)


# modify_pending_order_items --------------------------------------------------------------


def test_modify_items_charges_the_difference_to_a_gift_card(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["pending"]
    before = order(store, order_id)
    earbuds = before["items"][0]
    dearer = variant_ids(store, earbuds)[-1]
    product = store.get_product(earbuds["product_id"])
    assert product is not None
    new = product["variants"][dearer]
    difference = round(new["price"] - earbuds["price"], 2)
    assert difference > 0
    gift_card = MIA.payment_methods["gift_card"]
    result = ops.modify_pending_order_items(order_id, [earbuds["item_id"]], [dearer], gift_card)
    assert result["status"] == "pending (item modified)"
    assert result["items"][0] == {
        **earbuds,
        "item_id": dearer,
        "price": new["price"],
        "options": new["options"],
    }
    assert result["items"][1] == before["items"][1]
    assert result["payment_history"][-1] == {
        "transaction_type": "payment",
        "amount": difference,
        "payment_method_id": gift_card,
    }
    assert gift_card_balance(store, "mia_chen") == round(MIA.gift_card_balance - difference, 2)


def test_modify_items_refunds_a_cheaper_swap_to_a_gift_card(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["pending"]
    record = order(store, order_id)
    kettle = record["items"][1]
    cheapest = kettle["item_id"]
    dearer = variant_ids(store, kettle)[-1]
    product = store.get_product(kettle["product_id"])
    assert product is not None
    record["items"][1] = {
        **kettle,
        "item_id": dearer,
        "price": product["variants"][dearer]["price"],
    }
    store.put_order(record)  # set-up: the customer holds the dearer kettle
    refund = round(product["variants"][dearer]["price"] - kettle["price"], 2)
    gift_card = MIA.payment_methods["gift_card"]
    result = ops.modify_pending_order_items(order_id, [dearer], [cheapest], gift_card)
    assert result["payment_history"][-1]["transaction_type"] == "refund"
    assert result["payment_history"][-1]["amount"] == refund
    assert gift_card_balance(store, "mia_chen") == round(MIA.gift_card_balance + refund, 2)


def test_modify_items_swaps_each_duplicate_unit_once(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["pending"]
    record = order(store, order_id)
    earbuds = record["items"][0]
    record["items"].append(dict(earbuds))  # set-up: two units of the same earbuds
    store.put_order(record)
    first, second = variant_ids(store, earbuds)[:2]
    card = MIA.payment_methods["credit_card"]
    both = [earbuds["item_id"], earbuds["item_id"]]
    result = ops.modify_pending_order_items(order_id, both, [first, second], card)
    assert [result["items"][0]["item_id"], result["items"][2]["item_id"]] == [first, second]


def test_modify_items_refusals(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = OMAR.orders["pending_paypal"]
    speaker, lamp = order(store, order_id)["items"]
    paypal, gift_card = OMAR.payment_methods["paypal"], OMAR.payment_methods["gift_card"]
    dearest = variant_ids(store, speaker)[-1]
    modify = ops.modify_pending_order_items
    refused(
        dump,
        f"Item {speaker['item_id']} not found.*requested 2 time",
        modify,
        order_id,
        [speaker["item_id"]] * 2,
        [dearest] * 2,
        paypal,
    )
    refused(dump, "exactly one new item per item", modify, order_id, [speaker["item_id"]], [], paypal)
    refused(
        dump,
        "not an available variant of Bluetooth Speaker",
        modify,
        order_id,
        [speaker["item_id"]],
        [lamp["item_id"]],
        paypal,
    )
    refused(dump, "balance of 25", modify, order_id, [speaker["item_id"]], [dearest], gift_card)
    refused(dump, "not found for user", modify, order_id, [speaker["item_id"]], [dearest], "paypal_1")
    refused(dump, "item_ids is empty", modify, order_id, [], [], paypal)
    processed = MIA.orders["processed"]
    laptop = order(store, processed)["items"][0]["item_id"]
    refused(dump, "'processed'", modify, processed, [laptop], [laptop], paypal)


def test_modify_items_refuses_an_unavailable_variant(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = OMAR.orders["pending_paypal"]
    speaker = order(store, order_id)["items"][0]
    other = variant_ids(store, speaker)[0]
    product = store.get_product(speaker["product_id"])
    assert product is not None
    product["variants"][other]["available"] = False
    store.put_product(product)  # set-up: sold out
    paypal = OMAR.payment_methods["paypal"]
    refused(
        dump,
        f"New item {other} is not an available variant",
        ops.modify_pending_order_items,
        order_id,
        [speaker["item_id"]],
        [other],
        paypal,
    )


def test_modified_order_cannot_be_modified_or_cancelled_again(
    ops: RetailOperations, store: RetailStore, dump: Dump
) -> None:
    order_id = MIA.orders["pending"]
    earbuds = order(store, order_id)["items"][0]
    other = variant_ids(store, earbuds)[0]
    card = MIA.payment_methods["credit_card"]
    ops.modify_pending_order_items(order_id, [earbuds["item_id"]], [other], card)
    refused(dump, r"'pending \(item modified\)'", ops.cancel_pending_order, order_id, "no longer needed")
    refused(dump, "only once", ops.modify_pending_order_items, order_id, [other], [other], card)
