"""Recipes of the front desk: identify the customer, notify them, hand over to a human."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from domains.retail.playbook_common import (
    WANTED_STATUS,
    as_dict,
    item_ids_for,
    money,
    names_of,
    need,
    payment_for,
    user_id_of,
)
from domains.retail.playbook_match import match_items
from switchboard.engine import Call, Handoff, Turn

MAX_ORDERS_READ = 10
"""Orders identify_customer reads at most when looking for the one the task means."""
NO_ORDER_INTENTS = frozenset({"product_question", "return_trends", "human", "account", "notify"})


def _find_user(turn: Turn) -> str | Call | Handoff:
    """The user id, or the look-up call to make, or a failed handoff."""
    if turn.context.get("user_id"):
        return str(turn.context["user_id"])
    slots = turn.slots
    if slots.get("email"):
        found = need(turn, "find_user_id_by_email", "Look the customer up by email.", email=slots["email"])
        return found if isinstance(found, Call) else _checked_id(found, f"email {slots['email']}")
    if slots.get("first_name") and slots.get("last_name") and slots.get("zip"):
        args = {k: slots[k] for k in ("first_name", "last_name", "zip")}
        found = need(turn, "find_user_id_by_name_zip", "Look the customer up by name and zip.", **args)
        who = f"{slots['first_name']} {slots['last_name']} ({slots['zip']})"
        return found if isinstance(found, Call) else _checked_id(found, who)
    if slots.get("order_ids"):
        order_id = slots["order_ids"][0]
        order = need(turn, "get_order_details", "Find the customer through their order.", order_id=order_id)
        return order if isinstance(order, Call) else _checked_id(as_dict(order).get("user_id"), order_id)
    return Handoff.failed(
        "I cannot identify the customer: the task gives no email, no name with zip code, and no "
        "order id. Please ask the customer for their email address.",
        confidence=0.95,
    )


def _checked_id(value: Any, source: str) -> str | Handoff:
    user_id = user_id_of(value)
    if user_id:
        return user_id
    return Handoff.failed(f"No customer was found for {source}.")


def identify_customer(turn: Turn) -> Call | Handoff:
    """Find the customer, read their profile and the order the task is about."""
    user_id = _find_user(turn)
    if not isinstance(user_id, str):
        return user_id
    user = need(turn, "get_user_details", "Read the customer's profile and orders.", user_id=user_id)
    if isinstance(user, Call):
        return user
    user = as_dict(user)
    order = _find_order(turn, user_id, user)
    if isinstance(order, Call | Handoff):
        return order
    return _identified(turn, user_id, user, order)


def _find_order(turn: Turn, user_id: str, user: Mapping[str, Any]) -> dict[str, Any] | Call | Handoff | None:
    """The order the task is about (None if it needs none), or the next read."""
    orders = [str(o) for o in user.get("orders") or []]
    named = [str(o) for o in turn.slots.get("order_ids") or []]
    if turn.context.get("order_id"):
        named = [str(turn.context["order_id"])]
    for order_id in named:
        if order_id not in orders:
            return Handoff.failed(f"Order {order_id} does not belong to customer {user_id}.")
        found = need(turn, "get_order_details", f"Read order {order_id}.", order_id=order_id)
        return found if isinstance(found, Call) else as_dict(found)
    user_scope = turn.intent == "change_address" and turn.slots.get("address_scope") == "user"
    if turn.intent in NO_ORDER_INTENTS or user_scope or not orders:
        return None
    return _scan_orders(turn, orders)


def _scan_orders(turn: Turn, orders: list[str]) -> dict[str, Any] | Call | Handoff | None:
    """Read the customer's orders one by one until one fits the task."""
    wanted = WANTED_STATUS.get(turn.intent or "", ())
    text = str(turn.slots.get("item_text") or turn.task)
    read: list[dict[str, Any]] = []
    for order_id in orders[:MAX_ORDERS_READ]:
        order = turn.result("get_order_details", order_id=order_id)
        if order is None:
            return Call("get_order_details", {"order_id": order_id}, f"Look for the order: read {order_id}.")
        order = as_dict(order)
        read.append(order)
        if (not wanted or order.get("status") in wanted) and match_items(order.get("items") or [], text):
            return order
    return _best_unnamed(turn, read, wanted, text)


def _best_unnamed(
    turn: Turn, read: list[dict[str, Any]], wanted: tuple[str, ...], text: str
) -> dict[str, Any] | Handoff:
    """No order fits both items and status: explain, or settle for the status alone."""
    mentioned = [o for o in read if match_items(o.get("items") or [], text)]
    if mentioned and wanted:
        o = mentioned[0]
        return Handoff.failed(
            f"The items the task mentions are in order {o.get('order_id')}, whose status is "
            f"'{o.get('status')}', but this request needs an order that is {' or '.join(wanted)}."
        )
    fitting = sorted(
        (o for o in read if not wanted or o.get("status") in wanted),
        key=lambda o: wanted.index(o["status"]) if o.get("status") in wanted else 0,
    )
    if fitting:
        return fitting[0]
    need_text = " or ".join(wanted) if wanted else "any"
    return Handoff.failed(f"None of the customer's {len(read)} orders fits the task (status {need_text}).")


