"""Recipes of the stock room, the shipping desk and the insight desk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.domains.retail.playbook_common import RETURN_OPEN, as_dict, need, new_variants, order_id_of
from switchboard.domains.retail.playbook_match import find_products, variants_matching
from switchboard.engine import Call, Handoff, Turn

MAX_PRODUCTS = 3
"""Products a product question reads at most."""


def product_lookup(turn: Turn) -> Call | Handoff:
    """Resolve the new variants of an exchange, or answer a product question."""
    if turn.context.get("order_id") and turn.context.get("item_ids"):
        return _resolve_variants(turn)
    return _answer_question(turn)


def _resolve_variants(turn: Turn) -> Call | Handoff:
    order_id = str(turn.context["order_id"])
    order = need(turn, "get_order_details", "Read the items being swapped.", order_id=order_id)
    if isinstance(order, Call):
        return order
    chosen = new_variants(turn, as_dict(order), [str(i) for i in turn.context["item_ids"]])
    return chosen if isinstance(chosen, Call | Handoff) else _variants_found(chosen)


def _variants_found(chosen: list[dict[str, Any]]) -> Handoff:
    difference = round(sum(float(v["price"]) - float(v["old_price"]) for v in chosen), 2)
    described = "; ".join(
        f"{v['item_id']} ({', '.join(str(x) for x in v.get('options', {}).values())})" for v in chosen
    )
    return Handoff(
        "done",
        f"Found available variants: {described}; price difference {difference:+.2f}.",
        {
            "new_item_ids": [str(v["item_id"]) for v in chosen],
            "new_items": [{"item_id": v["item_id"], "options": v.get("options"), "price": v["price"]} for v in chosen],
            "price_difference": difference,
        },
        "Each is an available variant of the same product with the options asked for.",
    )


def _answer_question(turn: Turn) -> Call | Handoff:
    catalogue = need(turn, "list_all_product_types", "See which products exist.")
    if isinstance(catalogue, Call):
        return catalogue
    products = find_products(as_dict(catalogue), turn.task)[:MAX_PRODUCTS]
    if not products:
        names = ", ".join(sorted(as_dict(catalogue))[:15])
        return Handoff.failed(f"I could not tell which product the task is about. We sell: {names}…")
    answers, facts = [], []
    for name, product_id in products:
        product = need(turn, "get_product_details", f"Read the variants of {name}.", product_id=product_id)
        if isinstance(product, Call):
            return product
        answer, fact = _describe(name, product_id, as_dict(product), turn.task)
        answers.append(answer)
        facts.append(fact)
    return Handoff(
        "done",
        " ".join(answers),
        {"products": facts},
        "Read the catalogue and the variants matching the options asked about.",
        0.85,
    )


def _describe(name: str, product_id: str, product: Mapping[str, Any], text: str) -> tuple[str, dict]:
    matching = variants_matching(product, text)
    available = [v for v in matching if v.get("available")]
    shown = [
        f"{', '.join(str(x) for x in v.get('options', {}).values())} at ${float(v['price']):.2f}" for v in available[:5]
    ]
    answer = f"{name}: {len(available)} of {len(matching)} matching variants available"
    answer += f" ({'; '.join(shown)})." if shown else "."
    fact = {
        "product_id": product_id,
        "name": name,
        "available_item_ids": [str(v.get("item_id")) for v in available[:10]],
    }
    return answer, fact


def restock_returns(turn: Turn) -> Call | Handoff:
    """Receive returned items back into stock."""
    order_id = order_id_of(turn)
    if not order_id:
        return Handoff.failed("No order id is known, so I cannot tell which return arrived.")
    result = turn.result("receive_returned_items", order_id=order_id)
    if result is None:
        return Call(
            "receive_returned_items",
            {"order_id": order_id},
            "Put the returned items back in stock.",
        )
    after = as_dict(result)
    pickup = as_dict(after.get("return_pickup"))
    return Handoff(
        "done",
        f"Received the returned items of {order_id} back into stock.",
        {
            "order_status": after.get("status", "return received"),
            "restocked_item_ids": pickup.get("restocked_item_ids") or after.get("return_items") or [],
        },
        "The courier brought the items back.",
    )


def track_shipment(turn: Turn) -> Call | Handoff:
    """Report the tracking numbers and delivery state of an order's shipments."""
    order_id = order_id_of(turn)
    if not order_id:
        return Handoff.failed("No order id is known; identify the customer's order first.")
    order = need(turn, "get_order_details", f"Read the shipments of {order_id}.", order_id=order_id)
    if isinstance(order, Call):
        return order
    order = as_dict(order)
    tracking = [t for f in order.get("fulfillments") or [] for t in f.get("tracking_id") or []]
    status = order.get("status")
    shipped = f"tracking number(s) {', '.join(tracking)}" if tracking else "no shipment yet"
    return Handoff(
        "done",
        f"Order {order_id} is {status}: {shipped}.",
        {"order_status": status, "tracking_ids": tracking},
        "Read the order's fulfillments.",
        0.95,
    )


