"""A small fake retail store answering the retail tools with τ-bench-shaped JSON.

Just enough of the operations' semantics (statuses, preconditions, refunds)
to drive the recipes the way the MCP server does, without any server. The
data is invented for the tests.
"""

from __future__ import annotations

import copy
import json
from typing import Any

USERS: dict[str, Any] = {
    "mia_chen_4817": {
        "name": {"first_name": "Mia", "last_name": "Chen"},
        "address": {
            "address1": "1 Test Way",
            "address2": "",
            "city": "Austin",
            "country": "USA",
            "state": "TX",
            "zip": "78701",
        },
        "email": "mia.chen@example.com",
        "payment_methods": {
            "credit_card_1111": {
                "source": "credit_card",
                "brand": "visa",
                "last_four": "4242",
                "id": "credit_card_1111",
            },
            "gift_card_2222": {"source": "gift_card", "balance": 500, "id": "gift_card_2222"},
            "paypal_3333": {"source": "paypal", "id": "paypal_3333"},
        },
        "orders": ["#W9000003", "#W9000001", "#W9000002"],
    }
}
USERS["omar_haddad_2290"] = {
    "name": {"first_name": "Omar", "last_name": "Haddad"},
    "address": {**USERS["mia_chen_4817"]["address"], "city": "New York", "state": "NY", "zip": "10001"},
    "email": "omar.haddad@example.com",
    "payment_methods": {"credit_card_4444": {"source": "credit_card", "last_four": "8832", "id": "credit_card_4444"}},
    "orders": ["#W9000004"],
}
_ADDRESS: dict[str, str] = USERS["mia_chen_4817"]["address"]
PRODUCTS: dict[str, Any] = {
    "5000000001": {
        "name": "Headphones",
        "product_id": "5000000001",
        "variants": {
            "7000000001": {
                "item_id": "7000000001",
                "options": {"type": "over-ear", "color": "black"},
                "available": True,
                "price": 120.0,
            },
            "7000000002": {
                "item_id": "7000000002",
                "options": {"type": "over-ear", "color": "white"},
                "available": True,
                "price": 125.0,
            },
        },
    },
    "5000000002": {
        "name": "Water Bottle",
        "product_id": "5000000002",
        "variants": {
            "7000000011": {
                "item_id": "7000000011",
                "options": {"capacity": "500ml", "color": "blue"},
                "available": True,
                "price": 20.0,
            },
            "7000000012": {
                "item_id": "7000000012",
                "options": {"capacity": "500ml", "color": "red"},
                "available": True,
                "price": 22.5,
            },
            "7000000013": {
                "item_id": "7000000013",
                "options": {"capacity": "1000ml", "color": "red"},
                "available": False,
                "price": 30.0,
            },
        },
    },
    "5000000003": {
        "name": "T-Shirt",
        "product_id": "5000000003",
        "variants": {
            "7000000021": {
                "item_id": "7000000021",
                "options": {"color": "blue", "size": "M"},
                "available": True,
                "price": 25.0,
            },
            "7000000022": {
                "item_id": "7000000022",
                "options": {"color": "blue", "size": "L"},
                "available": True,
                "price": 26.0,
            },
            "7000000023": {
                "item_id": "7000000023",
                "options": {"color": "red", "size": "L"},
                "available": True,
                "price": 26.0,
            },
        },
    },
    "5000000004": {
        "name": "Hiking Boots",
        "product_id": "5000000004",
        "variants": {
            "7000000031": {
                "item_id": "7000000031",
                "options": {"size": "10", "color": "brown"},
                "available": True,
                "price": 150.0,
            },
            "7000000032": {
                "item_id": "7000000032",
                "options": {"size": "10", "color": "black"},
                "available": False,
                "price": 150.0,
            },
            "7000000033": {
                "item_id": "7000000033",
                "options": {"size": "11", "color": "brown"},
                "available": True,
                "price": 150.0,
            },
        },
    },
    "5000000005": {
        "name": "Smart Watch",
        "product_id": "5000000005",
        "variants": {
            "7000000041": {
                "item_id": "7000000041",
                "options": {"color": "black", "band material": "silicone", "display": "AMOLED"},
                "available": True,
                "price": 250.0,
            },
            "7000000042": {
                "item_id": "7000000042",
                "options": {"color": "silver", "band material": "metal", "display": "AMOLED"},
                "available": True,
                "price": 360.0,
            },
            "7000000043": {
                "item_id": "7000000043",
                "options": {"color": "silver", "band material": "silicone", "display": "LCD"},
                "available": True,
                "price": 230.0,
            },
            "7000000044": {
                "item_id": "7000000044",
                "options": {"color": "silver", "band material": "silicone", "display": "AMOLED"},
                "available": False,
                "price": 255.0,
            },
        },
    },
}


