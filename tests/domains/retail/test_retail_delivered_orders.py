"""Returns and exchanges of delivered orders, as the benchmark defines them."""

from __future__ import annotations

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

# return_delivered_order_items ----------------------------------------------------------


def test_return_to_the_original_card(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["delivered_over_500"]
    before = order(store, order_id)
    item_ids = [item["item_id"] for item in before["items"][:2]]
    card = MIA.payment_methods["credit_card"]
    result = ops.return_delivered_order_items(order_id, list(reversed(item_ids)), card)
    assert result == order(store, order_id)
    assert result["status"] == "return requested"
    assert result["return_items"] == sorted(item_ids)
    assert result["return_payment_method_id"] == card
    assert result["payment_history"] == before["payment_history"]  # refunded later


def test_return_to_a_gift_card_is_allowed(ops: RetailOperations, store: RetailStore) -> None:
    order_id = MIA.orders["delivered_over_500"]
    item_id = order(store, order_id)["items"][0]["item_id"]
    gift_card = MIA.payment_methods["gift_card"]
    result = ops.return_delivered_order_items(order_id, [item_id], gift_card)
    assert result["return_payment_method_id"] == gift_card
    assert gift_card_balance(store, "mia_chen") == MIA.gift_card_balance


def test_return_both_units_of_a_duplicate(ops: RetailOperations, store: RetailStore) -> None:
    order_id = OMAR.orders["delivered_exchange"]
    shirt = order(store, order_id)["items"][0]["item_id"]
    card = OMAR.payment_methods["credit_card"]
    result = ops.return_delivered_order_items(order_id, [shirt, shirt], card)
    assert result["return_items"] == [shirt, shirt]


def test_return_refusals(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = OMAR.orders["delivered_exchange"]
    shirt = order(store, order_id)["items"][0]["item_id"]
    card, paypal = OMAR.payment_methods["credit_card"], OMAR.payment_methods["paypal"]
    ret = ops.return_delivered_order_items
    refused(dump, "requested 3 time.*holds 2", ret, order_id, [shirt] * 3, card)
    refused(dump, "Item 1234567890 not found", ret, order_id, ["1234567890"], card)
    refused(dump, "item_ids is empty", ret, order_id, [], card)
    refused(dump, "original payment method", ret, order_id, [shirt], paypal)
    refused(dump, "not found for user", ret, order_id, [shirt], MIA.payment_methods["gift_card"])
    pending = OMAR.orders["pending_paypal"]
    item = order(store, pending)["items"][0]["item_id"]
    refused(dump, "is 'pending'.*'delivered'", ret, pending, [item], paypal)


def test_a_delivered_order_is_returned_or_exchanged_once(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = MIA.orders["delivered_over_500"]
    item_id = order(store, order_id)["items"][0]["item_id"]
    card = MIA.payment_methods["credit_card"]
    ops.return_delivered_order_items(order_id, [item_id], card)
    refused(dump, "'return requested'", ops.return_delivered_order_items, order_id, [item_id], card)
    refused(
        dump,
        "'return requested'",
        ops.exchange_delivered_order_items,
        order_id,
        [item_id],
        [item_id],
        card,
    )


# exchange_delivered_order_items -------------------------------------------------------


def test_exchange_records_the_request_without_paying(ops: RetailOperations, store: RetailStore) -> None:
    order_id = OMAR.orders["delivered_exchange"]
    before = order(store, order_id)
    shirt = before["items"][0]
    product = store.get_product(shirt["product_id"])
    assert product is not None
    other = next(
        item_id for item_id in variant_ids(store, shirt) if product["variants"][item_id]["price"] != shirt["price"]
    )
    gift_card = OMAR.payment_methods["gift_card"]
    result = ops.exchange_delivered_order_items(
        order_id, [shirt["item_id"], shirt["item_id"]], [other, other], gift_card
    )
    assert result["status"] == "exchange requested"
    assert result["exchange_items"] == [shirt["item_id"]] * 2
    assert result["exchange_new_items"] == [other] * 2
    assert result["exchange_payment_method_id"] == gift_card
    difference = round(2 * (product["variants"][other]["price"] - shirt["price"]), 2)
    assert result["exchange_price_difference"] == difference
    assert result["items"] == before["items"]
    assert result["payment_history"] == before["payment_history"]
    assert gift_card_balance(store, "omar_haddad") == OMAR.gift_card_balance


def test_exchange_sorts_both_lists(ops: RetailOperations, store: RetailStore) -> None:
    order_id = OMAR.orders["delivered_exchange"]
    shirt, _, boots = order(store, order_id)["items"]
    new_shirt, new_boots = variant_ids(store, shirt)[0], variant_ids(store, boots)[0]
    card = OMAR.payment_methods["credit_card"]
    result = ops.exchange_delivered_order_items(
        order_id, [boots["item_id"], shirt["item_id"]], [new_boots, new_shirt], card
    )
    assert result["exchange_items"] == sorted([boots["item_id"], shirt["item_id"]])
    assert result["exchange_new_items"] == sorted([new_boots, new_shirt])


def test_exchange_refusals(ops: RetailOperations, store: RetailStore, dump: Dump) -> None:
    order_id = OMAR.orders["delivered_exchange"]
    shirt, _, boots = order(store, order_id)["items"]
    dearest_boots = variant_ids(store, boots)[-1]
    method = user(store, OMAR.user_id)["payment_methods"][OMAR.payment_methods["gift_card"]]
    product = store.get_product(boots["product_id"])
    assert product is not None
    assert product["variants"][dearest_boots]["price"] - boots["price"] > method["balance"]
    card, gift_card = OMAR.payment_methods["credit_card"], OMAR.payment_methods["gift_card"]
    exchange = ops.exchange_delivered_order_items
    refused(dump, "balance of 25", exchange, order_id, [boots["item_id"]], [dearest_boots], gift_card)
    refused(
        dump,
        "not an available variant of Hiking Boots",
        exchange,
        order_id,
        [boots["item_id"]],
        [shirt["item_id"]],
        card,
    )
    refused(dump, "exactly one new item", exchange, order_id, [boots["item_id"]], [], card)
    refused(
        dump,
        "requested 2 time",
        exchange,
        order_id,
        [boots["item_id"]] * 2,
        [dearest_boots] * 2,
        card,
    )
    refused(
        dump,
        "not found for user",
        exchange,
        order_id,
        [boots["item_id"]],
        [dearest_boots],
        "gift_card_1",
    )
    processed = MIA.orders["processed"]
    laptop = order(store, processed)["items"][0]["item_id"]
    refused(dump, "'processed'", exchange, processed, [laptop], [laptop], card)
