"""The supervisor's instructions for each retail skill.

An instruction must stand on its own: the agent sees it with the shared
context, but a real LLM agent should be able to act on the sentence alone.
So each one names the customer, the order, the items and the money route
with whatever the task and the earlier handoffs have established. The first
step of a plan goes to the agent that owns the request, so its instruction
starts by saying how to identify the customer and the order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchboard.engine import Brief


def _value(brief: Brief, key: str) -> Any:
    value = brief.context.get(key)
    return value if value not in (None, "", []) else brief.slots.get(key)


def _customer(brief: Brief) -> str:
    c, s = brief.context, brief.slots
    if c.get("user_id"):
        return f"customer {c['user_id']}"
    if s.get("email"):
        return f"the customer with email {s['email']}"
    if s.get("first_name") and s.get("zip"):
        return f"the customer {s['first_name']} {s.get('last_name', '')} (zip {s['zip']})"
    if s.get("order_ids"):
        return f"the customer who placed order {s['order_ids'][0]}"
    return "the customer"


def _order(brief: Brief, kind: str = "") -> str:
    """The order as a noun phrase: "pending order #W1", or "the pending order" before it is found."""
    named = brief.slots.get("order_ids") or []
    order_id = brief.context.get("order_id") or (named[0] if named else None)
    kind = f"{kind} " if kind else ""
    return f"{kind}order {order_id}" if order_id else f"the {kind}order"


def _method(brief: Brief, allowed: tuple[str, ...]) -> str:
    """The payment method for money moving: the known id, else the one the customer named, if allowed."""
    known = brief.context.get("payment_method_id")
    if known:
        return str(known)
    choice = brief.slots.get("refund_to")
    words = {"gift_card": "gift card", "paypal": "PayPal account", "credit_card": "credit card"}
    return f"the customer's {words[choice]}" if choice in allowed else "the original payment method"


def _items(brief: Brief) -> str:
    ids = brief.context.get("item_ids")
    if ids:
        return "items " + ", ".join(str(i) for i in ids)
    if brief.slots.get("all_items"):
        return "all items"
    text = str(brief.slots.get("item_text") or "").strip()
    return f"the items described in the task ({text[:80]})" if text else "the items in question"


_PURPOSE = {
    "return": "their delivered order with the items to return",
    "exchange": "their delivered order with the items to exchange",
    "cancel": "their pending order to cancel",
    "modify_items": "their pending order with the items to change",
    "change_payment": "their pending order",
    "change_address": "the pending order to re-address, if any",
    "tracking": "the order to track",
    "pickup": "the order awaiting a pickup",
    "refund": "the order whose return was received",
}


def _lookup_clause(brief: Brief) -> str:
    """How to find the customer and the order, e.g. "by email x and read order #W1"."""
    s = brief.slots
    if s.get("email"):
        how = f"by email {s['email']}"
    elif s.get("first_name") and s.get("last_name") and s.get("zip"):
        how = f"by name {s['first_name']} {s['last_name']} and zip {s['zip']}"
    elif s.get("order_ids"):
        how = f"as the owner of order {s['order_ids'][0]}"
    else:
        how = "(the task gives no email, name with zip, or order id: report that if so)"
    named = s.get("order_ids") or []
    purpose = _PURPOSE.get(brief.intent or "", "")
    order = f" and read order {named[0]}" if named else (f" and find {purpose}" if purpose else "")
    return f"{how}{order}"


def _first_identify(brief: Brief, needs_order: bool = True) -> str:
    """The opening of an owner's instruction: identify the customer first, unless already known."""
    known = brief.context.get("user_id") and (brief.context.get("order_id") or not needs_order)
    return "" if known else f"Identify the customer {_lookup_clause(brief)}; then "


def _sentence(opening: str, rest: str) -> str:
    text = opening + rest
    return text[:1].upper() + text[1:]


def identify(brief: Brief) -> str:
    """Instruction for identify_customer: how to find the customer and which order."""
    return f"Identify the customer {_lookup_clause(brief)}. Report user_id, order_id, item_ids and payment_method_id."


def _return(brief: Brief) -> str:
    method = _method(brief, ("gift_card",))  # refunds go to the original method or a gift card
    reason = _value(brief, "reason")
    why = f" Reason: {reason}." if reason else ""
    return _sentence(
        _first_identify(brief),
        f"request the return of {_items(brief)} of {_order(brief, 'delivered')} for "
        f"{_customer(brief)}; refund to {method}.{why}",
    )


