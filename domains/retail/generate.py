"""Deterministic retail data in the τ-bench schema, so the project ships its own.

``generate_dataset`` writes ``users.json``, ``orders.json`` and
``products.json`` that :func:`~switchboard.domains.retail.loader.load_directory` accepts.
The same seed gives byte-identical files, so a demo or a test sees the same
shop on every machine.

The generated ids never collide with the τ-bench reference data: names come
from pools the reference does not use, order ids start with ``#W0`` (the
reference's start at ``#W1006327``), and product, item, payment and tracking
numbers lie below the reference's ranges. The demo personas
(:data:`DEMO_PERSONAS`) are always included, with the same ids.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from switchboard.domains.retail._catalog import build_catalog
from switchboard.domains.retail._personas import DEMO_PERSONAS, DemoPersona, persona_records
from switchboard.domains.retail.store import Record
from switchboard.errors import ConfigError

__all__ = ["DEMO_PERSONAS", "DemoPersona", "generate_dataset"]

# Disjoint from the reference data's names, so user ids cannot collide with it.
_FIRST_NAMES = (
    "Aaliyah", "Amara", "Andre", "Beatriz", "Caleb", "Camila", "Dmitri", "Elena", "Farah",
    "Gabriel", "Hana", "Ines", "Jonas", "Kai", "Kwame", "Leila", "Marco", "Nadia", "Nikhil",
    "Oscar", "Priya", "Rafael", "Rosa", "Samuel", "Tariq", "Uma", "Valentina", "Wei", "Xavier",
    "Zoe",
)  # fmt: skip
_LAST_NAMES = (
    "Adeyemi", "Bauer", "Castillo", "Costa", "Dubois", "Eriksen", "Fernandes", "Goldberg",
    "Haas", "Hoffman", "Ibrahim", "Jensen", "Kowalski", "Larsen", "Mendoza", "Moreau",
    "Nakamura", "Novak", "Okafor", "Petrov", "Quinn", "Ramirez", "Reyes", "Schmidt", "Tanaka",
    "Ueda", "Vargas", "Weber", "Yamamoto", "Zhang",
)  # fmt: skip
_CITIES = (
    ("San Francisco", "CA", "941"), ("Seattle", "WA", "981"), ("Austin", "TX", "787"),
    ("Chicago", "IL", "606"), ("Denver", "CO", "802"), ("Boston", "MA", "021"),
    ("Portland", "OR", "972"), ("Atlanta", "GA", "303"), ("Miami", "FL", "331"),
    ("Phoenix", "AZ", "850"), ("Minneapolis", "MN", "554"), ("Nashville", "TN", "372"),
    ("Pittsburgh", "PA", "152"), ("San Diego", "CA", "921"), ("New York", "NY", "100"),
)  # fmt: skip
_STREETS = (
    "Oak Street", "Maple Avenue", "Cedar Lane", "Pine Street", "Elm Drive", "Lakeview Road",
    "Hillside Avenue", "River Road", "Park Place", "Sunset Boulevard", "Willow Way",
    "Highland Avenue", "Main Street", "Chestnut Street", "Spring Garden Road",
)  # fmt: skip
_STATUSES = ("pending", "delivered", "processed", "cancelled")
_STATUS_WEIGHTS = (40, 37, 12, 11)
_CANCEL_REASONS = ("no longer needed", "ordered by mistake")


def generate_dataset(
    out_dir: str | Path, *, seed: int = 7, users: int = 300, orders: int = 600
) -> Path:
    """Write a deterministic retail dataset in the τ-bench schema.

    Args:
        out_dir: Directory to write the three JSON files into (created if
            needed; existing files are overwritten).
        seed: Drives the generated users and orders. The catalogue and the
            demo personas are the same for every seed.
        users: Total number of users, demo personas included.
        orders: Total number of orders, the personas' orders included.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        ConfigError: ``users`` or ``orders`` is too small to hold the personas.
    """
    catalog = build_catalog()
    persona_users, persona_orders = persona_records(catalog)
    if users < len(persona_users) or orders < len(persona_orders):
        raise ConfigError(
            f"generate_dataset needs users >= {len(persona_users)} and orders >= "
            f"{len(persona_orders)} to hold the demo personas; got users={users}, "
            f"orders={orders}."
        )
    rng = random.Random(seed)
    ids = _IdPool(rng, taken=_ids_in(persona_users, persona_orders))
    all_users = dict(persona_users)
    generated = _users(rng, ids, users - len(persona_users))
    all_users.update(generated)
    all_orders = {order["order_id"]: order for order in persona_orders}
    products = list(catalog.values())
    customers = list(generated)
    for _ in range(orders - len(persona_orders)):
        user_id = rng.choice(customers)
        order = _order(rng, ids, user_id, all_users[user_id], products)
        all_orders[order["order_id"]] = order
        all_users[user_id]["orders"].append(order["order_id"])

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in (("users", all_users), ("orders", all_orders), ("products", catalog)):
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        (out / f"{name}.json").write_text(text, encoding="utf-8", newline="\n")
    return out


def _ids_in(users: dict[str, Record], orders: list[Record]) -> set[str]:
    """The order, payment method and tracking ids the personas already use."""
    taken = {order["order_id"] for order in orders}
    taken.update(method_id for user in users.values() for method_id in user["payment_methods"])
    taken.update(t for order in orders for f in order["fulfillments"] for t in f["tracking_id"])
    return taken


class _IdPool:
    """Draws unique ids from the ranges the reference data leaves free."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self._rng = rng
        self._taken = set(taken)

    def draw(self, template: str, digits: int) -> str:
        """``template`` filled with an unused ``digits``-digit number that starts with 0.

        The leading zero keeps every id below the reference data's, whose
        numbers all start with a non-zero digit.
        """
        while True:
            number = self._rng.randrange(10 ** (digits - 1))
            candidate = template.format(f"{number:0{digits}d}")
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate


