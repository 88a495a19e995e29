"""Recipes of the front desk: look a customer up, notify them, hand over to a human."""

from __future__ import annotations

import re
from typing import Any

from switchboard.domains.retail.playbook_common import money
from switchboard.domains.retail.playbook_identify import Identity, find_user, identify
from switchboard.engine import Call, Handoff, Turn


def identify_customer(turn: Turn) -> Call | Handoff:
    """Find the customer, read their profile and the order the task is about (if any)."""
    found = identify(turn)
    if not isinstance(found, Identity):
        return found
    return Handoff("done", found.summary, found.facts, "Looked the customer up and read what the task needs.", 0.9)


def notify_customer(turn: Turn) -> Call | Handoff:
    """Send the customer a message summing up what was done."""
    user_id = find_user(turn)
    if not isinstance(user_id, str):
        return user_id
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