def _swap(verb: str) -> Callable[[Brief], str]:
    def write(brief: Brief) -> str:
        new = brief.context.get("new_item_ids")
        target = _value(brief, "target")
        if new:
            into = f" for new items {', '.join(map(str, new))}"
        elif target:
            into = f" for the available variant of the same product matching '{target}' (read the product)"
        else:
            into = " for the variant the customer asked for (read the product)"
        method = _method(brief, ("gift_card", "paypal", "credit_card"))
        return _sentence(
            _first_identify(brief),
            f"{verb} {_items(brief)} of {_order(brief)}{into} for {_customer(brief)}; "
            f"settle the price difference with {method}.",
        )

    return write


def _lookup(brief: Brief) -> str:
    if brief.context.get("order_id") and brief.context.get("item_ids"):
        target = _value(brief, "target") or "the variant the customer asked for"
        return (
            f"Find an available variant matching '{target}' for {_items(brief)} of "
            f"{_order(brief)} (same product) and report new_item_ids."
        )
    return f"Answer the product question from the catalogue: {brief.task.strip()}"


def _address(brief: Brief) -> str:
    address = _value(brief, "new_address")
    where = (
        ", ".join(str(address[k]) for k in ("address1", "address2", "city", "state", "zip") if address.get(k))
        if isinstance(address, dict)
        else "the new address given in the task"
    )
    if _value(brief, "address_scope") == "user":
        return _sentence(
            _first_identify(brief, needs_order=False), f"change the default address of {_customer(brief)} to {where}."
        )
    return _sentence(_first_identify(brief), f"change the shipping address of {_order(brief, 'pending')} to {where}.")


def _payment(brief: Brief) -> str:
    method = _value(brief, "payment_method_id")
    choice = str(brief.slots.get("refund_to") or "the payment method the customer named")
    to = method or choice.replace("_", " ")
    return _sentence(
        _first_identify(brief), f"switch the payment of {_order(brief, 'pending')} of {_customer(brief)} to {to}."
    )


def _notify(brief: Brief) -> str:
    if brief.intent == "notify":
        return _sentence(
            _first_identify(brief, needs_order=False), f"send {_customer(brief)} this message: {brief.task.strip()}"
        )
    return _sentence(
        _first_identify(brief, needs_order=False),
        f"send {_customer(brief)} one message summing up what was done about "
        f"{_order(brief)}, using the facts in the context.",
    )


def _simple(template: str, owner: bool = False) -> Callable[[Brief], str]:
    """A fixed sentence with the brief's values; an owner's starts by identifying the customer."""

    def write(brief: Brief) -> str:
        opening = _first_identify(brief) if owner else ""
        filled = template.format(
            order=_order(brief),
            pending_order=_order(brief, "pending"),
            customer=_customer(brief),
            reason=_value(brief, "reason") or "the reason the customer gave",
            cancel_reason=_value(brief, "cancel_reason") or "the customer gave none",
            task=brief.task.strip(),
        )
        return _sentence(opening, filled)

    return write


INSTRUCTIONS: dict[str, Callable[[Brief], str]] = {
    "identify_customer": identify,
    "process_return": _return,
    "process_exchange": _swap("exchange"),
    "modify_items": _swap("change"),
    "product_lookup": _lookup,
    "change_address": _address,
    "change_payment": _payment,
    "notify_customer": _notify,
    "cancel_order": _simple("cancel {pending_order} of {customer} (reason: {cancel_reason}).", owner=True),
    "schedule_pickup": _simple("schedule a courier pickup for the returned items of {order}.", owner=True),
    "restock_returns": _simple("receive the returned items of {order} back into stock."),
    "issue_refund": _simple("issue the refund for the received return of {order}.", owner=True),
    "record_return_reason": _simple("record the return reason for {order}: '{reason}'."),
    "track_shipment": _simple("report the tracking numbers and delivery state of {order}.", owner=True),
    "return_trends": _simple("report the most common return reasons and trends. Request: {task}"),
    "human_handoff": _simple("transfer the customer to a human agent with a summary of: {task}"),
}
"""The instruction writer of each retail skill."""
