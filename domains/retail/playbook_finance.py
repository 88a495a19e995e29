"""Recipes of the billing desk: returns, refunds, cancellations, payments, item changes.

Every write is preceded by a read of the order, so that a broken precondition
(an order that is not pending any more) is reported in plain words instead of
being tried; the tool still has the last word.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.domains.retail.playbook_common import (
    DELIVERED,
    PENDING,
    as_dict,
    item_ids_for,
    money,
    names_of,
    need,
    new_variants,
    order_id_of,
    original_payment,
    payment_for,
)
from switchboard.engine import Call, Handoff, Turn


def _order(turn: Turn, statuses: tuple[str, ...] | None) -> dict[str, Any] | Call | Handoff:
    """The order of the step, read and checked against the statuses it must have."""
    order_id = order_id_of(turn)
    if not order_id:
        return Handoff.failed("No order id is known for this step; identify the order first.")
    order = need(turn, "get_order_details", f"Read order {order_id} before changing it.", order_id=order_id)
    if isinstance(order, Call):
        return order
    order = as_dict(order)
    if statuses and order.get("status") not in statuses:
        return Handoff.failed(
            f"Order {order_id} is '{order.get('status')}', but this needs it to be "
            f"{' or '.join(statuses)}; nothing was changed."
        )
    return order


def _payment(turn: Turn, order: Mapping[str, Any]) -> str | Call | None:
    """The payment method to use: from the context, else worked out from the profile."""
    if turn.context.get("payment_method_id"):
        return str(turn.context["payment_method_id"])
    choice = turn.slots.get("refund_to")
    if choice in (None, "original") and turn.intent != "change_payment":
        return original_payment(order)
    user_id = turn.context.get("user_id") or order.get("user_id")
    user = need(turn, "get_user_details", "Find the customer's payment methods.", user_id=user_id)
    if isinstance(user, Call):
        return user
    method, _ = payment_for(turn.intent, choice, as_dict(user), order, turn.task)
    return method


def _write_once(turn: Turn, tool: str, args: dict[str, Any], why: str) -> Any:
    """The result of a write, or the call to make it (the engine never repeats a call)."""
    done = turn.result(tool, order_id=args.get("order_id")) if "order_id" in args else turn.result(tool)
    return Call(tool, args, why) if done is None else as_dict(done) or done


def process_return(turn: Turn) -> Call | Handoff:
    """Request the return of delivered items, refunding the original method or a gift card."""
    order = _order(turn, DELIVERED)
    if not isinstance(order, dict):
        return order
    item_ids = item_ids_for(turn, order)
    method = _payment(turn, order)
    if not isinstance(method, str):
        return method or Handoff.failed("The order has no payment to refund.")
    order_id = str(order["order_id"])
    amount = None
    if "quote_return_refund" in turn.tools:
        quote = need(turn, "quote_return_refund", "Quote the refund.", order_id=order_id, item_ids=item_ids)
        if isinstance(quote, Call):
            return quote
        amount = as_dict(quote).get("amount")
    args = {"order_id": order_id, "item_ids": item_ids, "payment_method_id": method}
    result = _write_once(turn, "return_delivered_order_items", args, "Request the return.")
    if isinstance(result, Call):
        return result
    facts = {
        "order_id": order_id,
        "item_ids": item_ids,
        "payment_method_id": method,
        "order_status": as_dict(result).get("status", "return requested"),
    }
    if amount is not None:
        facts["refund_amount"] = amount
    refund = f" for a refund of {money(amount)}" if amount is not None else ""
    return Handoff(
        "done",
        f"Requested the return of {names_of(order, item_ids)} from {order_id}{refund} to {method}.",
        facts,
        "The order is delivered and the refund goes to an allowed payment method.",
    )


def issue_refund(turn: Turn) -> Call | Handoff:
    """Refund returned items once they have been received."""
    order_id = order_id_of(turn)
    if not order_id:
        return Handoff.failed("No order id is known, so I cannot issue a refund.")
    result = _write_once(turn, "issue_return_refund", {"order_id": order_id}, "Issue the refund.")
    if isinstance(result, Call):
        return result
    refunds = [e for e in as_dict(result).get("payment_history") or [] if e.get("transaction_type") == "refund"]
    facts: dict[str, Any] = {"order_status": as_dict(result).get("status", "returned")}
    if refunds:
        facts["refund_amount"] = refunds[-1].get("amount")
        facts["payment_method_id"] = refunds[-1].get("payment_method_id")
    amount = f" of {money(facts['refund_amount'])}" if "refund_amount" in facts else ""
    return Handoff("done", f"Issued the refund{amount} for {order_id}.", facts, "The return was received.")


def cancel_order(turn: Turn) -> Call | Handoff:
    """Cancel a pending order; the reason must be one the store accepts."""
    order = _order(turn, PENDING)
    if not isinstance(order, dict):
        return order
    given = turn.fact("cancel_reason")
    reason = given or "no longer needed"
    args = {"order_id": order["order_id"], "reason": reason}
    result = _write_once(turn, "cancel_pending_order", args, f"Cancel the order ({reason}).")
    if isinstance(result, Call):
        return result
    paid = sum(
        float(e.get("amount", 0)) for e in order.get("payment_history") or [] if e.get("transaction_type") == "payment"
    )
    assumed = "" if given else " The customer gave no reason; I used 'no longer needed'."
    return Handoff(
        "done",
        f"Cancelled {order['order_id']} ({reason}); {money(paid)} is refunded.{assumed}",
        {"order_status": "cancelled", "cancel_reason": reason, "refund_amount": round(paid, 2)},
        "The order was still pending.",
        0.9 if given else 0.75,
    )


def change_payment(turn: Turn) -> Call | Handoff:
    """Pay a pending order with another of the customer's payment methods."""
    order = _order(turn, PENDING)
    if not isinstance(order, dict):
        return order
    method = _payment(turn, order)
    if isinstance(method, Call):
        return method
    if not method or method == original_payment(order):
        return Handoff.failed(
            "The task does not name a new payment method of the customer (gift card, PayPal, or "
            "a card by its last four digits) different from the current one."
        )
    args = {"order_id": order["order_id"], "payment_method_id": method}
    result = _write_once(turn, "modify_pending_order_payment", args, f"Switch payment to {method}.")
    if isinstance(result, Call):
        return result
    return Handoff(
        "done",
        f"Order {order['order_id']} is now paid with {method}.",
        {
            "payment_method_id": method,
            "payment_changed": True,
            "order_status": as_dict(result).get("status", "pending"),
        },
        "The order was pending with a single payment.",
    )


