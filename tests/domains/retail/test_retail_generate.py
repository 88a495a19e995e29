"""The generator: deterministic, in the τ-bench schema, with the promised personas."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from switchboard.domains.retail import DEMO_PERSONAS, generate_dataset, load_directory
from switchboard.errors import ConfigError
from tests.domains.retail.helpers import MIA, OMAR

FILES = ("users.json", "orders.json", "products.json")


def _read(directory: Path) -> dict[str, Any]:
    return {name[: -len(".json")]: json.loads((directory / name).read_text()) for name in FILES}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = generate_dataset(tmp_path / "a", seed=11, users=40, orders=90)
    second = generate_dataset(tmp_path / "b", seed=11, users=40, orders=90)
    for name in FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_other_seed_changes_customers_but_not_catalogue_or_personas(tmp_path: Path) -> None:
    seven = generate_dataset(tmp_path / "a", seed=7, users=40, orders=90)
    eight = generate_dataset(tmp_path / "b", seed=8, users=40, orders=90)
    assert (seven / "orders.json").read_bytes() != (eight / "orders.json").read_bytes()
    assert (seven / "products.json").read_bytes() == (eight / "products.json").read_bytes()
    a, b = _read(seven), _read(eight)
    for persona in DEMO_PERSONAS.values():
        assert a["users"][persona.user_id] == b["users"][persona.user_id]
        for order_id in persona.orders.values():
            assert a["orders"][order_id] == b["orders"][order_id]


def test_sizes_are_totals_including_personas(tmp_path: Path) -> None:
    data = _read(generate_dataset(tmp_path, seed=3, users=25, orders=70))
    assert len(data["users"]) == 25
    assert len(data["orders"]) == 70
    assert 20 <= len(data["products"]) <= 50


def test_too_small_for_the_personas_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="users >= 2"):
        generate_dataset(tmp_path, users=1, orders=10)
    with pytest.raises(ConfigError, match="orders >= 6"):
        generate_dataset(tmp_path, users=10, orders=5)


def test_ids_look_like_the_benchmark_and_are_consistent(tmp_path: Path) -> None:
    data = _read(generate_dataset(tmp_path, seed=5))
    users, orders, products = data["users"], data["orders"], data["products"]
    assert all(re.fullmatch(r"#W\d{7}", order_id) for order_id in orders)
    assert all(re.fullmatch(r"[a-z]+_[a-z]+_\d{4}", user_id) for user_id in users)
    item_ids = [i for p in products.values() for i in p["variants"]]
    assert all(re.fullmatch(r"\d{10}", i) for i in [*products, *item_ids])
    assert len(set(item_ids) | set(products)) == len(item_ids) + len(products)
    assert len({u["email"] for u in users.values()}) == len(users)
    for order_id, order in orders.items():
        assert order_id in users[order["user_id"]]["orders"]
        assert order["payment_history"][0]["payment_method_id"] in (users[order["user_id"]]["payment_methods"])
        for item in order["items"]:
            assert item["item_id"] in products[item["product_id"]]["variants"]


def test_orders_cover_every_status_with_realistic_details(tmp_path: Path) -> None:
    data = _read(generate_dataset(tmp_path, seed=7))
    orders = list(data["orders"].values())
    statuses = Counter(order["status"] for order in orders)
    assert set(statuses) == {"pending", "processed", "delivered", "cancelled"}
    for order in orders:
        total = round(sum(item["price"] for item in order["items"]), 2)
        assert order["payment_history"][0]["amount"] == total
        shipped = order["status"] != "pending"
        assert bool(order["fulfillments"]) is shipped
        if shipped:
            assert re.fullmatch(r"\d{12}", order["fulfillments"][0]["tracking_id"][0])
    assert any(len({i["item_id"] for i in o["items"]}) < len(o["items"]) for o in orders)
    sources = Counter(m["source"] for u in data["users"].values() for m in u["payment_methods"].values())
    assert set(sources) == {"credit_card", "paypal", "gift_card"}
    names = {p["name"] for p in data["products"].values()}
    assert {"Water Bottle", "Espresso Machine", "Laptop", "T-Shirt", "Headphones"} <= names


def test_generated_data_loads(tmp_path: Path) -> None:
    summary = load_directory(generate_dataset(tmp_path / "d", seed=9), tmp_path / "x.sqlite")
    assert (summary.users, summary.orders) == (300, 600)


def _total(order: dict[str, Any], names: tuple[str, ...] | None = None) -> float:
    return sum(i["price"] for i in order["items"] if names is None or i["name"] in names)


def test_mia_chen_has_every_scenario(tmp_path: Path) -> None:
    data = _read(generate_dataset(tmp_path, seed=21, users=10, orders=20))
    user = data["users"][MIA.user_id]
    assert (user["name"], user["email"], user["address"]["zip"]) == (
        {"first_name": "Mia", "last_name": "Chen"},
        "mia.chen@example.com",
        "94105",
    )
    orders = {scenario: data["orders"][oid] for scenario, oid in MIA.orders.items()}
    assert user["orders"] == [
        MIA.orders[s] for s in ("delivered_under_500", "processed", "delivered_over_500", "pending")
    ]
    big = orders["delivered_over_500"]
    assert big["status"] == "delivered"
    assert _total(big, ("Espresso Machine", "Headphones")) > 500
    assert big["payment_history"][0]["payment_method_id"] == MIA.payment_methods["credit_card"]
    small = orders["delivered_under_500"]
    assert small["status"] == "delivered" and len(small["items"]) > 1
    assert _total(small) < 500
    assert small["payment_history"][0]["payment_method_id"] == MIA.payment_methods["gift_card"]
    assert orders["pending"]["status"] == "pending"
    assert orders["processed"]["status"] == "processed"
    gift_card = user["payment_methods"][MIA.payment_methods["gift_card"]]
    assert gift_card["balance"] == MIA.gift_card_balance


def test_omar_haddad_has_an_exchangeable_order_and_a_paypal_order(tmp_path: Path) -> None:
    data = _read(generate_dataset(tmp_path, seed=21, users=10, orders=20))
    user = data["users"][OMAR.user_id]
    assert (user["email"], user["address"]["zip"]) == ("omar.haddad@example.com", "10001")
    delivered = data["orders"][OMAR.orders["delivered_exchange"]]
    assert delivered["status"] == "delivered"
    shirt = delivered["items"][0]
    assert [i["item_id"] for i in delivered["items"]].count(shirt["item_id"]) == 2
    variants = data["products"][shirt["product_id"]]["variants"].values()
    assert any(v["available"] and v["price"] != shirt["price"] for v in variants)
    pending = data["orders"][OMAR.orders["pending_paypal"]]
    assert pending["status"] == "pending"
    assert pending["payment_history"][0]["payment_method_id"] == OMAR.payment_methods["paypal"]
