"""Exchanges and item changes: exactly the units asked for, into exactly the options asked for.

Omar's delivered order #W9000004 holds the same blue L t-shirt twice and a
black watch with a silicone band and an AMOLED display.
"""

from __future__ import annotations

from typing import Any

from switchboard.engine import EmbeddedChatModel
from tests.engine.engine_kit import FakeStore, card, run_agent, simulate, tools_called

OMAR = "omar.haddad@example.com"


def _exchange(model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]], task: str) -> dict[str, Any]:
    handoff, _ = run_agent(
        model,
        store,
        card(cards, "finance"),
        task=task,
        instruction="Exchange.",
        skill="process_exchange",
        context={},
    )
    return handoff


def test_both_units_of_a_doubled_item_are_exchanged(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff = _exchange(model, store, cards, f"{OMAR}: please exchange the two t-shirts from #W9000004 for red ones.")
    assert handoff["status"] == "done"
    order = store.orders["#W9000004"]
    assert (order["exchange_items"], order["exchange_new_items"]) == (["7000000022"] * 2, ["7000000023"] * 2)
    assert "2 x T-Shirt" in handoff["summary"]


def test_one_unit_when_one_shirt_is_named(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff = _exchange(model, store, cards, f"{OMAR}: exchange one of the t-shirts from #W9000004 for a size down.")
    assert handoff["status"] == "done"
    order = store.orders["#W9000004"]
    assert (order["exchange_items"], order["exchange_new_items"]) == (["7000000022"], ["7000000021"])  # blue M


def test_an_unsold_combination_fails_instead_of_changing_other_options(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff = _exchange(model, store, cards, f"{OMAR}: I'd like the same watch from #W9000004 in silver.")
    assert handoff["status"] == "failed"
    assert "color silver, band material silicone, display AMOLED is out of stock" in handoff["summary"]
    assert "exchange_delivered_order_items" not in tools_called(store)
    handoff = _exchange(model, FakeStore(), cards, f"{OMAR}: exchange the t-shirt from #W9000004 for size M in red.")
    assert "T-Shirt in color red, size M is not sold" in handoff["summary"]


def test_a_size_up_beyond_the_largest_fails_clearly(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    handoff = _exchange(model, store, cards, f"{OMAR}: exchange a t-shirt from #W9000004 for one size bigger.")
    assert handoff["status"] == "failed"
    assert "already the largest size" in handoff["summary"]


def test_a_whole_exchange_of_both_shirts(
    model: EmbeddedChatModel, store: FakeStore, cards: list[dict[str, Any]]
) -> None:
    task = "Hi, Omar Haddad here (zip 10001). Please exchange both shirts I received for the red ones."
    progress, _, decisions = simulate(model, store, cards, task)
    assert [(p["skill"], p["status"]) for p in progress] == [
        ("process_exchange", "done"),
        ("schedule_pickup", "done"),
        ("notify_customer", "done"),
    ]
    assert store.calls[0] == ("find_user_id_by_name_zip", {"first_name": "Omar", "last_name": "Haddad", "zip": "10001"})
    assert store.orders["#W9000004"]["exchange_new_items"] == ["7000000023"] * 2
    assert decisions[-1]["action"] == "finish"
