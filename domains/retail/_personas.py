"""The fixed demo customers that docs, demos and tests rely on.

Their ids, orders and payment methods do not depend on the dataset seed, so
"Mia Chen's delivered order over $500" means the same order in every
generated dataset. Each scenario's promise (over $500, paid by gift card, an
item with another variant at a different price...) is checked when the data
is built, so a catalogue change cannot silently break a demo.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from switchboard.domains.retail.store import Record
from switchboard.errors import DataError


@dataclass(frozen=True)
class DemoPersona:
    """A demo customer and the order that fits each scenario."""

    name: str
    """Full name, as a customer would give it."""
    email: str
    """Email address, found by ``find_user_id_by_email``."""
    zip: str
    """Zip code of the default address, for ``find_user_id_by_name_zip``."""
    user_id: str
    """The user id in the generated data."""
    orders: Mapping[str, str]
    """Scenario name to order id."""
    payment_methods: Mapping[str, str]
    """Payment source (``credit_card``, ``gift_card``, ``paypal``) to payment method id."""
    gift_card_balance: float
    """Starting balance of the persona's gift card."""


DEMO_PERSONAS: Mapping[str, DemoPersona] = MappingProxyType(
    {
        "mia_chen": DemoPersona(
            name="Mia Chen",
            email="mia.chen@example.com",
            zip="94105",
            user_id="mia_chen_4817",
            orders=MappingProxyType(
                {
                    # Water bottle, t-shirt and yoga mat, paid by gift card.
                    "delivered_under_500": "#W0372018",
                    # A laptop, paid by credit card.
                    "processed": "#W0518374",
                    # Espresso machine, headphones and a notebook, by credit card;
                    # the espresso machine and headphones alone exceed $500.
                    "delivered_over_500": "#W0465291",
                    # Wireless earbuds and an electric kettle, by credit card,
                    # cheaper than the gift card balance.
                    "pending": "#W0627403",
                }
            ),
            payment_methods=MappingProxyType(
                {
                    "credit_card": "credit_card_0420357",
                    "gift_card": "gift_card_0583021",
                    "paypal": "paypal_0391862",
                }
            ),
            gift_card_balance=350,
        ),
        "omar_haddad": DemoPersona(
            name="Omar Haddad",
            email="omar.haddad@example.com",
            zip="10001",
            user_id="omar_haddad_2290",
            orders=MappingProxyType(
                {
                    # Two units of the same t-shirt and hiking boots, by credit card.
                    "delivered_exchange": "#W0741926",
                    # A bluetooth speaker and a desk lamp, paid by paypal.
                    "pending_paypal": "#W0853610",
                }
            ),
            payment_methods=MappingProxyType(
                {
                    "paypal": "paypal_0284617",
                    "credit_card": "credit_card_0719254",
                    "gift_card": "gift_card_0846150",
                }
            ),
            gift_card_balance=25,
        ),
    }
)
"""The demo customers, by short name."""

_ADDRESSES = {
    "mia_chen": ("201 Mission Street", "Apt 12C", "San Francisco", "CA", "94105"),
    "omar_haddad": ("350 West 31st Street", "Apt 4F", "New York", "NY", "10001"),
}
_CARDS = {"mia_chen": ("visa", "4417"), "omar_haddad": ("mastercard", "8832")}

# (persona, scenario, status, paying source, [(product name, which variant), ...])
_ORDERS = (
    ("mia_chen", "delivered_under_500", "delivered", "gift_card",
     [("Water Bottle", "cheapest"), ("T-Shirt", "first"), ("Yoga Mat", "cheapest")]),
    ("mia_chen", "processed", "processed", "credit_card", [("Laptop", "cheapest")]),
    ("mia_chen", "delivered_over_500", "delivered", "credit_card",
     [("Espresso Machine", "first"), ("Headphones", "first"), ("Notebook", "cheapest")]),
    ("mia_chen", "pending", "pending", "credit_card",
     [("Wireless Earbuds", "cheapest"), ("Electric Kettle", "cheapest")]),
    ("omar_haddad", "delivered_exchange", "delivered", "credit_card",
     [("T-Shirt", "first"), ("T-Shirt", "first"), ("Hiking Boots", "first")]),
    ("omar_haddad", "pending_paypal", "pending", "paypal",
     [("Bluetooth Speaker", "cheapest"), ("Desk Lamp", "cheapest")]),
)  # fmt: skip


