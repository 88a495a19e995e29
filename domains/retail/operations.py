"""The retail operations: τ-bench's tools, plus Switchboard's return process.

Names, arguments, preconditions, effects and results follow the τ-bench
retail benchmark, so that its tasks can be replayed against this store. A
failed precondition raises :class:`~switchboard.errors.ToolError` and changes
nothing; a successful write returns the changed record.

Two deliberate differences from the benchmark's code, both about inputs its
tasks never give: empty item lists are refused instead of turned into no-op
writes, and cancelling an order whose payment method was changed refunds what
each method still holds, where the benchmark refunds every history entry
(refunds included) and so pays the old method back twice. For an order with a
single payment, the usual case, both give the same refund.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

from switchboard.domains.retail._base import held_by_method, money
from switchboard.domains.retail._returns import ReturnOperations
from switchboard.domains.retail.store import Record
from switchboard.errors import ToolError

CANCEL_REASONS = ("no longer needed", "ordered by mistake")
"""The only reasons the benchmark accepts for cancelling an order."""

_CALC_CHARS = frozenset("0123456789+-*/(). ")
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


class RetailOperations(ReturnOperations):
    """One method per retail tool, over a :class:`~switchboard.domains.retail.store.RetailStore`."""

    # Look-ups -------------------------------------------------------------------

    def find_user_id_by_email(self, email: str) -> str:
        """The id of the user with this email, compared case-insensitively."""
        matches = self._store.user_ids_by_email(email)
        if not matches:
            raise ToolError(
                f"User with email {email!r} not found. Check the spelling, or find the "
                "user by first name, last name and zip with find_user_id_by_name_zip."
            )
        return matches[0]

    def find_user_id_by_name_zip(self, first_name: str, last_name: str, zip: str) -> str:
        """The id of the user with this name (any case) and exactly this zip code."""
        matches = self._store.user_ids_by_name_zip(first_name, last_name, zip)
        if not matches:
            raise ToolError(
                f"User {first_name} {last_name} with zip {zip!r} not found. Check the "
                "spelling and the zip code, or find the user by email."
            )
        return matches[0]

    def get_user_details(self, user_id: str) -> Record:
        """The user record: name, address, email, payment methods and order ids."""
        return self._user(user_id)

    def get_order_details(self, order_id: str) -> Record:
        """The order record: items, fulfillments, status and payment history."""
        return self._order(order_id)

    def get_product_details(self, product_id: str) -> Record:
        """The product record with every variant's options, price and availability."""
        return self._product(product_id)

    def list_all_product_types(self) -> dict[str, str]:
        """Every product name mapped to its product id, sorted by name."""
        names = {product["name"]: product["product_id"] for product in self._store.products()}
        return dict(sorted(names.items()))

    def calculate(self, expression: str) -> float:
        """Evaluate arithmetic on numbers, rounded to cents.

        Only digits, ``+ - * / ( ) .`` and spaces are accepted, as in the
        benchmark; the expression is evaluated on its syntax tree rather than
        with ``eval`` so nothing but arithmetic can run.
        """
        if not set(expression) <= _CALC_CHARS:
            raise ToolError(
                f"Invalid characters in expression {expression!r}: use only digits, "
                "+ - * / ( ) . and spaces."
            )
        try:
            tree = ast.parse(expression.lstrip(" "), mode="eval")
            return money(float(_evaluate(tree.body)))
        except (SyntaxError, ArithmeticError, ValueError) as exc:
            raise ToolError(
                f"Cannot evaluate {expression!r}: {exc}. Give a complete arithmetic "
                "expression such as '(12.5 + 7) * 2'."
            ) from exc

    def transfer_to_human_agents(self, summary: str) -> str:
        """Hand the conversation to a human agent; the summary travels with it."""
        return "Transfer successful"

    # Pending orders -----------------------------------------------------------------

    def cancel_pending_order(self, order_id: str, reason: str) -> Record:
        """Cancel a pending order and refund every payment.

        Each payment method gets back what it paid for the order (net of
        earlier refunds). A gift card is credited at once; other methods are
        refunded by the payment provider, so only the entry is written.
        """
        with self._store.transaction():
            order = self._order(order_id)
            self._require_status(
                order,
                ["pending"],
                "cancelled",
                "Processed or delivered orders cannot be cancelled; a delivered order "
                "can be returned instead.",
            )
            if reason not in CANCEL_REASONS:
                raise ToolError(
                    f"Invalid cancellation reason {reason!r}: it must be 'no longer needed' "
                    "or 'ordered by mistake'. Ask the customer which one applies."
                )
            user = self._owner(order)
            refunds = []
            for method_id, held in held_by_method(order["payment_history"]).items():
                if held <= 0:
                    continue
                self._adjust_gift_card(self._stored_method(user, method_id, order), held)
                refunds.append(
                    {"transaction_type": "refund", "amount": held, "payment_method_id": method_id}
                )
            order["status"] = "cancelled"
            order["cancel_reason"] = reason
            order["payment_history"].extend(refunds)
            self._store.put_order(order)
            self._store.put_user(order["user_id"], user)
        return order

    def modify_pending_order_address(
        self,
        order_id: str,
        address1: str,
        address2: str,
        city: str,
        state: str,
        country: str,
        zip: str,
    ) -> Record:
        """Replace the shipping address of a pending order."""
        with self._store.transaction():
            order = self._order(order_id)
            self._require_status(
                order,
                ["pending"],
                "modified",
                "The order has left the warehouse queue, so its address is fixed.",
            )
            order["address"] = _address(address1, address2, city, state, country, zip)
            self._store.put_order(order)
        return order

    def modify_user_address(
        self,
        user_id: str,
        address1: str,
        address2: str,
        city: str,
        state: str,
        country: str,
        zip: str,
    ) -> Record:
        """Replace a user's default address (existing orders keep theirs)."""
        with self._store.transaction():
            user = self._user(user_id)
            user["address"] = _address(address1, address2, city, state, country, zip)
            self._store.put_user(user_id, user)
        return user

    def modify_pending_order_payment(self, order_id: str, payment_method_id: str) -> Record:
        """Move a pending order's single payment to another of the user's methods.

        Writes a payment on the new method and a refund to the old one, and
        moves gift card balances accordingly.
        """
        with self._store.transaction():
            order = self._order(order_id)
            self._require_status(
                order,
                ["pending"],
                "modified",
                "Only a pending order's payment method can be changed.",
            )
            user = self._owner(order)
            method = self._payment_method(user, payment_method_id, order["user_id"])
            history = order["payment_history"]
            if len(history) != 1 or history[0]["transaction_type"] != "payment":
                raise ToolError(
                    f"Order {order_id} must have exactly one payment to change its payment "
                    f"method, but its history has {len(history)} entries (the method was "
                    "already changed or the items modified). Transfer to a human agent."
                )
            old_id, amount = history[0]["payment_method_id"], history[0]["amount"]
            if old_id == payment_method_id:
                raise ToolError(
                    f"Order {order_id} is already paid with {payment_method_id}; choose a "
                    "different payment method."
                )
            if method["source"] == "gift_card" and method["balance"] < amount:
                raise ToolError(
                    f"Gift card {payment_method_id} has a balance of {method['balance']}, "
                    f"less than the order's {amount}; choose another payment method."
                )
            history.append(
                {
                    "transaction_type": "payment",
                    "amount": amount,
                    "payment_method_id": payment_method_id,
                }
            )
            history.append(
                {"transaction_type": "refund", "amount": amount, "payment_method_id": old_id}
            )
            self._adjust_gift_card(method, -amount)
            self._adjust_gift_card(self._stored_method(user, old_id, order), amount)
            self._store.put_order(order)
            self._store.put_user(order["user_id"], user)
        return order

    def modify_pending_order_items(
        self,
        order_id: str,
        item_ids: list[str],
        new_item_ids: list[str],
        payment_method_id: str,
    ) -> Record:
        """Swap items of a pending order for other variants of the same products.

        The price difference is paid with (or refunded to) the given method,
        and the order becomes ``pending (item modified)``, which cannot be
        modified or cancelled again.
        """
        with self._store.transaction():
            order = self._order(order_id)
            self._require_status(
                order,
                ["pending"],
                "modified",
                "Items can be changed only once, and only before the order is processed.",
            )
            change = self._price_change(order, item_ids, new_item_ids)
            user = self._owner(order)
            method = self._payment_method(user, payment_method_id, order["user_id"])
            if method["source"] == "gift_card" and method["balance"] < change.difference:
                raise ToolError(
                    f"Gift card {payment_method_id} has a balance of {method['balance']}, "
                    f"less than the price difference {money(change.difference)}; choose "
                    "another payment method."
                )
            order["payment_history"].append(
                {
                    "transaction_type": "payment" if change.difference > 0 else "refund",
                    "amount": money(abs(change.difference)),
                    "payment_method_id": payment_method_id,
                }
            )
            self._adjust_gift_card(method, -change.difference)
            for position, variant in zip(change.positions, change.variants, strict=True):
                item = order["items"][position]
                item["item_id"] = variant["item_id"]
                item["price"] = variant["price"]
                item["options"] = variant["options"]
            order["status"] = "pending (item modified)"
            self._store.put_order(order)
            self._store.put_user(order["user_id"], user)
        return order

    # Delivered orders ----------------------------------------------------------------

    def return_delivered_order_items(
        self, order_id: str, item_ids: list[str], payment_method_id: str
    ) -> Record:
        """Request the return of items of a delivered order.

        The refund goes to the original payment method or a gift card; it is
        paid later by :meth:`issue_return_refund`, once the items are back.
        """
        with self._store.transaction():
            order = self._order(order_id)
            self._require_status(
                order,
                ["delivered"],
                "returned",
                "A return or exchange can be requested once, after delivery.",
            )
            user = self._owner(order)
            method = self._payment_method(user, payment_method_id, order["user_id"])
            original = order["payment_history"][0]["payment_method_id"]
            if method["source"] != "gift_card" and payment_method_id != original:
                raise ToolError(
                    f"A refund for order {order_id} can go only to the original payment "
                    f"method {original} or to a gift card, not to {payment_method_id}."
                )
            self._item_positions(order, item_ids)
            order["status"] = "return requested"
            order["return_items"] = sorted(item_ids)
            order["return_payment_method_id"] = payment_method_id
            self._store.put_order(order)
        return order

    def exchange_delivered_order_items(
        self,
        order_id: str,
        item_ids: list[str],
        new_item_ids: list[str],
        payment_method_id: str,
    ) -> Record:
        """Request the exchange of delivered items for other variants of the same products.

        Only the request is recorded; the price difference is settled when the
        exchange is fulfilled, so no payment entry is written yet.
        """
        with self._store.transaction():
            order = self._order(order_id)
            self._require_status(
                order,
                ["delivered"],
                "exchanged",
                "A return or exchange can be requested once, after delivery.",
            )
            change = self._price_change(order, item_ids, new_item_ids)
            difference = money(change.difference)
            user = self._owner(order)
            method = self._payment_method(user, payment_method_id, order["user_id"])
            if method["source"] == "gift_card" and method["balance"] < difference:
                raise ToolError(
                    f"Gift card {payment_method_id} has a balance of {method['balance']}, "
                    f"less than the price difference {difference}; choose another "
                    "payment method."
                )
            order["status"] = "exchange requested"
            order["exchange_items"] = sorted(item_ids)
            order["exchange_new_items"] = sorted(new_item_ids)
            order["exchange_payment_method_id"] = payment_method_id
            order["exchange_price_difference"] = difference
            self._store.put_order(order)
        return order


def _address(
    address1: str, address2: str, city: str, state: str, country: str, zip_code: str
) -> Record:
    """An address record, keys in the order the benchmark writes them."""
    return {
        "address1": address1,
        "address2": address2,
        "city": city,
        "state": state,
        "country": country,
        "zip": zip_code,
    }


def _evaluate(node: ast.expr) -> float:
    """Evaluate an arithmetic syntax tree; anything else is refused."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return node.value
        raise ValueError("only numbers are allowed")
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 1000:
            raise ValueError("exponent too large")
        return _BINARY[type(node.op)](left, right)
    raise ValueError("only numbers, + - * / and parentheses are allowed")
