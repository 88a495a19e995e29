"""Retail slot extraction and matching of customer words to records."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.domains.retail.playbook_match import (
    choose_variant,
    find_products,
    match_items,
    relative_size,
    units,
    variants_matching,
)
from switchboard.domains.retail.slots import SLOT_NAMES, extract_slots
from switchboard.domains.retail.store import Record
from tests.engine.retail_shop import MIA, OMAR, Shop


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


# Matching words to the shop's records: Mia's and Omar's orders and the generated catalogue.


def _with(product: Record, **options: str) -> Record:
    """The product's variant with exactly these options (``band_material=`` for "band material")."""
    wanted = {k.replace("_", " "): v for k, v in options.items()}
    return next(v for v in product["variants"].values() if v["options"] == wanted)


def test_items_are_matched_by_name_and_options(shop: Shop) -> None:
    items = shop.order(MIA.orders["delivered_under_500"])["items"]
    bottle, shirt, mat = (i["item_id"] for i in items)
    assert [i["name"] for i in items] == ["Water Bottle", "T-Shirt", "Yoga Mat"]
    assert match_items(items, "return the yoga mat") == [mat]
    assert match_items(items, "my bottle leaks") == [bottle]
    assert match_items(items, "the t-shirt and the water bottle") == [bottle, shirt]
    assert match_items(items, "the toaster") == []
    white = shop.variant(items[0], color="white")
    twins = [*items, {**items[0], "item_id": white["item_id"], "options": white["options"]}]
    assert items[0]["options"]["color"] != "white"
    assert match_items(twins, "the white water bottle") == [white["item_id"]]


def test_variants_are_chosen_by_the_asked_options(shop: Shop) -> None:
    current = shop.item(MIA.orders["delivered_under_500"], "Water Bottle")
    bottle = shop.product(current["product_id"])
    white = choose_variant(bottle, current, "the white one")
    assert isinstance(white, dict) and white["options"] == {**current["options"], "color": "white"}
    assert not shop.variant(current, material="stainless steel", color="white")["available"]
    assert "out of stock" in str(choose_variant(bottle, current, "stainless steel in white"))
    assert "names no option" in str(choose_variant(bottle, current, "a nicer one"))
    boots = shop.product_named("Hiking Boots")
    found = variants_matching(boots, "boots in size 7?")
    assert {v["options"]["size"] for v in found} == {"7"} and {v["available"] for v in found} == {True, False}
    assert len(found) == sum(v["options"]["size"] == "7" for v in boots["variants"].values())


def test_products_are_found_by_name(shop: Shop) -> None:
    catalogue = shop.operations.list_all_product_types()
    assert find_products(catalogue, "Do you have hiking boots?") == [("Hiking Boots", catalogue["Hiking Boots"])]
    assert find_products(catalogue, "any tshirts in red?") == [("T-Shirt", catalogue["T-Shirt"])]
    assert find_products(catalogue, "a sofa") == []


def test_units_of_an_item_the_order_holds_twice(shop: Shop) -> None:
    items = shop.order(OMAR.orders["delivered_exchange"])["items"]
    assert [i["name"] for i in items] == ["T-Shirt", "T-Shirt", "Hiking Boots"]
    shirt, boots = [items[0]["item_id"]], items[2]["item_id"]
    assert units(items, shirt, "exchange the two t-shirts") == shirt * 2
    assert units(items, shirt, "both shirts, please") == shirt * 2
    assert units(items, shirt, "the t-shirts are too big") == shirt * 2
    assert units(items, shirt, "exchange the t-shirt") == shirt
    assert units(items, shirt, "one of the t-shirts") == shirt
    assert units(items, [boots], "both boots") == [boots]  # the order holds one pair


def test_a_swap_keeps_every_option_not_asked_for(shop: Shop) -> None:
    watch = shop.product_named("Smart Watch")
    current = _with(watch, color="black", band_material="silicone", display="AMOLED")
    why = choose_variant(watch, current, "gold")
    assert isinstance(why, str)  # not a metal or LCD one, which are in stock
    assert "color gold, band material silicone, display AMOLED is out of stock" in why
    assert "Available with color gold: band material metal, display LCD; band material silicone, display LCD" in why
    assert "already is" in str(choose_variant(watch, current, "black"))
    shirt = shop.item(OMAR.orders["delivered_exchange"], "T-Shirt")
    product = shop.product(shirt["product_id"])
    assert "T-Shirt in color red, size M, material cotton, style crew neck is not sold" in str(
        choose_variant(product, shirt, "red in size M")
    )
    red = choose_variant(product, shirt, "the red one")
    assert isinstance(red, dict) and red["item_id"] == shop.variant(shirt, color="red")["item_id"]


def test_relative_sizes(shop: Shop) -> None:
    assert [relative_size(t) for t in ("a size up", "one size bigger", "two sizes smaller", "size down")] == [
        1,
        1,
        -2,
        -1,
    ]
    assert relative_size("half a size up") == 0 and relative_size("size 10") is None
    shirts = shop.product_named("T-Shirt")
    white_l = _with(shirts, color="white", size="L", material="cotton", style="crew neck")
    down = choose_variant(shirts, white_l, "a size down")
    assert isinstance(down, dict) and down["options"] == {**white_l["options"], "size": "M"}
    largest = next(v for v in shirts["variants"].values() if v["options"]["size"] == "XXL")
    assert "already the largest size" in str(choose_variant(shirts, largest, "one size bigger"))
    boots = shop.product_named("Hiking Boots")
    ten = _with(boots, size="10", material="leather", waterproof="no")
    up = choose_variant(boots, ten, "a size up")
    assert isinstance(up, dict) and up["options"] == {**ten["options"], "size": "11"}
    assert "Half sizes" in str(choose_variant(boots, ten, "half a size up"))
    watch = shop.product_named("Smart Watch")
    black = _with(watch, color="black", band_material="silicone", display="AMOLED")
    assert "no size option" in str(choose_variant(watch, black, "a size up"))
