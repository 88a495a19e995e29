"""Switchboard's return process, which the benchmark stops short of.

The benchmark ends a return at ``return requested``. A real shop then picks
the parcel up, receives the items, restocks them and refunds the customer:

    return requested --schedule_return_pickup--> (pickup scheduled)
                     --receive_returned_items--> return received
                     --issue_return_refund-->    returned

Each step checks the previous one happened, so a refund cannot be issued
before the items are back, nor twice. ``quote_return_refund`` prices a return
before it is requested (see ``_quotes``), so a policy can decide on the amount.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

from switchboard.domains.retail._base import money
from switchboard.domains.retail._quotes import QuoteOperations
from switchboard.domains.retail.store import Record
from switchboard.errors import DataError, ToolError

RETURN_STATUSES = ("return requested", "exchange requested", "return received", "returned")
"""Statuses of an order whose return or exchange has been requested."""

RETURN_REASON_CATEGORIES = (
    "damaged/defective",
    "wrong size/fit",
    "ordered by mistake",
    "no longer needed",
    "other",
)
"""Categories of return reasons, in the order :func:`categorize_reason` tries them."""

_CATEGORY_PATTERNS = (
    (
        "damaged/defective",
        r"damag\w*|defect\w*|broken|broke|crack\w*|faulty|scratch\w*|torn|ripped|leak\w*"
        r"|malfunction\w*|stopped working|(does|did|is)\s?n[o']?t work\w*|not working"
        r"|dead on arrival|shattered|dented",
    ),
    (
        "wrong size/fit",
        r"size[sd]?|sizing|fits?|fitting|too (small|big|large|tight|loose|short|long|narrow"
        r"|wide)|tight|loose",
    ),
    (
        "ordered by mistake",
        r"mistakes?|mistaken\w*|accident\w*|by error|wrong (item|product|model|colou?r|one)"
        r"|ordered (the )?wrong|duplicate|ordered twice",
    ),
    (
        "no longer needed",
        r"no longer (need|want)\w*|(do|did)\s?n[o']?t (need|want)\w*|not needed|unneeded"
        r"|changed? (my|of) mind|need it anymore",
    ),
)
_COMPILED = tuple(
    (category, re.compile(rf"\b({pattern})\b", re.IGNORECASE))
    for category, pattern in _CATEGORY_PATTERNS
)


def categorize_reason(reason: str) -> str:
    """Map a free-text return reason onto one of :data:`RETURN_REASON_CATEGORIES`.

    A keyword match, deliberately simple and predictable: the first category
    whose keywords appear wins, so "wrong size, ordered by mistake" counts as
    a fit problem, which is what the shop can act on.
    """
    for category, pattern in _COMPILED:
        if pattern.search(reason):
            return category
    return "other"


def pickup_tracking_id(order_id: str) -> str:
    """A 12-digit tracking id derived from the order id, stable across runs."""
    digest = hashlib.sha256(f"return-pickup:{order_id}".encode()).hexdigest()
    return f"{int(digest, 16) % 10**12:012d}"


class ReturnOperations(QuoteOperations):
    """The return process after ``return_delivered_order_items``."""

    def schedule_return_pickup(self, order_id: str, pickup_date: str | None = None) -> Record:
        """Book the courier that collects the items of a requested return or exchange.

        Args:
            order_id: The order, in status ``return requested`` or
                ``exchange requested``, with no pickup yet.
            pickup_date: ISO date (``YYYY-MM-DD``), today or later; tomorrow
                if omitted.
        """
        with self._store.transaction():
            order = self._order(order_id)
            self._require_status(
                order,
                ["return requested", "exchange requested"],
                "picked up",
                "Request the return or exchange first.",
            )
            existing = order.get("return_pickup") or self._store.get_pickup(order_id)
            if existing is not None:
                raise ToolError(
                    f"A pickup for order {order_id} is already scheduled on "
                    f"{existing['pickup_date']} (tracking {existing['tracking_id']}); "
                    "tell the customer that date instead of booking another."
                )
            pickup = {
                "tracking_id": pickup_tracking_id(order_id),
                "pickup_date": self._pickup_date(pickup_date),
                "status": "scheduled",
                "restocked_item_ids": [],
            }
            order["return_pickup"] = pickup
            self._store.put_pickup({"order_id": order_id, **pickup})
            self._store.put_order(order)
        return order

    def receive_returned_items(self, order_id: str) -> Record:
        """Mark a return's items as received and put their variants back in stock."""
        with self._store.transaction():
            order = self._order(order_id)
            self._require_status(
                order,
                ["return requested"],
                "received",
                "Only a requested return with a scheduled pickup can be received.",
            )
            pickup = order.get("return_pickup")
            if pickup is None:
                raise ToolError(
                    f"Order {order_id} has no return pickup yet; call schedule_return_pickup "
                    "before receiving its items."
                )
            restocked = sorted(set(order["return_items"]))
            for product in self._restock(order):
                self._store.put_product(product)
            pickup.update(status="received", restocked_item_ids=restocked)
            order["status"] = "return received"
            self._store.put_pickup({"order_id": order_id, **pickup})
            self._store.put_order(order)
        return order

    def issue_return_refund(self, order_id: str) -> Record:
        """Refund the returned items to the method chosen when the return was requested.

        A gift card is credited at once. The order becomes ``returned``, which
        no step accepts again, so a return is refunded at most once.
        """
        with self._store.transaction():
            order = self._order(order_id)
            if order["status"] == "returned":
                raise ToolError(
                    f"Order {order_id} has already been refunded (status 'returned'); "
                    "a return is refunded only once."
                )
            self._require_status(
                order,
                ["return received"],
                "refunded",
                "Receive the returned items with receive_returned_items first.",
            )
            positions = self._returned_positions(order)
            amount = money(sum(order["items"][p]["price"] for p in positions))
            user = self._owner(order)
            method_id = order["return_payment_method_id"]
            self._adjust_gift_card(self._stored_method(user, method_id, order), amount)
            order["payment_history"].append(
                {"transaction_type": "refund", "amount": amount, "payment_method_id": method_id}
            )
            order["status"] = "returned"
            self._store.put_order(order)
            self._store.put_user(order["user_id"], user)
        return order

    def record_return_reason(self, order_id: str, reason: str) -> Record:
        """Store why a customer returns or exchanges an order, with its category.

        Recording again for the same order replaces the earlier reason.
        """
        with self._store.transaction():
            order = self._order(order_id)
            self._require_status(
                order,
                RETURN_STATUSES,
                "given a return reason",
                "Request the return or exchange first.",
            )
            if not reason.strip():
                raise ToolError("The return reason is empty: record the customer's own words.")
            record = {
                "order_id": order_id,
                "reason": reason.strip(),
                "category": categorize_reason(reason),
            }
            self._store.put_return_reason(record)
        return record

    def get_return_reason_stats(self) -> Record:
        """Number of recorded return reasons per category, and in total."""
        counts = self._store.return_reason_counts()
        categories = {category: counts.get(category, 0) for category in RETURN_REASON_CATEGORIES}
        return {"total": sum(categories.values()), "categories": categories}

    def notify_customer(self, user_id: str, message: str) -> Record:
        """Send a message to a customer (recorded in ``notifications``)."""
        with self._store.transaction():
            self._user(user_id)
            if not message.strip():
                raise ToolError("The notification message is empty: write what to tell them.")
            created_at = self._clock().isoformat(timespec="seconds")
            return self._store.add_notification(user_id, message.strip(), created_at)

    # Internals ------------------------------------------------------------------

    def _pickup_date(self, requested: str | None) -> str:
        today = self._clock().date()
        if requested is None:
            return (today + timedelta(days=1)).isoformat()
        try:
            day = date.fromisoformat(requested)
        except ValueError as exc:
            raise ToolError(
                f"pickup_date {requested!r} is not a date: use YYYY-MM-DD, or omit it for tomorrow."
            ) from exc
        if day < today:
            raise ToolError(
                f"pickup_date {day.isoformat()} is in the past: use {today.isoformat()} or "
                "later, or omit it for tomorrow."
            )
        return day.isoformat()

    def _returned_positions(self, order: Record) -> list[int]:
        """Positions of the returned items; they were checked when requested."""
        try:
            return self._item_positions(order, order["return_items"])
        except ToolError as exc:
            raise DataError(
                f"Order {order['order_id']!r} lists return items that are not in the "
                f"order ({exc}); fix the order record."
            ) from exc

    def _restock(self, order: Record) -> list[Record]:
        """The products of the returned items, with those variants marked available."""
        products: dict[str, Record] = {}
        for position in self._returned_positions(order):
            item = order["items"][position]
            product_id = item["product_id"]
            product = products.get(product_id) or self._store.get_product(product_id)
            if product is None or item["item_id"] not in product["variants"]:
                raise DataError(
                    f"Returned item {item['item_id']} of order {order['order_id']!r} is not "
                    f"a variant of product {product_id!r} in the catalogue; restore it."
                )
            product["variants"][item["item_id"]]["available"] = True
            products[product_id] = product
        return list(products.values())
