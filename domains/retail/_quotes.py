"""Read-only quotes: what a money-moving call would move, before it runs.

Every path that moves money has one, so a policy can price the call and ask
a human above a limit: a return (``quote_return_refund``), a cancellation
(``quote_cancel_refund``), an item change or exchange (``quote_item_change``)
and a payment change (``quote_payment_change``). Each checks what its write
checks about the order, so a quote is only given for a call that could run,
and each returns ``amount`` (the money moved, never negative) and ``paid``
(what the order's payments hold, net of refunds) so a policy can also check
that a refund is at most what was paid.
"""

from __future__ import annotations

from switchboard.domains.retail._base import OperationsBase, held_by_method, money
from switchboard.domains.retail.store import Record
from switchboard.errors import ToolError


class QuoteOperations(OperationsBase):
    """The quote tools; none of them writes."""

    def quote_return_refund(self, order_id: str, item_ids: list[str]) -> Record:
        """Price the refund of a possible return, without changing anything.

        Checks what ``return_delivered_order_items`` checks about the order
        and the items, so a quote is only given for a return that could be
        requested.
        """
        order = self._order(order_id)
        self._require_status(order, ["delivered"], "returned", "A return can be requested once, after delivery.")
        positions = self._item_positions(order, item_ids)
        amount = money(sum(order["items"][p]["price"] for p in positions))
        return {
            "order_id": order_id,
            "item_ids": sorted(item_ids),
            "amount": amount,
            "paid": _paid(order),
            "original_payment_method_id": _original(order),
        }

    def quote_cancel_refund(self, order_id: str) -> Record:
        """Price cancelling a pending order: every payment method gets back what it holds."""
        order = self._order(order_id)
        self._require_status(
            order, ["pending"], "cancelled", "Processed or delivered orders cannot be cancelled."
        )
        refunds = {m: held for m, held in held_by_method(order["payment_history"]).items() if held > 0}
        return {"order_id": order_id, "amount": money(sum(refunds.values())), "paid": _paid(order), "refunds": refunds}

    def quote_item_change(self, order_id: str, item_ids: list[str], new_item_ids: list[str]) -> Record:
        """Price swapping items for other variants: a pending order's item change or a delivered order's exchange.

        ``difference`` is new minus old (positive: the customer pays);
        ``amount`` is its size, the money that moves either way.
        """
        order = self._order(order_id)
        self._require_status(
            order,
            ["pending", "delivered"],
            "changed",
            "Items of a pending order can be changed, and items of a delivered order exchanged, once.",
        )
        difference = money(self._price_change(order, item_ids, new_item_ids).difference)
        return {
            "order_id": order_id,
            "difference": difference,
            "amount": abs(difference),
            "direction": "charge" if difference > 0 else "refund" if difference < 0 else "none",
            "paid": _paid(order),
        }

    def quote_payment_change(self, order_id: str, payment_method_id: str) -> Record:
        """Price moving a pending order's payment: the whole amount is charged anew and refunded."""
        order = self._order(order_id)
        self._require_status(order, ["pending"], "modified", "Only a pending order's payment method can be changed.")
        self._payment_method(self._owner(order), payment_method_id, order["user_id"])
        history = order["payment_history"]
        if len(history) != 1 or history[0]["transaction_type"] != "payment":
            raise ToolError(
                f"Order {order_id} must have exactly one payment to change its payment method, but its "
                f"history has {len(history)} entries. Transfer to a human agent."
            )
        return {
            "order_id": order_id,
            "amount": money(history[0]["amount"]),
            "paid": _paid(order),
            "from_payment_method_id": history[0]["payment_method_id"],
            "to_payment_method_id": payment_method_id,
        }


def _paid(order: Record) -> float:
    return money(sum(held_by_method(order["payment_history"]).values()))


def _original(order: Record) -> str | None:
    history = order["payment_history"]
    return str(history[0]["payment_method_id"]) if history else None
