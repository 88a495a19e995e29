"""Helpers shared by the retail tests: personas, record access, variants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from switchboard.domains.retail import DEMO_PERSONAS, RetailStore
from switchboard.domains.retail.store import Record
from switchboard.errors import ToolError

Dump = Callable[[], list[str]]
"""Reads every row of the test's database, as SQL (the ``dump`` fixture)."""

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
"""The fixed "now" of every operation in these tests."""

MIA = DEMO_PERSONAS["mia_chen"]
OMAR = DEMO_PERSONAS["omar_haddad"]


def variant_ids(store: RetailStore, item: Record, *, available: bool = True) -> list[str]:
    """Other variants of an order item's product, by availability, cheapest first."""
    product = store.get_product(item["product_id"])
    assert product is not None
    variants = sorted(product["variants"].values(), key=lambda v: v["price"])
    return [v["item_id"] for v in variants if v["available"] is available and v["item_id"] != item["item_id"]]


def order(store: RetailStore, order_id: str) -> Record:
    record = store.get_order(order_id)
    assert record is not None
    return record


def user(store: RetailStore, user_id: str) -> Record:
    record = store.get_user(user_id)
    assert record is not None
    return record


def gift_card_balance(store: RetailStore, persona_key: str) -> float:
    persona = DEMO_PERSONAS[persona_key]
    method_id = persona.payment_methods["gift_card"]
    return float(user(store, persona.user_id)["payment_methods"][method_id]["balance"])


def refused(dump: Dump, message: str, call: Callable[..., Any], *args: Any) -> None:
    """``call(*args)`` raises a ToolError matching ``message`` and writes nothing at all."""
    before = dump()
    with pytest.raises(ToolError, match=message):
        call(*args)
    assert dump() == before
