"""Shared precondition checks and money rules of the retail operations.

Every operation finds its records and checks its preconditions through these
helpers, so that the same failure reads the same way everywhere and the
money arithmetic (rounding, gift card balances) happens in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.domains.retail.store import Record, RetailStore
from switchboard.errors import DataError, ToolError

Clock = Callable[[], datetime]
"""Returns the current time; injected so tests can fix dates."""


def money(amount: float) -> float:
    """Round an amount to cents, as the benchmark does wherever money changes."""
    return round(amount, 2)


def held_by_method(history: Sequence[Record]) -> dict[str, float]:
    """What each payment method has paid for an order, net of refunds, in cents."""
    held: dict[str, float] = {}
    for entry in history:
        sign = 1 if entry["transaction_type"] == "payment" else -1
        method_id = entry["payment_method_id"]
        held[method_id] = money(held.get(method_id, 0) + sign * entry["amount"])
    return held


def _now() -> datetime:
    return datetime.now().astimezone()


@dataclass(frozen=True)
class PriceChange:
    """The effect of swapping some of an order's items for other variants."""

    positions: tuple[int, ...]
    """Index in ``order["items"]`` of each swapped item, in request order."""
    variants: tuple[Record, ...]
    """The new product variant for each position."""
    difference: float
    """New total minus old total, unrounded (callers round where needed)."""


class OperationsBase:
    """State and checks shared by the benchmark and the return operations."""

    def __init__(self, store: RetailStore, *, clock: Clock | None = None) -> None:
        """Operate on ``store``; ``clock`` defaults to the local time."""
        self._store = store
        self._clock: Clock = clock or _now

    @property
    def store(self) -> RetailStore:
        """The database the operations read and write."""
        return self._store

    def _user(self, user_id: str) -> Record:
        user = self._store.get_user(user_id)
        if user is None:
            raise ToolError(
                f"User {user_id!r} not found. Look the id up with find_user_id_by_email "
                "or find_user_id_by_name_zip."
            )
        return user

    def _order(self, order_id: str) -> Record:
        order = self._store.get_order(order_id)
        if order is None:
            raise ToolError(
                f"Order {order_id!r} not found. Check the id: it starts with '#W', "
                "and get_user_details lists the user's orders."
            )
        return order

    def _product(self, product_id: str) -> Record:
        product = self._store.get_product(product_id)
        if product is None:
            raise ToolError(
                f"Product {product_id!r} not found. list_all_product_types gives every "
                "product id; an order's items carry theirs."
            )
        return product

    def _owner(self, order: Record) -> Record:
        """The user an order belongs to; a dangling owner is a data problem."""
        user = self._store.get_user(order["user_id"])
        if user is None:
            raise DataError(
                f"Order {order['order_id']!r} belongs to unknown user {order['user_id']!r}; "
                "reload the data directory with load_directory."
            )
        return user

    @staticmethod
    def _require_status(order: Record, allowed: Sequence[str], action: str, hint: str) -> None:
        """Refuse unless the order is in one of the ``allowed`` statuses."""
        if order["status"] not in allowed:
            wanted = " or ".join(repr(status) for status in allowed)
            raise ToolError(
                f"Order {order['order_id']} is {order['status']!r}, but only a {wanted} "
                f"order can be {action}. {hint}"
            )

    @staticmethod
    def _payment_method(user: Record, payment_method_id: str, user_id: str) -> Record:
        """One of the user's own payment methods, or a clear refusal."""
        method: Record | None = user["payment_methods"].get(payment_method_id)
        if method is None:
            owned = ", ".join(user["payment_methods"]) or "none"
            raise ToolError(
                f"Payment method {payment_method_id!r} not found for user {user_id}. "
                f"Use one of the user's own payment methods: {owned}."
            )
        return method

    @staticmethod
    def _stored_method(user: Record, payment_method_id: str, order: Record) -> Record:
        """A payment method an order already used; missing means corrupt data."""
        method: Record | None = user["payment_methods"].get(payment_method_id)
        if method is None:
            raise DataError(
                f"Order {order['order_id']!r} refers to payment method {payment_method_id!r}, "
                f"which user {order['user_id']!r} does not have; reload the data directory."
            )
        return method

    @staticmethod
    def _adjust_gift_card(method: Record, delta: float) -> None:
        """Add ``delta`` (negative to debit) to a gift card; other methods are external."""
        if method["source"] == "gift_card":
            method["balance"] = money(method["balance"] + delta)

    @staticmethod
    def _item_positions(order: Record, item_ids: Sequence[str]) -> list[int]:
        """Index of each requested item in the order, counting duplicates.

        Asking for an item twice needs two units of it in the order; each
        request is matched to a distinct unit, first unused unit first.
        """
        if not item_ids:
            raise ToolError("item_ids is empty: name at least one item id from the order.")
        used: set[int] = set()
        positions = []
        for item_id in item_ids:
            for index, item in enumerate(order["items"]):
                if index not in used and item["item_id"] == item_id:
                    used.add(index)
                    positions.append(index)
                    break
            else:
                held = sum(1 for item in order["items"] if item["item_id"] == item_id)
                wanted = list(item_ids).count(item_id)
                raise ToolError(
                    f"Item {item_id} not found in order {order['order_id']}: requested "
                    f"{wanted} time(s), the order holds {held}. Use the item ids from "
                    "get_order_details, once per unit."
                )
        return positions

    def _price_change(
        self, order: Record, item_ids: Sequence[str], new_item_ids: Sequence[str]
    ) -> PriceChange:
        """Check an item swap the way the benchmark does, and price it.

        The old items must be in the order (counting duplicates), both lists
        must have the same length, and each new item must be an available
        variant of the same product as the item it replaces.
        """
        positions = self._item_positions(order, item_ids)
        if len(item_ids) != len(new_item_ids):
            raise ToolError(
                f"item_ids has {len(item_ids)} item(s) but new_item_ids has "
                f"{len(new_item_ids)}: give exactly one new item per item to replace."
            )
        difference = 0.0
        variants = []
        for position, new_item_id in zip(positions, new_item_ids, strict=True):
            item = order["items"][position]
            product = self._product(item["product_id"])
            variant: dict[str, Any] | None = product["variants"].get(new_item_id)
            if variant is None or not variant["available"]:
                raise ToolError(
                    f"New item {new_item_id} is not an available variant of {product['name']} "
                    f"(product {product['product_id']}), the product of item {item['item_id']}. "
                    "Pick an available variant from get_product_details."
                )
            variants.append(variant)
            difference += variant["price"] - item["price"]
        return PriceChange(tuple(positions), tuple(variants), difference)
