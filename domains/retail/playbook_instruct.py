"""The supervisor's instructions for each retail skill.

An instruction must stand on its own: the agent sees it with the shared
context, but a real LLM agent should be able to act on the sentence alone.
So each one names the customer, the order, the items and the money route
with whatever the task and the earlier handoffs have established. The first
step of a plan goes to the agent that owns the request, so its instruction
starts by saying how to identify the customer and the order.

An instruction only ever carries values that are known. Agents read values
out of their instruction, so a stand-in such as "the reason the customer
gave" would be taken for the reason itself; when a value is unknown, the
instruction says so in words that hold no value, and the agent falls back
on the task.
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
        return f"the customer whose email is {s['email']}"
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
    """The items as a noun phrase; the agent reads which ones from the task when no ids are known.

    The task's own words are not quoted here: a quoted excerpt would be read
    again as if the supervisor had said it, cut off mid-sentence.
    """
    ids = brief.context.get("item_ids")
    if ids:
        return "items " + ", ".join(str(i) for i in ids)
    if brief.slots.get("all_items"):
        return "all items"
    return "the items the task names"


_PURPOSE = {  # no verbs of change here: the words after one are read as the wanted variant
    "return": "their delivered order with the items to return",
    "exchange": "their delivered order holding the items in question",
    "cancel": "their pending order to cancel",
    "modify_items": "their pending order holding the items in question",
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
    why = f" Reason: {reason}." if reason else " The task states no return reason."
    return _sentence(
        _first_identify(brief),
        f"request the return of {_items(brief)} of {_order(brief, 'delivered')} for "
        f"{_customer(brief)}; refund to {method}.{why}",
    )


def _swap(verb: str) -> Callable[[Brief], str]:
    def write(brief: Brief) -> str:
        new = brief.context.get("new_item_ids")
        target = _value(brief, "target")
        method = _method(brief, ("gift_card", "paypal", "credit_card"))
        settle = f"settle any price difference using {method}."
        what = f"for {_customer(brief)}, {verb} {_items(brief)} of {_order(brief)}"
        if new:
            rest = f"{what} for new items {', '.join(map(str, new))}; {settle}"
        elif target:
            rest = f"{what} for '{target}'; keep every option not named there as it is, and {settle}"
        else:
            rest = f"{what}. The task does not say which variant the customer wants: report that, changing nothing."
        return _sentence(_first_identify(brief), rest)

    return write


def _lookup(brief: Brief) -> str:
    if brief.context.get("order_id") and brief.context.get("item_ids"):
        target = _value(brief, "target")
        if not target:
            return (
                f"The task does not say which variant of {_items(brief)} of {_order(brief)} the customer "
                "wants: report that."
            )
        return (
            f"Find the available variant to exchange {_items(brief)} of {_order(brief)} for '{target}', "
            "keeping every other option as it is; report new_item_ids."
        )
    return f"Answer the product question from the catalogue: {brief.task.strip()}"


def _address(brief: Brief) -> str:
    address = _value(brief, "new_address")
    if not isinstance(address, dict):
        where = "; the task gives no complete new address (street, city, state, zip): report that"
    else:
        parts = (str(address[k]) for k in ("address1", "address2", "city", "state", "zip") if address.get(k))
        where = " to " + ", ".join(parts)
    if _value(brief, "address_scope") == "user":
        return _sentence(
            _first_identify(brief, needs_order=False), f"change the default address of {_customer(brief)}{where}."
        )
    return _sentence(_first_identify(brief), f"change the shipping address of {_order(brief, 'pending')}{where}.")


def _payment(brief: Brief) -> str:
    method = _value(brief, "payment_method_id")
    choice = brief.slots.get("refund_to")
    named = {"gift_card": "gift card", "paypal": "PayPal account", "credit_card": "credit card"}
    if method:
        to = f" to {method}"
    elif choice in named:
        to = f" to the customer's {named[choice]}"
    else:
        to = "; the task names no new payment method: report that"
    return _sentence(
        _first_identify(brief), f"switch the payment of {_order(brief, 'pending')} of {_customer(brief)}{to}."
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


def _record_reason(brief: Brief) -> str:
    reason = _value(brief, "reason")
    if reason:
        return f"Record the return reason for {_order(brief)}. Reason: {reason}."
    return (
        f"Record the return reason for {_order(brief)}, in the customer's own words from the task; "
        "if the task gives none, record nothing and say so."
    )


def _cancel(brief: Brief) -> str:
    reason = _value(brief, "cancel_reason")
    why = f", giving the reason '{reason}'" if reason else "; the task gives no cancellation reason"
    return _sentence(_first_identify(brief), f"cancel {_order(brief, 'pending')} of {_customer(brief)}{why}.")


def _simple(template: str, owner: bool = False) -> Callable[[Brief], str]:
    """A fixed sentence with the brief's values; an owner's starts by identifying the customer."""

    def write(brief: Brief) -> str:
        opening = _first_identify(brief) if owner else ""
        filled = template.format(order=_order(brief), customer=_customer(brief), task=brief.task.strip())
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
    "cancel_order": _cancel,
    "schedule_pickup": _simple("schedule a courier pickup for the returned items of {order}.", owner=True),
    "restock_returns": _simple("receive the returned items of {order} back into stock."),
    "issue_refund": _simple("issue the refund for the received return of {order}.", owner=True),
    "record_return_reason": _record_reason,
    "track_shipment": _simple("report the tracking numbers and delivery state of {order}.", owner=True),
    "return_trends": _simple("report the most common return reasons and trends. Request: {task}"),
    "human_handoff": _simple("transfer the customer to a human agent with a summary of: {task}"),
}
"""The instruction writer of each retail skill."""
