"""The read-only benchmark tools: look-ups, calculate, transfer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from switchboard.domains.retail import RetailOperations
from switchboard.errors import ToolError
from tests.domains.retail.helpers import MIA, OMAR


def test_find_user_id_by_email_ignores_case(ops: RetailOperations) -> None:
    assert ops.find_user_id_by_email("Mia.Chen@EXAMPLE.com") == MIA.user_id
    assert ops.find_user_id_by_email(OMAR.email) == OMAR.user_id


def test_find_user_id_by_email_unknown(ops: RetailOperations) -> None:
    with pytest.raises(ToolError, match=r"not found.*find_user_id_by_name_zip"):
        ops.find_user_id_by_email("mia.chen@example.org")


def test_find_user_id_by_name_zip_ignores_name_case_not_zip(ops: RetailOperations) -> None:
    assert ops.find_user_id_by_name_zip("MIA", "chen", "94105") == MIA.user_id
    with pytest.raises(ToolError, match="not found"):
        ops.find_user_id_by_name_zip("Mia", "Chen", "94106")
    with pytest.raises(ToolError, match="not found"):
        ops.find_user_id_by_name_zip("Mia", "Chan", "94105")


def test_get_details_return_the_records(ops: RetailOperations, data_dir: Path) -> None:
    users = json.loads((data_dir / "users.json").read_text())
    orders = json.loads((data_dir / "orders.json").read_text())
    products = json.loads((data_dir / "products.json").read_text())
    assert ops.get_user_details(OMAR.user_id) == users[OMAR.user_id]
    order_id = MIA.orders["delivered_over_500"]
    assert ops.get_order_details(order_id) == orders[order_id]
    product_id = orders[order_id]["items"][0]["product_id"]
    assert ops.get_product_details(product_id) == products[product_id]


@pytest.mark.parametrize(
    ("method", "argument", "message"),
    [
        ("get_user_details", "mia_chen_0000", "User 'mia_chen_0000' not found"),
        ("get_order_details", "W0372018", "Order 'W0372018' not found.*'#W'"),
        ("get_product_details", "0000000000", "Product '0000000000' not found"),
    ],
)
def test_get_details_unknown_id(ops: RetailOperations, method: str, argument: str, message: str) -> None:
    lookup: Callable[[str], object] = getattr(ops, method)
    with pytest.raises(ToolError, match=message):
        lookup(argument)


def test_list_all_product_types_is_sorted_by_name(ops: RetailOperations, data_dir: Path) -> None:
    products = json.loads((data_dir / "products.json").read_text())
    listed = ops.list_all_product_types()
    assert list(listed) == sorted(p["name"] for p in products.values())
    assert listed == {p["name"]: p["product_id"] for p in products.values()}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2 + 2", 4.0),
        ("(10 - 2.5) * 3 / 4", round((10 - 2.5) * 3 / 4, 2)),
        (" 100 / 3", 33.33),
        ("-4 * -2.5", 10.0),
        ("2 ** 3", 8.0),
        ("7 // 2", 3.0),
    ],
)
def test_calculate(ops: RetailOperations, expression: str, expected: float) -> None:
    assert ops.calculate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("2 + x", "Invalid characters"),
        ("__import__('os')", "Invalid characters"),
        ("1 / 0", "Cannot evaluate"),
        ("(1 + 2", "Cannot evaluate"),
        ("", "Cannot evaluate"),
        ("()", "Cannot evaluate"),
        ("9 ** 9 ** 9", "Cannot evaluate"),
    ],
)
def test_calculate_refuses(ops: RetailOperations, expression: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        ops.calculate(expression)


def test_transfer_to_human_agents(ops: RetailOperations, dump: Callable[[], list[str]]) -> None:
    before = dump()
    assert ops.transfer_to_human_agents("customer wants a manager") == "Transfer successful"
    assert dump() == before
