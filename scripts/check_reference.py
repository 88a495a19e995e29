"""Manual check: our retail MCP server against the τ-bench reference data.

Loads the reference directory (users.json, orders.json, products.json) into a
temporary database with the loader, starts ``python -m switchboard.domains.retail.server``
over stdio, and calls every τ-bench operation: each look-up on every record,
and each write's success and main refusal. Expected results are computed here,
independently, from the raw JSON and the benchmark's documented semantics.

Not run by the test suite (the reference data is not part of the project).

Usage:
    .venv/bin/python scripts/check_reference.py [DATA_DIR]

DATA_DIR defaults to ../shared/data/tau-retail next to the checkout. Prints one
PASS/FAIL line per check and exits 1 if any check fails.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from switchboard.domains.retail import load_directory

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tau-retail"
ADDRESS = {
    "address1": "1 Check Street",
    "address2": "Suite 9",
    "city": "Austin",
    "state": "TX",
    "country": "USA",
    "zip": "78701",
}


class Checker:
    """Calls tools and records PASS/FAIL lines."""

    def __init__(self, session: ClientSession, data: dict[str, Any]) -> None:
        self.session = session
        self.data = data
        self.failures = 0

    async def call(self, tool: str, **arguments: Any) -> tuple[bool, str]:
        result = await self.session.call_tool(tool, arguments)
        text = "".join(getattr(block, "text", "") for block in result.content)
        return bool(result.isError), text

    def report(self, ok: bool, label: str, detail: str = "") -> None:
        self.failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {label}" + ("" if ok else f"  -- {detail[:300]}"))

    async def expect_text(self, label: str, expected: str, tool: str, **arguments: Any) -> None:
        error, text = await self.call(tool, **arguments)
        self.report(not error and text == expected, label, f"got {text!r}, want {expected!r}")

    async def expect_record(self, label: str, expected: Any, tool: str, **arguments: Any) -> None:
        error, text = await self.call(tool, **arguments)
        ok = not error and json.loads(text) == expected
        self.report(ok, label, text if error else _diff(json.loads(text), expected))

    async def expect_refusal(self, label: str, tool: str, **arguments: Any) -> None:
        """The call is an MCP error and neither the order nor the user changed."""
        before = await self._state(arguments)
        error, text = await self.call(tool, **arguments)
        after = await self._state(arguments)
        ok = error and before == after and bool(text.strip())
        self.report(ok, label, f"isError={error}, changed={before != after}, text={text!r}")

    async def _state(self, arguments: dict[str, Any]) -> list[str]:
        texts = []
        if "order_id" in arguments:
            texts.append((await self.call("get_order_details", order_id=arguments["order_id"]))[1])
            order = self.data["orders"].get(arguments["order_id"])
            if order:
                texts.append((await self.call("get_user_details", user_id=order["user_id"]))[1])
        if "user_id" in arguments:
            texts.append((await self.call("get_user_details", user_id=arguments["user_id"]))[1])
        return texts


def _diff(got: Any, want: Any) -> str:
    if isinstance(got, dict) and isinstance(want, dict):
        keys = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
        return "; ".join(f"{k}: got {got.get(k)!r} want {want.get(k)!r}" for k in keys)
    return f"got {got!r} want {want!r}"


async def check_lookups(c: Checker) -> None:
    users, orders, products = c.data["users"], c.data["orders"], c.data["products"]
    bad = []
    for user_id, user in users.items():
        first_by_email = next(
            u for u, p in users.items() if p["email"].lower() == user["email"].lower()
        )
        error, text = await c.call("find_user_id_by_email", email=user["email"].upper())
        if error or text != first_by_email:
            bad.append(f"email {user['email']}: {text}")
        name, zip_code = user["name"], user["address"]["zip"]
        error, text = await c.call(
            "find_user_id_by_name_zip",
            first_name=name["first_name"].lower(),
            last_name=name["last_name"].upper(),
            zip=zip_code,
        )
        if error or text != user_id:
            bad.append(f"name/zip {user_id}: {text}")
    c.report(not bad, f"find_user_id_by_email / _by_name_zip on all {len(users)} users", str(bad))
    await c.expect_refusal(
        "find_user_id_by_email unknown email",
        "find_user_id_by_email",
        email="nobody@nowhere.example",
    )
    some = next(iter(users.values()))
    await c.expect_refusal(
        "find_user_id_by_name_zip wrong zip",
        "find_user_id_by_name_zip",
        first_name=some["name"]["first_name"],
        last_name=some["name"]["last_name"],
        zip="00000",
    )

    for tool, key, records in (
        ("get_user_details", "user_id", users),
        ("get_order_details", "order_id", orders),
        ("get_product_details", "product_id", products),
    ):
        bad = []
        for record_id, record in records.items():
            error, text = await c.call(tool, **{key: record_id})
            if error or text != json.dumps(record):  # byte-identical to τ-bench's json.dumps
                bad.append(record_id)
        c.report(not bad, f"{tool} on all {len(records)} records (exact JSON)", str(bad[:5]))
        await c.expect_refusal(f"{tool} unknown id", tool, **{key: "0000"})

    listed = dict(sorted({p["name"]: p["product_id"] for p in products.values()}.items()))
    await c.expect_text("list_all_product_types", json.dumps(listed), "list_all_product_types")
    for expression in ("2 + 2", "(129.99 + 45.5) * 3 / 7", " 100 / 3", "1.1 * 3", "2 ** 10"):
        expected = str(round(float(eval(expression.strip(), {"__builtins__": None}, {})), 2))
        await c.expect_text(
            f"calculate {expression!r}", expected, "calculate", expression=expression
        )
    await c.expect_refusal("calculate invalid characters", "calculate", expression="2 + a")
    await c.expect_refusal("calculate division by zero", "calculate", expression="1 / 0")
    await c.expect_text(
        "transfer_to_human_agents",
        "Transfer successful",
        "transfer_to_human_agents",
        summary="customer asks for a human",
    )


def _method(c: Checker, order: dict[str, Any], method_id: str) -> dict[str, Any]:
    return c.data["users"][order["user_id"]]["payment_methods"][method_id]


def _credit(method: dict[str, Any], amount: float) -> None:
    if method["source"] == "gift_card":
        method["balance"] = round(method["balance"] + amount, 2)


async def check_cancel(c: Checker) -> None:
    for source in ("gift_card", "credit_card", "paypal"):
        order = _pending(
            c, paid=lambda o, s=source: s in o["payment_history"][0]["payment_method_id"]
        )
        expected = copy.deepcopy(order)
        user = copy.deepcopy(c.data["users"][order["user_id"]])
        for payment in order["payment_history"]:
            expected["payment_history"].append({**payment, "transaction_type": "refund"})
            _credit(user["payment_methods"][payment["payment_method_id"]], payment["amount"])
        expected["status"], expected["cancel_reason"] = "cancelled", "ordered by mistake"
        await c.expect_record(
            f"cancel_pending_order paid by {source}",
            expected,
            "cancel_pending_order",
            order_id=order["order_id"],
            reason="ordered by mistake",
        )
        await c.expect_record(
            f"cancel_pending_order {source}: user after refund",
            user,
            "get_user_details",
            user_id=order["user_id"],
        )
    delivered = _pick(c, "delivered")
    await c.expect_refusal(
        "cancel_pending_order on a delivered order",
        "cancel_pending_order",
        order_id=delivered["order_id"],
        reason="no longer needed",
    )
    pending = _pending(c)
    await c.expect_refusal(
        "cancel_pending_order invalid reason",
        "cancel_pending_order",
        order_id=pending["order_id"],
        reason="too slow",
    )


def _pick(c: Checker, status: str, **where: Any) -> dict[str, Any]:
    """An order in ``status`` whose user no earlier check touched, so expectations hold."""
    used = c.data.setdefault("_used_users", set())
    for order in c.data["orders"].values():
        if order["status"] != status or order["user_id"] in used:
            continue
        if all(condition(order) for condition in where.values()):
            used.add(order["user_id"])
            return order
    raise LookupError(f"no suitable {status} order in the reference data")


def _pending(c: Checker, **where: Any) -> dict[str, Any]:
    return _pick(c, "pending", **where)


async def check_address_and_payment(c: Checker) -> None:
    order = _pending(c)
    expected = {**copy.deepcopy(order), "address": ADDRESS}
    await c.expect_record(
        "modify_pending_order_address",
        expected,
        "modify_pending_order_address",
        order_id=order["order_id"],
        **ADDRESS,
    )
    processed = _pick(c, "processed")
    await c.expect_refusal(
        "modify_pending_order_address on a processed order",
        "modify_pending_order_address",
        order_id=processed["order_id"],
        **ADDRESS,
    )
    user_id = order["user_id"]
    expected_user = {**copy.deepcopy(c.data["users"][user_id]), "address": ADDRESS}
    await c.expect_record(
        "modify_user_address", expected_user, "modify_user_address", user_id=user_id, **ADDRESS
    )
    await c.expect_refusal(
        "modify_user_address unknown user", "modify_user_address", user_id="nobody_0000", **ADDRESS
    )

    def has_rich_gift_card(o: dict[str, Any]) -> bool:
        amount = o["payment_history"][0]["amount"]
        return "gift_card" not in o["payment_history"][0]["payment_method_id"] and any(
            m["source"] == "gift_card" and m["balance"] >= amount
            for m in c.data["users"][o["user_id"]]["payment_methods"].values()
        )

    order = _pending(c, rich=has_rich_gift_card)
    user = copy.deepcopy(c.data["users"][order["user_id"]])
    old = order["payment_history"][0]
    gift_card = next(
        m
        for m in user["payment_methods"].values()
        if m["source"] == "gift_card" and m["balance"] >= old["amount"]
    )
    expected = copy.deepcopy(order)
    expected["payment_history"] += [
        {
            "transaction_type": "payment",
            "amount": old["amount"],
            "payment_method_id": gift_card["id"],
        },
        {
            "transaction_type": "refund",
            "amount": old["amount"],
            "payment_method_id": old["payment_method_id"],
        },
    ]
    gift_card["balance"] = round(gift_card["balance"] - old["amount"], 2)
    await c.expect_record(
        "modify_pending_order_payment to a gift card",
        expected,
        "modify_pending_order_payment",
        order_id=order["order_id"],
        payment_method_id=gift_card["id"],
    )
    await c.expect_record(
        "modify_pending_order_payment: gift card debited",
        user,
        "get_user_details",
        user_id=order["user_id"],
    )
    await c.expect_refusal(
        "modify_pending_order_payment a second time",
        "modify_pending_order_payment",
        order_id=order["order_id"],
        payment_method_id=old["payment_method_id"],
    )

    def has_poor_gift_card(o: dict[str, Any]) -> bool:
        return any(
            m["source"] == "gift_card" and m["balance"] < o["payment_history"][0]["amount"]
            for m in c.data["users"][o["user_id"]]["payment_methods"].values()
        )

    order = _pending(c, poor=has_poor_gift_card)
    poor = next(
        m
        for m in c.data["users"][order["user_id"]]["payment_methods"].values()
        if m["source"] == "gift_card" and m["balance"] < order["payment_history"][0]["amount"]
    )
    await c.expect_refusal(
        "modify_pending_order_payment insufficient gift card",
        "modify_pending_order_payment",
        order_id=order["order_id"],
        payment_method_id=poor["id"],
    )
    await c.expect_refusal(
        "modify_pending_order_payment same method",
        "modify_pending_order_payment",
        order_id=order["order_id"],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )


def _other_method(c: Checker, order: dict[str, Any]) -> str:
    """A payment method of the user that is neither the original one nor a gift card."""
    original = order["payment_history"][0]["payment_method_id"]
    methods = c.data["users"][order["user_id"]]["payment_methods"].items()
    return next((m for m, v in methods if v["source"] != "gift_card" and m != original), "")


def _swap(c: Checker, order: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """An item of the order and another available variant of its product."""
    for item in order["items"]:
        for variant in c.data["products"][item["product_id"]]["variants"].values():
            if variant["available"] and variant["item_id"] != item["item_id"]:
                return item, variant
    return None


async def check_item_changes(c: Checker) -> None:
    order = _pending(c, swappable=lambda o: _swap(c, o) is not None)
    item, variant = _swap(c, order)  # type: ignore[misc]
    method_id = order["payment_history"][0]["payment_method_id"]
    method = _method(c, order, method_id)
    difference = variant["price"] - item["price"]
    if method["source"] == "gift_card" and method["balance"] < difference:
        method_id = next(
            m
            for m, v in c.data["users"][order["user_id"]]["payment_methods"].items()
            if v["source"] != "gift_card"
        )
    expected = copy.deepcopy(order)
    expected["payment_history"].append(
        {
            "transaction_type": "payment" if difference > 0 else "refund",
            "amount": round(abs(difference), 2),  # τ-bench leaves this unrounded
            "payment_method_id": method_id,
        }
    )
    changed = next(i for i in expected["items"] if i["item_id"] == item["item_id"])
    changed.update(item_id=variant["item_id"], price=variant["price"], options=variant["options"])
    expected["status"] = "pending (item modified)"
    await c.expect_record(
        "modify_pending_order_items",
        expected,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[item["item_id"]],
        new_item_ids=[variant["item_id"]],
        payment_method_id=method_id,
    )
    other = _pending(c, swappable=lambda o: len({i["product_id"] for i in o["items"]}) > 1)
    first, second = (
        other["items"][0],
        next(i for i in other["items"] if i["product_id"] != other["items"][0]["product_id"]),
    )
    await c.expect_refusal(
        "modify_pending_order_items variant of another product",
        "modify_pending_order_items",
        order_id=other["order_id"],
        item_ids=[first["item_id"]],
        new_item_ids=[second["item_id"]],
        payment_method_id=other["payment_history"][0]["payment_method_id"],
    )


async def check_delivered(c: Checker) -> None:
    order = _pick(c, "delivered")
    original = order["payment_history"][0]["payment_method_id"]
    item_ids = [order["items"][-1]["item_id"], order["items"][0]["item_id"]]
    expected = {
        **copy.deepcopy(order),
        "status": "return requested",
        "return_items": sorted(item_ids),
        "return_payment_method_id": original,
    }
    await c.expect_record(
        "return_delivered_order_items",
        expected,
        "return_delivered_order_items",
        order_id=order["order_id"],
        item_ids=item_ids,
        payment_method_id=original,
    )
    await c.expect_refusal(
        "return_delivered_order_items twice",
        "return_delivered_order_items",
        order_id=order["order_id"],
        item_ids=item_ids,
        payment_method_id=original,
    )
    odd = _pick(c, "delivered", other=lambda o: bool(_other_method(c, o)))
    await c.expect_refusal(
        "return_delivered_order_items to a non-original, non-gift method",
        "return_delivered_order_items",
        order_id=odd["order_id"],
        item_ids=[odd["items"][0]["item_id"]],
        payment_method_id=_other_method(c, odd),
    )

    returned = order
    order = _pick(c, "delivered", swappable=lambda o: _swap(c, o) is not None)
    item, variant = _swap(c, order)  # type: ignore[misc]
    method_id = order["payment_history"][0]["payment_method_id"]
    difference = round(variant["price"] - item["price"], 2)
    expected = {
        **copy.deepcopy(order),
        "status": "exchange requested",
        "exchange_items": [item["item_id"]],
        "exchange_new_items": [variant["item_id"]],
        "exchange_payment_method_id": method_id,
        "exchange_price_difference": difference,
    }
    method = _method(c, order, method_id)
    if method["source"] == "gift_card" and method["balance"] < difference:
        c.report(True, "exchange_delivered_order_items (skipped: gift card too small)")
    else:
        await c.expect_record(
            "exchange_delivered_order_items",
            expected,
            "exchange_delivered_order_items",
            order_id=order["order_id"],
            item_ids=[item["item_id"]],
            new_item_ids=[variant["item_id"]],
            payment_method_id=method_id,
        )
    pending = _pending(c, swappable=lambda o: _swap(c, o) is not None)
    item, variant = _swap(c, pending)  # type: ignore[misc]
    await c.expect_refusal(
        "exchange_delivered_order_items on a pending order",
        "exchange_delivered_order_items",
        order_id=pending["order_id"],
        item_ids=[item["item_id"]],
        new_item_ids=[variant["item_id"]],
        payment_method_id=pending["payment_history"][0]["payment_method_id"],
    )

    # Switchboard's return process, on the order returned above.
    order = returned
    total = round(sum(i["price"] for i in order["items"] if i["item_id"] in item_ids), 2)
    error, text = await c.call("schedule_return_pickup", order_id=order["order_id"])
    c.report(not error and "return_pickup" in json.loads(text), "schedule_return_pickup", text)
    await c.expect_refusal(
        "issue_return_refund before the items are received",
        "issue_return_refund",
        order_id=order["order_id"],
    )
    error, text = await c.call("receive_returned_items", order_id=order["order_id"])
    c.report(
        not error and json.loads(text)["status"] == "return received",
        "receive_returned_items",
        text,
    )
    error, text = await c.call("issue_return_refund", order_id=order["order_id"])
    refund = {"transaction_type": "refund", "amount": total, "payment_method_id": original}
    ok = not error and json.loads(text)["payment_history"][-1] == refund
    c.report(ok, "issue_return_refund", text)
    await c.expect_refusal(
        "issue_return_refund twice", "issue_return_refund", order_id=order["order_id"]
    )


async def main(data_dir: Path) -> int:
    data = {
        n: json.loads((data_dir / f"{n}.json").read_text()) for n in ("users", "orders", "products")
    }
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "reference.sqlite"
        summary = load_directory(data_dir, db)
        print(f"loaded {summary.users} users, {summary.orders} orders, {summary.products} products")
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "switchboard.domains.retail.server", "--db", str(db)]
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            checker = Checker(session, data)
            await check_lookups(checker)
            await check_cancel(checker)
            await check_address_and_payment(checker)
            await check_item_changes(checker)
            await check_delivered(checker)
    print(f"{checker.failures} failure(s)")
    return 1 if checker.failures else 0


if __name__ == "__main__":
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA
    sys.exit(asyncio.run(main(directory)))