def change_address(turn: Turn) -> Call | Handoff:
    """Change a pending order's shipping address, or the customer's default address."""
    address = as_dict(turn.fact("new_address"))
    if not address:
        return Handoff.failed("The task gives no complete new address (street, city, two-letter state, zip).")
    fields = {k: str(address.get(k, "")) for k in ("address1", "address2", "city", "state", "country", "zip")}
    order_id = order_id_of(turn)
    if turn.fact("address_scope") == "user" or not order_id:
        user_id = turn.context.get("user_id")
        if not user_id:
            return Handoff.failed("No customer is identified, so I cannot change their address.")
        tool, args = "modify_user_address", {"user_id": user_id, **fields}
    else:
        order = need(turn, "get_order_details", f"Check that {order_id} is pending.", order_id=order_id)
        if isinstance(order, Call):
            return order
        if as_dict(order).get("status") != "pending":
            return Handoff.failed(
                f"Order {order_id} is '{as_dict(order).get('status')}'; only a pending order's address can change."
            )
        tool, args = "modify_pending_order_address", {"order_id": order_id, **fields}
    if turn.result(tool) is None:
        return Call(tool, args, "Write the new address.")
    where = "the default address" if tool == "modify_user_address" else f"the address of {order_id}"
    return Handoff(
        "done",
        f"Changed {where} to {fields['address1']}, {fields['city']} {fields['state']} {fields['zip']}.",
        {"address_changed": True, "new_address": fields},
        "The customer gave a complete address.",
    )


def schedule_pickup(turn: Turn) -> Call | Handoff:
    """Schedule a courier pickup for items being returned or exchanged."""
    order_id = order_id_of(turn)
    if not order_id:
        return Handoff.failed("No order id is known, so I cannot schedule a pickup.")
    order = need(turn, "get_order_details", f"Check that {order_id} awaits a pickup.", order_id=order_id)
    if isinstance(order, Call):
        return order
    status = as_dict(order).get("status")
    if status not in RETURN_OPEN:
        return Handoff.failed(
            f"Order {order_id} is '{status}'; a pickup needs a return or exchange to be requested first."
        )
    args: dict[str, Any] = {"order_id": order_id}
    if turn.fact("pickup_date"):
        args["pickup_date"] = turn.fact("pickup_date")
    result = turn.result("schedule_return_pickup", order_id=order_id)
    if result is None:
        return Call("schedule_return_pickup", args, "Book the courier.")
    pickup = as_dict(as_dict(result).get("return_pickup"))
    return Handoff(
        "done",
        f"Scheduled a pickup for {order_id} on {pickup.get('pickup_date') or 'the next working day'}.",
        {"pickup_date": pickup.get("pickup_date"), "pickup_tracking_id": pickup.get("tracking_id")},
        "The return was requested, so the items can be collected.",
    )


def record_return_reason(turn: Turn) -> Call | Handoff:
    """Record why the customer sent the items back."""
    order_id = order_id_of(turn)
    if not order_id:
        return Handoff.failed("No order id is known, so I cannot record a return reason.")
    reason = turn.fact("reason")
    if not reason:
        return _no_reason(turn, order_id)
    result = turn.result("record_return_reason", order_id=order_id)
    if result is None:
        return Call("record_return_reason", {"order_id": order_id, "reason": reason}, "Log the reason.")
    category = as_dict(result).get("category")
    return Handoff(
        "done",
        f"Recorded the return reason for {order_id}: '{reason}'" + (f" (category {category})." if category else "."),
        {"return_reason_recorded": reason, **({"reason_category": category} if category else {})},
        "Reasons feed the return trends.",
    )


def _no_reason(turn: Turn, order_id: str) -> Handoff:
    """Nothing to record: a stand-in ("no reason given") would count as a reason in the trends.

    Recording the reason was the request itself: that fails. As one step of
    a return, the return stands without it, and the summary says so.
    """
    missing = f"The task gives no reason for returning the items of {order_id}, so I recorded none."
    if turn.intent == "record_reason":
        return Handoff.failed(f"{missing} What reason did the customer give?")
    return Handoff(
        "done",
        f"{missing} Ask the customer if the reason matters.",
        {"return_reason_recorded": None},
        "A reason is only worth recording in the customer's own words.",
        0.7,
    )


def return_trends(turn: Turn) -> Call | Handoff:
    """Report the return reasons recorded so far."""
    stats = need(turn, "get_return_reason_stats", "Read the return reason statistics.")
    if isinstance(stats, Call):
        return stats
    stats = as_dict(stats)
    categories = stats.get("categories") or {}
    if isinstance(categories, list):
        pairs = [(str(c.get("category", c.get("name"))), c.get("count", 0)) for c in categories]
    else:
        pairs = list(as_dict(categories).items())
    pairs.sort(key=lambda p: (-float(p[1] or 0), p[0]))
    top = ", ".join(f"{name} ({count})" for name, count in pairs[:5]) or "none recorded yet"
    return Handoff(
        "done",
        f"{stats.get('total', 0)} return reason(s) recorded; most common: {top}.",
        {"return_reason_stats": {"total": stats.get("total", 0), "top": pairs[:5]}},
        "Read the recorded reasons.",
        0.95,
    )