def _item(pid: str, item_id: str) -> dict[str, Any]:
    product = PRODUCTS[pid]
    variant = product["variants"][item_id]
    return {
        "name": product["name"],
        "product_id": pid,
        "item_id": item_id,
        "price": variant["price"],
        "options": variant["options"],
    }


ORDERS: dict[str, Any] = {
    "#W9000001": {
        "order_id": "#W9000001",
        "user_id": "mia_chen_4817",
        "address": _ADDRESS,
        "items": [_item("5000000001", "7000000001"), _item("5000000002", "7000000011")],
        "fulfillments": [{"tracking_id": ["880000000001"], "item_ids": ["7000000001", "7000000011"]}],
        "status": "delivered",
        "payment_history": [
            {
                "transaction_type": "payment",
                "amount": 140.0,
                "payment_method_id": "credit_card_1111",
            }
        ],
    },
    "#W9000002": {
        "order_id": "#W9000002",
        "user_id": "mia_chen_4817",
        "address": _ADDRESS,
        "items": [_item("5000000003", "7000000021")],
        "fulfillments": [],
        "status": "pending",
        "payment_history": [{"transaction_type": "payment", "amount": 25.0, "payment_method_id": "paypal_3333"}],
    },
    "#W9000003": {
        "order_id": "#W9000003",
        "user_id": "mia_chen_4817",
        "address": _ADDRESS,
        "items": [_item("5000000004", "7000000031")],
        "fulfillments": [{"tracking_id": ["880000000003"], "item_ids": ["7000000031"]}],
        "status": "processed",
        "payment_history": [
            {
                "transaction_type": "payment",
                "amount": 150.0,
                "payment_method_id": "credit_card_1111",
            }
        ],
    },
    "#W9000004": {  # two units of the same t-shirt, and a watch
        "order_id": "#W9000004",
        "user_id": "omar_haddad_2290",
        "address": USERS["omar_haddad_2290"]["address"],
        "items": [
            _item("5000000003", "7000000022"),
            _item("5000000003", "7000000022"),
            _item("5000000005", "7000000041"),
        ],
        "fulfillments": [{"tracking_id": ["880000000004"], "item_ids": ["7000000022", "7000000041"]}],
        "status": "delivered",
        "payment_history": [{"transaction_type": "payment", "amount": 302.0, "payment_method_id": "credit_card_4444"}],
    },
}


class ToolRefused(Exception):
    """A tool's precondition failed; the message becomes an error ToolMessage."""


