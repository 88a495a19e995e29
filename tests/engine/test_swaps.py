"""Exchanges and item changes: exactly the units asked for, into exactly the options asked for.

Omar's delivered order holds the same t-shirt twice (green, XL, cotton,
crew neck) and a pair of hiking boots; the only other variant of that shirt
with the same size, material and style is the red one.
"""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.domains.retail.store import Record
from tests.engine.engine_kit import RetailTeam
from tests.engine.retail_shop import OMAR

ORDER = OMAR.orders["delivered_exchange"]


@pytest.fixture
def shirt(team: RetailTeam) -> Record:
    """One of Omar's two identical t-shirts."""
    return team.shop.item(ORDER, "T-Shirt")


def _exchange(team: RetailTeam, task: str) -> dict[str, Any]:
    return team.step("finance", "process_exchange", task=f"{OMAR.email}: {task}", instruction="Exchange.")


def test_both_units_of_a_doubled_item_are_exchanged(team: RetailTeam, shirt: Record) -> None:
    handoff = _exchange(team, f"please exchange the two t-shirts from {ORDER} for red ones.")
    assert handoff["status"] == "done"
    red = team.shop.variant(shirt, color="red")
    order = team.shop.order(ORDER)
    assert (order["exchange_items"], order["exchange_new_items"]) == ([shirt["item_id"]] * 2, [red["item_id"]] * 2)
    assert "2 x T-Shirt" in handoff["summary"]


def test_one_unit_when_one_shirt_is_named(team: RetailTeam, shirt: Record) -> None:
    handoff = _exchange(team, f"exchange one of the t-shirts from {ORDER} for a red one.")
    assert handoff["status"] == "done"
    red = team.shop.variant(shirt, color="red")
    order = team.shop.order(ORDER)
    assert (order["exchange_items"], order["exchange_new_items"]) == ([shirt["item_id"]], [red["item_id"]])


def test_an_unsold_combination_fails_instead_of_changing_other_options(team: RetailTeam, shirt: Record) -> None:
    red = team.shop.variant(shirt, color="red")
    team.shop.sell_out(shirt["product_id"], red["item_id"])
    handoff = _exchange(team, f"I'd like the same t-shirt from {ORDER} in red.")
    assert handoff["status"] == "failed"
    assert "color red, size XL, material cotton, style crew neck is out of stock" in handoff["summary"]
    handoff = _exchange(team, f"exchange the t-shirt from {ORDER} for size M in red.")
    assert handoff["status"] == "failed"
    assert "T-Shirt in color red, size M, material cotton, style crew neck is not sold" in handoff["summary"]
    assert "exchange_delivered_order_items" not in team.shop.tools_called()
    assert team.shop.order(ORDER)["status"] == "delivered"


def test_a_size_up_beyond_the_largest_fails_clearly(team: RetailTeam, shirt: Record) -> None:
    largest = next(
        v for v in team.shop.product(shirt["product_id"])["variants"].values() if v["options"]["size"] == "XXL"
    )
    team.shop.replace_item(ORDER, shirt["item_id"], largest)  # Omar's shirts are the largest size sold
    handoff = _exchange(team, f"exchange a t-shirt from {ORDER} for one size bigger.")
    assert handoff["status"] == "failed"
    assert "already the largest size" in handoff["summary"]


def test_a_whole_exchange_of_both_shirts(team: RetailTeam, shirt: Record) -> None:
    task = f"Hi, Omar Haddad here (zip {OMAR.zip}). Please exchange both shirts I received for the red ones."
    progress, _, decisions = team.simulate(task)
    assert [(p["skill"], p["status"]) for p in progress] == [
        ("process_exchange", "done"),
        ("schedule_pickup", "done"),
        ("notify_customer", "done"),
    ]
    name_zip = {"first_name": "Omar", "last_name": "Haddad", "zip": OMAR.zip}
    assert team.shop.calls[0] == ("find_user_id_by_name_zip", name_zip)
    red = team.shop.variant(shirt, color="red")
    assert team.shop.order(ORDER)["exchange_new_items"] == [red["item_id"]] * 2
    assert decisions[-1]["action"] == "finish"
