"""Recipes of the front desk: look a customer up, notify them, hand over to a human."""

from __future__ import annotations

import re
from typing import Any

from switchboard.domains.retail.guardians import refund_promise
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


REFUNDED = ("returned", "cancelled")
"""Order statuses a refund reaches when its write succeeds (``issue_return_refund``, ``cancel_pending_order``).

A ``refund_amount`` alone is no refund: requesting a return reports the
amount it quoted, and the refund itself may still fail."""
COLLECTED = ("return received", "returned")
"""Order statuses after the courier brought the items back."""


def _message(turn: Turn) -> str:
    """A short message built from the facts the team gathered, claiming only what the records show was done.

    The order's status is the last one a successful write reported, so a
    refund is mentioned only when the refund (or the cancellation) went
    through, and a pickup only while the items are still with the
    customer. A colleague's words for the customer lead the message: the
    task's for a staff "let them know that …", the step's instruction for a
    workflow's "tell the customer …" (its compensations included), unless
    that instruction promises a refund the records do not show.
    """
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
    refunded = bool(c.get("refund_amount")) and status in REFUNDED
    relayed = _relayed(turn.task) if turn.intent == "notify" else _about(order, _instructed(turn.instruction, refunded))
    if relayed:
        lines.append(relayed)
    elif status in done:
        lines.append(done[status] + ".")
    else:
        lines.append(f"here is an update on your order {order}." if order else "here is an update.")
    if refunded:
        method = _method_words(c.get("payment_method_id"))
        lines.append(f"A refund of {money(c['refund_amount'])} goes to {method}.")
    if c.get("pickup_date") and status not in COLLECTED:
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


_WHO = r"(?:the\s+)?(?:customer|client|buyer|shopper|them|him|her)"
_TELL = re.compile(
    rf"^\s*(?:please\s+)?(?:(?:tell|inform|notify)\s+{_WHO}|let\s+{_WHO}\s+know)\b[,:]?\s*(?:that\s+)?",
    re.IGNORECASE,
)
"""A step's instruction that is a message for the customer: "Tell the customer (that) X"."""


def _instructed(instruction: str, refunded: bool) -> str | None:
    """What a "tell the customer …" instruction says, as said to the customer; None for any other instruction.

    Only that plain form is relayed: the supervisor's own instructions
    ("send Mia one message summing up what was done about …") describe a
    message, they are not one. Nor is one that promises a refund when no
    refund was issued: the facts speak instead.
    """
    told = _TELL.match(instruction)
    rest = re.sub(r",?\s+and that\b", ", and", instruction[told.end() :].strip()) if told else ""
    if not re.search(r"\w", rest):
        return None
    said = _to_customer(rest)
    return None if not refunded and refund_promise(said) is not None else said


def _about(order: Any, said: str | None) -> str | None:
    """``said``, naming the order it is about when it does not ("about your order #W1: your items arrived.")."""
    if not said or not order or str(order) in said:
        return said
    first = said[:1].lower() if said[1:2].islower() else said[:1]  # "Your items" reads on; "I" stays
    return f"about your order {order}: {first}{said[1:]}"


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
    return _to_customer(said)


def _to_customer(said: str) -> str:
    """A colleague's words about the customer as said to them: "their order" is "your order", one sentence."""
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
