"""The supervisor's instructions for each retail skill.

An instruction must stand on its own: the agent sees it with the shared
context, but a real LLM agent should be able to act on the sentence alone.
So each one names the customer, the order, the items and the money route
with whatever the task and the earlier handoffs have established.
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


def _order(brief: Brief) -> str:
    if brief.context.get("order_id"):
        return str(brief.context["order_id"])
    named = brief.slots.get("order_ids") or []
    return str(named[0]) if named else "the order"


def _items(brief: Brief) -> str:
    ids = brief.context.get("item_ids")
    if ids:
        return "items " + ", ".join(str(i) for i in ids)
    if brief.slots.get("all_items"):
        return "all items"
    text = str(brief.slots.get("item_text") or "").strip()
    return f"the items described in the task ({text[:80]})" if text else "the items in question"


def identify(brief: Brief) -> str:
    """Instruction for identify_customer: how to find the customer and which order."""
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
    purpose = {
        "return": "their delivered order with the items to return",
        "exchange": "their delivered order with the items to exchange",
        "cancel": "their pending order to cancel",
        "modify_items": "their pending order with the items to change",
        "change_payment": "their pending order",
        "change_address": "the pending order to re-address, if any",
        "tracking": "the order to track",
        "pickup": "the order awaiting a pickup",
    }.get(brief.intent or "", "")
    order = f" and read order {named[0]}" if named else (f" and find {purpose}" if purpose else "")
    return f"Identify the customer {how}{order}. Report user_id, order_id, item_ids and payment_method_id."


def _return(brief: Brief) -> str:
    method = _value(brief, "payment_method_id") or "the original payment method"
    reason = _value(brief, "reason")
    why = f" Reason: {reason}." if reason else ""
    return (
        f"Request the return of {_items(brief)} of delivered order {_order(brief)} for "
        f"{_customer(brief)}; refund to {method}.{why}"
    )


def _swap(verb: str) -> Callable[[Brief], str]:
    def write(brief: Brief) -> str:
        new = brief.context.get("new_item_ids")
        into = f" for new items {', '.join(map(str, new))}" if new else ""
        method = _value(brief, "payment_method_id") or "the original payment method"
        return (
            f"{verb} {_items(brief)} of order {_order(brief)}{into} for {_customer(brief)}; "
            f"settle the price difference with {method}."
        )

    return write


def _lookup(brief: Brief) -> str:
    if brief.context.get("order_id") and brief.context.get("item_ids"):
        target = _value(brief, "target") or "the variant the customer asked for"
        return (
            f"Find an available variant matching '{target}' for {_items(brief)} of order "
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
    if _value(brief, "address_scope") == "user" or not (brief.context.get("order_id")):
        return f"Change the default address of {_customer(brief)} to {where}."
    return f"Change the shipping address of pending order {_order(brief)} to {where}."


def _payment(brief: Brief) -> str:
    method = _value(brief, "payment_method_id")
    choice = str(brief.slots.get("refund_to") or "the payment method the customer named")
    to = method or choice.replace("_", " ")
    return f"Switch the payment of pending order {_order(brief)} of {_customer(brief)} to {to}."


def _notify(brief: Brief) -> str:
    return (
        f"Send {_customer(brief)} one message summing up what was done about order "
        f"{_order(brief)}, using the facts in the context."
    )


def _simple(template: str) -> Callable[[Brief], str]:
    def write(brief: Brief) -> str:
        return template.format(
            order=_order(brief),
            customer=_customer(brief),
            reason=_value(brief, "reason") or "the reason the customer gave",
            cancel_reason=_value(brief, "cancel_reason") or "the customer gave none",
            task=brief.task.strip(),
        )

    return write


INSTRUCTIONS: dict[str, Callable[[Brief], str]] = {
    "identify_customer": identify,
    "process_return": _return,
    "process_exchange": _swap("Exchange"),
    "modify_items": _swap("Change"),
    "product_lookup": _lookup,
    "change_address": _address,
    "change_payment": _payment,
    "notify_customer": _notify,
    "cancel_order": _simple("Cancel pending order {order} of {customer} (reason: {cancel_reason})."),
    "schedule_pickup": _simple("Schedule a courier pickup for the returned items of order {order}."),
    "restock_returns": _simple("Receive the returned items of order {order} back into stock."),
    "issue_refund": _simple("Issue the refund for the received return of order {order}."),
    "record_return_reason": _simple("Record the return reason for order {order}: '{reason}'."),
    "track_shipment": _simple("Report the tracking numbers and delivery state of order {order}."),
    "return_trends": _simple("Report the most common return reasons and trends. Request: {task}"),
    "human_handoff": _simple("Transfer the customer to a human agent with a summary of: {task}"),
}
"""The instruction writer of each retail skill."""
