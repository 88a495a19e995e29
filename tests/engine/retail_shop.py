"""The real retail shop for the engine tests, called in-process the way the MCP server calls it.

``Shop.call`` runs the :class:`~switchboard.domains.retail.RetailOperations` method of
the tool's name on a private copy of the generated demo data and turns the
outcome into what ``domains/retail/server.py`` sends back: the JSON text of
the result (a plain string stays a plain string), or the refusal's message
as an error. No MCP subprocess, so a whole simulated run stays fast.

The records the tests talk about come from the data itself: the demo
personas' orders, their items by name, and catalogue variants by options.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from switchboard.domains.retail import DEMO_PERSONAS, TOOL_NAMES, DemoPersona, RetailOperations, RetailStore
from switchboard.domains.retail.store import Record
from switchboard.errors import SwitchboardError

__all__ = ["MIA", "NOW", "OMAR", "Shop", "identified"]

MIA = DEMO_PERSONAS["mia_chen"]
OMAR = DEMO_PERSONAS["omar_haddad"]
NOW = datetime(2030, 1, 7, 9, 30, tzinfo=UTC)
"""The shop's fixed "now", so pickup dates do not depend on the day the tests run."""


class Shop:
    """A retail store with its operations, recording every tool call made on it."""

    def __init__(self, store: RetailStore) -> None:
        self.store = store
        """The store, for reading records and for building what the data lacks."""
        self.operations = RetailOperations(store, clock=lambda: NOW)
        """The operations, for setting a scene without recording calls."""
        self.calls: list[tuple[str, dict[str, Any]]] = []
        """Every tool call, as (name, arguments), in order."""

    def call(self, name: str, args: dict[str, Any]) -> tuple[bool, str]:
        """Run a tool: ``(True, result text)``, or ``(False, message)`` if the shop refused."""
        assert name in TOOL_NAMES, f"the retail server has no tool {name!r}"
        self.calls.append((name, dict(args)))
        try:
            result = getattr(self.operations, name)(**args)
        except SwitchboardError as exc:  # the server's error result, whose text is the message
            return False, str(exc)
        return True, result if isinstance(result, str) else json.dumps(result)

    def tools_called(self) -> list[str]:
        """The names of the tools called, in order."""
        return [name for name, _ in self.calls]

    def order(self, order_id: str) -> Record:
        """The order as stored now."""
        order = self.store.get_order(order_id)
        assert order is not None, f"no order {order_id}"
        return order

    def user(self, user_id: str) -> Record:
        """The user as stored now."""
        user = self.store.get_user(user_id)
        assert user is not None, f"no user {user_id}"
        return user

    def product(self, product_id: str) -> Record:
        """The product as stored now."""
        product = self.store.get_product(product_id)
        assert product is not None, f"no product {product_id}"
        return product

    def product_named(self, name: str) -> Record:
        """The catalogue's product called ``name``."""
        return next(p for p in self.store.products() if p["name"] == name)

    def item(self, order_id: str, name: str) -> Record:
        """The first item of an order whose product is called ``name``."""
        return next(i for i in self.order(order_id)["items"] if i["name"] == name)

    def variant(self, item: Record, **changes: str) -> Record:
        """The variant of the item's product with the item's options, but ``changes`` (``band_material=``...)."""
        wanted = {**item["options"], **{k.replace("_", " "): v for k, v in changes.items()}}
        variants = self.product(item["product_id"])["variants"].values()
        found = [v for v in variants if v["options"] == wanted]
        assert len(found) == 1, f"the catalogue has {len(found)} variants with {wanted}"
        return found[0]

    def request_return(self, order_id: str, reason: str | None = None) -> None:
        """Set the scene of a requested return: the order's first item, refunded to the original method.

        Goes through the operations themselves and is not recorded as a call.
        """
        order = self.order(order_id)
        method = order["payment_history"][0]["payment_method_id"]
        self.operations.return_delivered_order_items(order_id, [order["items"][0]["item_id"]], method)
        if reason is not None:
            self.operations.record_return_reason(order_id, reason)

    def sell_out(self, product_id: str, item_id: str) -> None:
        """Mark one variant of a product out of stock, for scenes the generated catalogue lacks."""
        product = self.product(product_id)
        product["variants"][item_id]["available"] = False
        self.store.put_product(product)

    def replace_item(self, order_id: str, item_id: str, variant: Record) -> None:
        """Make every unit of ``item_id`` in an order the given variant of the same product."""
        order = self.order(order_id)
        for item in order["items"]:
            if item["item_id"] == item_id:
                item.update(item_id=variant["item_id"], price=variant["price"], options=dict(variant["options"]))
        for fulfillment in order["fulfillments"]:
            fulfillment["item_ids"] = [variant["item_id"] if i == item_id else i for i in fulfillment["item_ids"]]
        self.store.put_order(order)


def identified(shop: Shop, persona: DemoPersona, scenario: str, item: str) -> dict[str, Any]:
    """The facts identify_customer hands on about one item of a persona's order, for later steps."""
    order = shop.order(persona.orders[scenario])
    return {
        "user_id": persona.user_id,
        "customer_name": persona.name,
        "order_id": order["order_id"],
        "order_status": order["status"],
        "item_ids": [shop.item(order["order_id"], item)["item_id"]],
        "payment_method_id": order["payment_history"][0]["payment_method_id"],
    }