def modify_items(turn: Turn) -> Call | Handoff:
    """Swap items of a pending order for other variants and settle the difference."""
    return _swap(turn, PENDING, "modify_pending_order_items", "changed")


def process_exchange(turn: Turn) -> Call | Handoff:
    """Exchange delivered items for other variants; the difference is worked out."""
    return _swap(turn, DELIVERED, "exchange_delivered_order_items", "exchange requested for")


def _swap(turn: Turn, statuses: tuple[str, ...], tool: str, verb: str) -> Call | Handoff:
    order = _order(turn, statuses)
    if not isinstance(order, dict):
        return order
    item_ids = [str(i) for i in turn.context.get("item_ids") or []] or item_ids_for(turn, order)
    new = _new_items(turn, order, item_ids)
    if not isinstance(new, tuple):
        return new
    new_item_ids, quoted = new
    method = _payment(turn, order)
    if not isinstance(method, str):
        return method or Handoff.failed("No payment method is known for the price difference.")
    args = {
        "order_id": order["order_id"],
        "item_ids": item_ids,
        "new_item_ids": new_item_ids,
        "payment_method_id": method,
    }
    result = _write_once(turn, tool, args, f"Swap {len(item_ids)} item(s).")
    if isinstance(result, Call):
        return result
    after = as_dict(result)
    difference = after.get("exchange_price_difference", quoted)
    facts = {"order_status": after.get("status"), "item_ids": item_ids, "new_item_ids": new_item_ids}
    if difference is not None:
        facts["price_difference"] = difference
    diff = f"; price difference {money(difference)} via {method}" if difference is not None else ""
    return Handoff(
        "done",
        f"Order {order['order_id']}: {verb} {names_of(order, item_ids)}, new item(s) {', '.join(new_item_ids)}{diff}.",
        facts,
        "Each new item is an available variant of the same product.",
    )


def _new_items(
    turn: Turn, order: Mapping[str, Any], item_ids: list[str]
) -> tuple[list[str], float | None] | Call | Handoff:
    """The variants to swap in and the price difference: from the context, else read here."""
    known = [str(i) for i in turn.context.get("new_item_ids") or []]
    if known and len(known) == len(item_ids):
        return known, turn.context.get("price_difference")
    if "get_product_details" not in turn.tools:
        return Handoff.failed(
            "The new variants are not known (new_item_ids) and I cannot read the catalogue; look the "
            "product up first (product_lookup) to choose an available variant for each item."
        )
    chosen = new_variants(turn, order, item_ids)
    if isinstance(chosen, Call | Handoff):
        return chosen
    difference = round(sum(float(v["price"]) - float(v["old_price"]) for v in chosen), 2)
    return [str(v["item_id"]) for v in chosen], difference