class FakeStore:
    """Just enough of the retail operations to drive the recipes."""

    def __init__(self) -> None:
        self.users = copy.deepcopy(USERS)
        self.orders = copy.deepcopy(ORDERS)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail: dict[str, str] = {}

    def call(self, name: str, args: dict[str, Any]) -> tuple[bool, str]:
        self.calls.append((name, args))
        if name in self.fail:
            return False, f"Error: {self.fail[name]}"
        try:
            result = getattr(self, f"_{name}")(**args)
        except ToolRefused as exc:
            return False, f"Error: {exc}"
        return True, result if isinstance(result, str) else json.dumps(result)

    def _order(self, order_id: str, *statuses: str) -> dict[str, Any]:
        if order_id not in self.orders:
            raise ToolRefused("order not found")
        order = self.orders[order_id]
        if statuses and order["status"] not in statuses:
            raise ToolRefused(f"order status is {order['status']}")
        return order

    def _find_user_id_by_email(self, email: str) -> str:
        for uid, user in self.users.items():
            if user["email"].lower() == email.lower():
                return uid
        raise ToolRefused("user not found")

    def _find_user_id_by_name_zip(self, first_name: str, last_name: str, zip: str) -> str:
        for uid, user in self.users.items():
            name = user["name"]
            if (name["first_name"].lower(), name["last_name"].lower(), user["address"]["zip"]) == (
                first_name.lower(),
                last_name.lower(),
                zip,
            ):
                return uid
        raise ToolRefused("user not found")

    def _get_user_details(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.users:
            raise ToolRefused("user not found")
        return self.users[user_id]

    def _get_order_details(self, order_id: str) -> dict[str, Any]:
        return self._order(order_id)

    def _get_product_details(self, product_id: str) -> dict[str, Any]:
        return PRODUCTS[product_id]

    def _list_all_product_types(self) -> dict[str, str]:
        return {p["name"]: pid for pid, p in sorted(PRODUCTS.items(), key=lambda x: x[1]["name"])}

    def _quote_return_refund(self, order_id: str, item_ids: list[str]) -> dict[str, Any]:
        order = self._order(order_id, "delivered")
        amount = sum(i["price"] for i in order["items"] if i["item_id"] in item_ids)
        return {"order_id": order_id, "item_ids": item_ids, "amount": round(amount, 2)}

    def _return_delivered_order_items(
        self, order_id: str, item_ids: list[str], payment_method_id: str
    ) -> dict[str, Any]:
        order = self._order(order_id, "delivered")
        original = order["payment_history"][0]["payment_method_id"]
        if payment_method_id != original and not payment_method_id.startswith("gift_card"):
            raise ToolRefused("payment method should be the original payment method or a gift card")
        order.update(
            status="return requested",
            return_items=sorted(item_ids),
            return_payment_method_id=payment_method_id,
        )
        return order

    def _schedule_return_pickup(self, order_id: str, pickup_date: str | None = None) -> dict[str, Any]:
        order = self._order(order_id, "return requested", "exchange requested")
        order["return_pickup"] = {
            "tracking_id": "PU-1",
            "pickup_date": pickup_date or "2030-01-02",
            "status": "scheduled",
            "restocked_item_ids": [],
        }
        return order

    def _receive_returned_items(self, order_id: str) -> dict[str, Any]:
        order = self._order(order_id, "return requested", "exchange requested")
        order["status"] = "return received"
        order["return_pickup"].update(status="received", restocked_item_ids=order["return_items"])
        return order

    def _issue_return_refund(self, order_id: str) -> dict[str, Any]:
        order = self._order(order_id, "return received")
        amount = sum(i["price"] for i in order["items"] if i["item_id"] in order["return_items"])
        order["payment_history"].append(
            {
                "transaction_type": "refund",
                "amount": amount,
                "payment_method_id": order["return_payment_method_id"],
            }
        )
        order["status"] = "returned"
        return order

    def _record_return_reason(self, order_id: str, reason: str) -> dict[str, Any]:
        return {"order_id": order_id, "reason": reason, "category": "damaged"}

    def _get_return_reason_stats(self) -> dict[str, Any]:
        return {"categories": {"damaged": 4, "too small": 2, "other": 1}, "total": 7}

    def _notify_customer(self, user_id: str, message: str) -> dict[str, Any]:
        return {"user_id": user_id, "message": message, "sent": True}

    def _transfer_to_human_agents(self, summary: str) -> str:
        return "Transfer successful"

    def _cancel_pending_order(self, order_id: str, reason: str) -> dict[str, Any]:
        order = self._order(order_id, "pending")
        if reason not in ("no longer needed", "ordered by mistake"):
            raise ToolRefused("invalid reason")
        order.update(status="cancelled", cancel_reason=reason)
        return order

    def _swap(self, order: dict[str, Any], item_ids: list[str], new_item_ids: list[str]) -> float:
        diff = 0.0
        for old, new in zip(item_ids, new_item_ids, strict=True):
            item = next(i for i in order["items"] if i["item_id"] == old)
            variant = PRODUCTS[item["product_id"]]["variants"].get(new)
            if variant is None or not variant["available"]:
                raise ToolRefused(f"new item {new} not found or available")
            diff += variant["price"] - item["price"]
        return round(diff, 2)

    def _exchange_delivered_order_items(
        self, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str
    ) -> dict[str, Any]:
        order = self._order(order_id, "delivered")
        diff = self._swap(order, item_ids, new_item_ids)
        order.update(
            status="exchange requested",
            exchange_items=sorted(item_ids),
            exchange_new_items=sorted(new_item_ids),
            exchange_price_difference=diff,
            exchange_payment_method_id=payment_method_id,
            return_items=sorted(item_ids),
        )
        return order

    def _modify_pending_order_items(
        self, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str
    ) -> dict[str, Any]:
        order = self._order(order_id, "pending")
        self._swap(order, item_ids, new_item_ids)
        order["status"] = "pending (item modified)"
        return order

    def _modify_pending_order_payment(self, order_id: str, payment_method_id: str) -> dict[str, Any]:
        order = self._order(order_id, "pending")
        order["payment_history"].append(
            {"transaction_type": "payment", "amount": 25.0, "payment_method_id": payment_method_id}
        )
        return order

    def _modify_pending_order_address(self, order_id: str, **address: str) -> dict[str, Any]:
        order = self._order(order_id, "pending")
        order["address"] = address
        return order

    def _modify_user_address(self, user_id: str, **address: str) -> dict[str, Any]:
        self.users[user_id]["address"] = address
        return self.users[user_id]

    def _calculate(self, expression: str) -> str:
        return str(round(eval(expression, {"__builtins__": {}}), 2))  # test-only, fixed inputs