def _identified(turn: Turn, user_id: str, user: Mapping[str, Any], order: Mapping[str, Any] | None) -> Handoff:
    name = as_dict(user.get("name"))
    full_name = f"{name.get('first_name', '')} {name.get('last_name', '')}".strip()
    facts: dict[str, Any] = {"user_id": user_id, "customer_name": full_name}
    if user.get("email"):
        facts["email"] = user["email"]
    summary = f"Identified {full_name or user_id} ({user_id})."
    if order is not None:
        facts.update(_order_facts(turn, user, order))
        summary += (
            f" Order {order.get('order_id')} is {order.get('status')}; the task concerns "
            f"{names_of(order, facts['item_ids'])}."
        )
    else:
        summary += f" Orders: {', '.join(str(o) for o in user.get('orders') or []) or 'none'}."
    for key in ("reason", "cancel_reason", "new_address", "address_scope", "target", "pickup_date"):
        if turn.slots.get(key):
            facts[key] = turn.slots[key]
    return Handoff("done", summary, facts, "Looked the customer up and read what the task needs.", 0.9)


def _order_facts(turn: Turn, user: Mapping[str, Any], order: Mapping[str, Any]) -> dict[str, Any]:
    item_ids = item_ids_for(turn, order)
    facts: dict[str, Any] = {
        "order_id": order.get("order_id"),
        "order_status": order.get("status"),
        "item_ids": item_ids,
    }
    method, why = payment_for(turn.intent, turn.slots.get("refund_to"), user, order, turn.task)
    if method:
        facts["payment_method_id"] = method
        facts["payment_note"] = why
    return facts


def notify_customer(turn: Turn) -> Call | Handoff:
    """Send the customer a message summing up what was done."""
    user_id = turn.context.get("user_id")
    if not user_id:
        found = _find_user(turn)
        if not isinstance(found, str):
            return found
        user_id = found
    sent = turn.result("notify_customer", user_id=user_id)
    if sent is None:
        return Call("notify_customer", {"user_id": user_id, "message": _message(turn)}, "Tell the customer.")
    return Handoff(
        "done",
        f"Sent customer {user_id} a summary of what was done.",
        {"customer_notified": True},
        "The customer should hear the outcome in one message.",
        0.95,
    )


def _message(turn: Turn) -> str:
    """A short message built from the facts the team gathered."""
    c = turn.context
    name = str(c.get("customer_name") or "").split(" ")[0]
    lines = [f"Hello {name}," if name else "Hello,"]
    order = c.get("order_id")
    done = {
        "cancelled": f"your order {order} has been cancelled",
        "return requested": f"the return of your items from order {order} has been requested",
        "return received": f"we received the items you returned from order {order}",
        "returned": f"your return for order {order} is complete",
        "exchange requested": f"the exchange of your items from order {order} has been requested",
        "pending (item modified)": f"the items of your order {order} have been changed",
    }
    status = str(c.get("order_status") or "")
    relayed = _relayed(turn.task) if turn.intent == "notify" else None
    if relayed:
        lines.append(relayed)
    elif status in done:
        lines.append(done[status] + ".")
    else:
        lines.append(f"here is an update on your order {order}." if order else "here is an update.")
    if c.get("refund_amount"):
        method = _method_words(c.get("payment_method_id"))
        lines.append(f"A refund of {money(c['refund_amount'])} goes to {method}.")
    if c.get("pickup_date"):
        lines.append(f"A courier will collect the items on {c['pickup_date']}.")
    if c.get("price_difference") not in (None, 0, 0.0):
        lines.append(f"The price difference is {money(c['price_difference'])}.")
    if c.get("address_changed"):
        lines.append("Your address has been updated.")
    if c.get("payment_changed"):
        lines.append(f"The order is now paid with {_method_words(c.get('payment_method_id'))}.")
    if c.get("tracking_ids"):
        lines.append(f"Tracking: {', '.join(map(str, c['tracking_ids']))}.")
    lines.append("Thank you for shopping with us.")
    return " ".join(lines)


def _method_words(method_id: Any) -> str:
    """A payment method id as a customer would say it ("your gift card")."""
    for prefix, words in (("gift_card", "gift card"), ("credit_card", "credit card")):
        if str(method_id).startswith(prefix):
            return f"your {words}"
    return "your PayPal account" if str(method_id).startswith("paypal") else "your payment method"


def _relayed(text: str) -> str | None:
    """A colleague's "let the customer know that X" as "X" said to the customer, if it is one."""
    said, found = re.subn(
        r"^\s*(?:please\s+)?(?:let|tell|notify|inform|message|email|write to|send)\b.*?"
        r"\b(?:know|that|about|saying)\b[,:]?\s*(?:that\s+)?",
        "",
        text.strip(),
        count=1,
        flags=re.IGNORECASE,
    )
    if not found or not said:
        return None
    swaps = (
        ("their", "your"),
        ("they're", "you're"),
        ("they", "you"),
        ("them", "you"),
        ("his", "your"),
        ("her", "your"),
    )
    for theirs, yours in swaps:
        said = re.sub(rf"\b{theirs}\b", yours, said, flags=re.IGNORECASE)
    said = said[:1].upper() + said[1:]
    return said if said.endswith((".", "!", "?")) else said + "."


def human_handoff(turn: Turn) -> Call | Handoff:
    """Transfer the conversation to a human agent with a summary."""
    if not turn.results("transfer_to_human_agents"):
        facts = ", ".join(f"{k}={v}" for k, v in turn.context.items() if not isinstance(v, dict))
        summary = f"The customer asks: {turn.task.strip()}" + (f" Known: {facts}." if facts else "")
        return Call("transfer_to_human_agents", {"summary": summary}, "Hand the customer to a human.")
    return Handoff(
        "done",
        "Transferred the conversation to a human agent.",
        {"transferred_to_human": True},
        "The customer asked for a person.",
        0.95,
    )