def persona_records(catalog: dict[str, Record]) -> tuple[dict[str, Record], list[Record]]:
    """The personas' user records (by user id) and their orders, in that order."""
    users = {persona.user_id: _user(key, persona) for key, persona in DEMO_PERSONAS.items()}
    orders = []
    for key, scenario, status, source, picks in _ORDERS:
        persona = DEMO_PERSONAS[key]
        user = users[persona.user_id]
        items = [_item(catalog, name, pick) for name, pick in picks]
        order = _order(persona.orders[scenario], persona, user, items, status, source)
        user["orders"].append(order["order_id"])
        orders.append(order)
    _check_promises(catalog, {order["order_id"]: order for order in orders})
    return users, orders


def tracking_id_for(order_id: str) -> str:
    """A fixed 12-digit tracking id, below the reference data's (from 101031430076)."""
    digest = hashlib.sha256(f"tracking:{order_id}".encode()).digest()
    return str(100_000_000_000 + int.from_bytes(digest[:8], "big") % 1_000_000_000)


def _user(key: str, persona: DemoPersona) -> Record:
    first, last = persona.name.split(" ", 1)
    address1, address2, city, state, zip_code = _ADDRESSES[key]
    brand, last_four = _CARDS[key]
    methods = persona.payment_methods
    return {
        "name": {"first_name": first, "last_name": last},
        "address": {
            "address1": address1,
            "address2": address2,
            "city": city,
            "country": "USA",
            "state": state,
            "zip": zip_code,
        },
        "email": persona.email,
        "payment_methods": {
            methods["credit_card"]: {
                "source": "credit_card",
                "brand": brand,
                "last_four": last_four,
                "id": methods["credit_card"],
            },
            methods["gift_card"]: {
                "source": "gift_card",
                "balance": persona.gift_card_balance,
                "id": methods["gift_card"],
            },
            methods["paypal"]: {"source": "paypal", "id": methods["paypal"]},
        },
        "orders": [],
    }


def _item(catalog: dict[str, Record], name: str, pick: str) -> Record:
    product = next(p for p in catalog.values() if p["name"] == name)
    available = [v for v in product["variants"].values() if v["available"]]
    variant = min(available, key=lambda v: v["price"]) if pick == "cheapest" else available[0]
    return {
        "name": name,
        "product_id": product["product_id"],
        "item_id": variant["item_id"],
        "price": variant["price"],
        "options": dict(variant["options"]),
    }


def _order(
    order_id: str,
    persona: DemoPersona,
    user: Record,
    items: list[Record],
    status: str,
    source: str,
) -> Record:
    fulfillments = []
    if status != "pending":
        fulfillments.append(
            {
                "tracking_id": [tracking_id_for(order_id)],
                "item_ids": [item["item_id"] for item in items],
            }
        )
    return {
        "order_id": order_id,
        "user_id": persona.user_id,
        "address": dict(user["address"]),
        "items": items,
        "fulfillments": fulfillments,
        "status": status,
        "payment_history": [
            {
                "transaction_type": "payment",
                "amount": round(sum(item["price"] for item in items), 2),
                "payment_method_id": persona.payment_methods[source],
            }
        ],
    }


def _check_promises(catalog: dict[str, Record], orders: dict[str, Record]) -> None:
    """Fail loudly if the catalogue no longer fits what the scenarios promise."""
    mia, omar = DEMO_PERSONAS["mia_chen"], DEMO_PERSONAS["omar_haddad"]

    def total(order_id: str, names: tuple[str, ...] | None = None) -> float:
        items = orders[order_id]["items"]
        return sum(i["price"] for i in items if names is None or i["name"] in names)

    shirt = orders[omar.orders["delivered_exchange"]]["items"][0]
    shirt_variants = catalog[shirt["product_id"]]["variants"].values()
    promises = {
        "espresso machine + headphones above $500": total(
            mia.orders["delivered_over_500"], ("Espresso Machine", "Headphones")
        )
        > 500,
        "gift-card order below $500": total(mia.orders["delivered_under_500"]) < 500,
        "pending order below the gift card balance": total(mia.orders["pending"])
        < mia.gift_card_balance,
        "t-shirt with another available variant at another price": any(
            v["available"] and v["price"] != shirt["price"] for v in shirt_variants
        ),
    }
    broken = [promise for promise, kept in promises.items() if not kept]
    if broken:
        raise DataError(
            f"The catalogue no longer fits the demo scenarios ({'; '.join(broken)}); "
            "adjust _ORDERS in domains/retail/_personas.py."
        )
