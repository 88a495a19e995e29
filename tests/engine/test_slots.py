"""Retail slot extraction and matching of customer words to records."""

from __future__ import annotations

from typing import Any

import pytest

from domains.retail.playbook_match import (
    choose_variant,
    find_products,
    match_items,
    variants_matching,
)
from domains.retail.slots import SLOT_NAMES, extract_slots
from tests.engine.fake_store import ORDERS, PRODUCTS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My email is Sam.O+x@Example.co.uk, thanks", {"email": "Sam.O+x@Example.co.uk"}),
        ("Return #W1234567 and also W7654321", {"order_ids": ["#W1234567", "#W7654321"]}),
        ("I'm Mia Chen, zip 10001", {"first_name": "Mia", "last_name": "Chen", "zip": "10001"}),
        (
            "my name is jane doe and my zip code is 02115",
            {"first_name": "Jane", "last_name": "Doe", "zip": "02115"},
        ),
        (
            "This is Tom Reed from 94107.",
            {"first_name": "Tom", "last_name": "Reed", "zip": "94107"},
        ),
        (
            "Cancel my order please.\nThanks,\nHelen Park",
            {"first_name": "Helen", "last_name": "Park"},
        ),
        ("Cancel it. - Ana Lima", {"first_name": "Ana", "last_name": "Lima"}),
        ("Return everything in the order", {"all_items": True}),
        (
            "Return it because the zipper broke on day one.",
            {"reason": "the zipper broke on day one"},
        ),
        ("The kettle arrived damaged.", {"reason": "arrived damaged"}),
        ("Shoes are too small", {"reason": "too small"}),
        ("cancel, I ordered by mistake", {"cancel_reason": "ordered by mistake"}),
        ("cancel it, I no longer need it", {"cancel_reason": "no longer needed"}),
        ("refund to my gift card please", {"refund_to": "gift_card"}),
        ("refund the original payment method", {"refund_to": "original"}),
        ("Switch payment from PayPal to my credit card", {"refund_to": "credit_card"}),
        ("I paid with my credit card, put it on PayPal", {"refund_to": "paypal"}),
        ("Exchange the blue water bottle I received for the red one.", {"target": "the red one"}),
        ("The boots are too small, I'd like a size 11 instead.", {"target": "size 11"}),
        ("Before it ships, change the t-shirt in my order to size L.", {"target": "size L"}),
        ("Please pick it up on 2030-05-01", {"pickup_date": "2030-05-01"}),
        ("I discovered the lamp was broken", {"refund_to": None, "reason": "arrived damaged"}),
        ("It's no longer needed", {"cancel_reason": "no longer needed"}),
    ],
)
def test_extract_slots(text: str, expected: dict[str, Any]) -> None:
    slots = extract_slots(text)
    assert {k: slots.get(k) for k in expected} == expected
    assert set(slots) <= set(SLOT_NAMES)


@pytest.mark.parametrize(
    "text",
    ["This is Urgent, cancel my order", "I'm Not Happy with it", "I'm looking for a refund"],
)
def test_no_false_names(text: str) -> None:
    assert "first_name" not in extract_slots(text)


def test_new_address_and_its_scope() -> None:
    slots = extract_slots("I moved, please ship my pending order to 12 Oak St, Austin TX 78701.")
    assert slots["new_address"] == {
        "address1": "12 Oak St",
        "address2": "",
        "city": "Austin",
        "state": "TX",
        "country": "USA",
        "zip": "78701",
    }
    assert slots["address_scope"] == "order"
    assert "zip" not in slots  # the new address's zip does not identify the customer
    default = extract_slots("Change my default address to 9 Elm Road, Apt 3, Boston, MA 02115.")
    assert default["new_address"]["address2"] == "Apt 3"
    assert default["address_scope"] == "user"


def test_items_are_matched_by_name_and_options() -> None:
    items = ORDERS["#W9000001"]["items"]
    assert match_items(items, "return the headphones") == ["7000000001"]
    assert match_items(items, "my bottle leaks") == ["7000000011"]
    assert match_items(items, "the headphones and the water bottle") == ["7000000001", "7000000011"]
    assert match_items(items, "the toaster") == []
    twins = [*items, {**items[0], "item_id": "7000000002", "options": {"color": "white"}}]
    assert match_items(twins, "the white headphones") == ["7000000002"]


def test_variants_are_chosen_by_the_asked_options() -> None:
    bottle = PRODUCTS["5000000002"]
    current = ORDERS["#W9000001"]["items"][1]
    red = choose_variant(bottle, current, "the red one")
    assert red is not None and red["item_id"] == "7000000012"
    assert choose_variant(bottle, current, "1000ml red") is None  # unavailable
    assert choose_variant(bottle, current, "a nicer one") is None
    boots = PRODUCTS["5000000004"]
    assert [v["item_id"] for v in variants_matching(boots, "boots in size 10?")] == [
        "7000000031",
        "7000000032",
    ]


def test_products_are_found_by_name() -> None:
    catalogue = {p["name"]: pid for pid, p in PRODUCTS.items()}
    assert find_products(catalogue, "Do you have hiking boots?") == [("Hiking Boots", "5000000004")]
    assert find_products(catalogue, "any tshirts in red?") == [("T-Shirt", "5000000003")]
    assert find_products(catalogue, "a sofa") == []
