"""Retail slot extraction and matching of customer words to records."""

from __future__ import annotations

from typing import Any

import pytest

from domains.retail.playbook_match import (
    choose_variant,
    find_products,
    match_items,
    relative_size,
    units,
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
    assert isinstance(red, dict) and red["item_id"] == "7000000012"
    assert "out of stock" in str(choose_variant(bottle, current, "1000ml red"))
    assert "names no option" in str(choose_variant(bottle, current, "a nicer one"))
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


@pytest.mark.parametrize(
    ("text", "name", "zip_code"),
    [
        ("Mia Chen, 94105. Where is my order?", ("Mia", "Chen"), "94105"),
        ("Raj Sanchez here (zip 92147). Cancel my pending order.", ("Raj", "Sanchez"), "92147"),
        ("Please cancel my pending order \u2014 Mia Chen 94105", ("Mia", "Chen"), "94105"),
        ("Cancel my pending order - Mia Chen, zip 94105.", ("Mia", "Chen"), "94105"),
        ("name: Mia Chen, zip code 94105. Where is my laptop?", ("Mia", "Chen"), "94105"),
        ("Hi, Omar Haddad (10001) here: where are my boots?", ("Omar", "Haddad"), "10001"),
        ("Where are my boots? Omar Haddad, 10001", ("Omar", "Haddad"), "10001"),
    ],
)
def test_names_next_to_a_zip_or_an_introduction(text: str, name: tuple[str, str], zip_code: str) -> None:
    slots = extract_slots(text)
    assert (slots.get("first_name"), slots.get("last_name"), slots.get("zip")) == (*name, zip_code)


@pytest.mark.parametrize(
    "text",
    [
        "Return the Hiking Boots, 10001 is my zip.",
        "I live in New York 10001, please cancel my order.",
        "Ship my pending order to New York, 10001.",
        "Dear Support Team, 94105 is my zip code.",
        "Hello, New Order here: W1234567.",
        "Please Cancel 94105",
    ],
)
def test_capitalised_words_near_a_zip_are_not_always_a_name(text: str) -> None:
    assert "first_name" not in extract_slots(text)


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Can I exchange my hiking boots for size 8 instead of 7?", "size 8"),
        ("Exchange the boots, size 8 instead of 7 please.", "size 8"),
        ("I'd like the same shirt in size M.", "size M"),
        ("Swap my watch for the same watch in silver.", "silver"),
        ("Please exchange both shirts for a size up.", "a size up"),
        ("I want the boots one size bigger.", "one size bigger"),
        ("Can I get the boots in size 10?", "size 10"),
        ("Exchange the boots for size 10, they pinch.", "size 10"),
        ("Exchange the boots for the customer Mia.", None),
        ("I need a different size for the yoga mat I received, 6mm instead of 4mm.", "6mm"),
        ("My kid wants the maple deck instead of the bamboo one.", None),
    ],
)
def test_wanted_variant(text: str, target: str | None) -> None:
    assert extract_slots(text).get("target") == target


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I'd like to return the hiking boots from #W0741926, they pinch my toes.", "they pinch my toes"),
        ("Please return the yoga mat from order #W0372018, it's too thin.", "too thin"),
        ("Return the boots because they pinch my toes.", "they pinch my toes"),
        ("Record the return reason for order #W1. Reason: they pinch my toes.", "they pinch my toes"),
        ("Record the return reason for order #W1.", None),  # "reason for" is no reason
        ("Log the customer's return reason for W3939393: didn't fit.", "didn't fit"),
        ("Show return reason stats.", None),
        ("Return it, it's Omar Haddad here.", None),
        ("Where is my order? It was supposed to arrive on Monday.", None),  # not a return
        ("Return my boots. Is it possible today?", None),
    ],
)
def test_return_reason_in_the_customers_own_words(text: str, reason: str | None) -> None:
    assert extract_slots(text).get("reason") == reason


def test_units_of_an_item_the_order_holds_twice() -> None:
    items = ORDERS["#W9000004"]["items"]
    shirt = ["7000000022"]
    assert units(items, shirt, "exchange the two t-shirts") == shirt * 2
    assert units(items, shirt, "both shirts, please") == shirt * 2
    assert units(items, shirt, "the t-shirts are too big") == shirt * 2
    assert units(items, shirt, "exchange the t-shirt") == shirt
    assert units(items, shirt, "one of the t-shirts") == shirt
    assert units(items, ["7000000041"], "both watches") == ["7000000041"]  # the order holds one


def test_a_swap_keeps_every_option_not_asked_for() -> None:
    watch, current = PRODUCTS["5000000005"], ORDERS["#W9000004"]["items"][2]
    why = choose_variant(watch, current, "silver")
    assert isinstance(why, str)  # not the pricier metal AMOLED one, not the LCD one
    assert "color silver, band material silicone, display AMOLED is out of stock" in why
    assert "Available with color silver: band material metal, display AMOLED" in why
    assert "already is" in str(choose_variant(watch, current, "black"))
    shirt = PRODUCTS["5000000003"]
    blue_l = ORDERS["#W9000004"]["items"][0]
    assert "T-Shirt in color red, size M is not sold" in str(choose_variant(shirt, blue_l, "red in size M"))
    red_l = choose_variant(shirt, blue_l, "the red one")
    assert isinstance(red_l, dict) and red_l["item_id"] == "7000000023"


def test_relative_sizes() -> None:
    assert [relative_size(t) for t in ("a size up", "one size bigger", "two sizes smaller", "size down")] == [
        1,
        1,
        -2,
        -1,
    ]
    assert relative_size("half a size up") == 0 and relative_size("size 10") is None
    shirt, blue_l = PRODUCTS["5000000003"], ORDERS["#W9000004"]["items"][0]
    down = choose_variant(shirt, blue_l, "a size down")
    assert isinstance(down, dict) and down["options"] == {"color": "blue", "size": "M"}
    assert "already the largest size" in str(choose_variant(shirt, blue_l, "one size bigger"))
    boots = PRODUCTS["5000000004"]
    ten = {"item_id": "7000000031", "options": {"size": "10", "color": "brown"}}
    up = choose_variant(boots, ten, "a size up")
    assert isinstance(up, dict) and up["item_id"] == "7000000033"
    assert "Half sizes" in str(choose_variant(boots, ten, "half a size up"))
    assert "no size option" in str(choose_variant(PRODUCTS["5000000005"], ORDERS["#W9000004"]["items"][2], "a size up"))