def _users(rng: random.Random, ids: _IdPool, count: int) -> dict[str, Record]:
    """``count`` random users, unique by id, email and name-plus-zip."""
    users: dict[str, Record] = {}
    seen: set[tuple[str, str, str]] = set()
    while len(users) < count:
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        city, state, prefix = rng.choice(_CITIES)
        zip_code = f"{prefix}{rng.randrange(100):02d}"
        user_id = f"{first.lower()}_{last.lower()}_{rng.randrange(1000, 10000)}"
        if user_id in users or (first, last, zip_code) in seen:
            continue
        seen.add((first, last, zip_code))
        users[user_id] = {
            "name": {"first_name": first, "last_name": last},
            "address": {
                "address1": f"{rng.randrange(1, 1000)} {rng.choice(_STREETS)}",
                "address2": rng.choice(
                    ("", f"Apt {rng.randrange(1, 40)}", f"Suite {rng.randrange(100, 999)}")
                ),
                "city": city,
                "country": "USA",
                "state": state,
                "zip": zip_code,
            },
            "email": f"{first}.{last}{user_id[-4:]}@example.com".lower(),
            "payment_methods": _payment_methods(rng, ids),
            "orders": [],
        }
    return users


def _payment_methods(rng: random.Random, ids: _IdPool) -> dict[str, Record]:
    """One to three payment methods of different kinds."""
    methods: dict[str, Record] = {}
    for source in rng.sample(("credit_card", "paypal", "gift_card"), rng.randint(1, 3)):
        method_id = ids.draw(f"{source}_{{}}", 7)
        if source == "credit_card":
            brand = rng.choice(("visa", "mastercard", "amex"))
            methods[method_id] = {
                "source": source,
                "brand": brand,
                "last_four": f"{rng.randrange(10000):04d}",
                "id": method_id,
            }
        elif source == "gift_card":
            methods[method_id] = {
                "source": source,
                "balance": rng.randrange(0, 250),
                "id": method_id,
            }
        else:
            methods[method_id] = {"source": source, "id": method_id}
    return methods


def _order(
    rng: random.Random, ids: _IdPool, user_id: str, user: Record, products: list[Record]
) -> Record:
    """A random order of one to five items; now and then an item twice."""
    items = []
    for product in rng.sample(products, rng.randint(1, 5)):
        variant = rng.choice(list(product["variants"].values()))
        items.append(
            {
                "name": product["name"],
                "product_id": product["product_id"],
                "item_id": variant["item_id"],
                "price": variant["price"],
                "options": dict(variant["options"]),
            }
        )
    if rng.random() < 0.05:
        items.append(dict(items[0], options=dict(items[0]["options"])))
    status = rng.choices(_STATUSES, weights=_STATUS_WEIGHTS)[0]
    method_id = rng.choice(list(user["payment_methods"]))
    payment = {
        "transaction_type": "payment",
        "amount": round(sum(item["price"] for item in items), 2),
        "payment_method_id": method_id,
    }
    order: Record = {
        "order_id": ids.draw("#W{}", 7),
        "user_id": user_id,
        "address": dict(user["address"]),
        "items": items,
        "fulfillments": [],
        "status": status,
        "payment_history": [payment],
    }
    if status != "pending":
        tracking = ids.draw("1{}", 11)
        order["fulfillments"].append(
            {"tracking_id": [tracking], "item_ids": [item["item_id"] for item in items]}
        )
    if status == "cancelled":
        order["payment_history"].append({**payment, "transaction_type": "refund"})
        order["cancel_reason"] = rng.choice(_CANCEL_REASONS)
    return order
