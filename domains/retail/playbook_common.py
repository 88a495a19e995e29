"""Helpers shared by the retail recipes: reading records, choosing payment methods.

Recipes are re-run from the whole tool history on every turn, so "read the
order" is written as :func:`need`: the result if the call was made, else the
call to make.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.domains.retail.playbook_match import choose_variant, match_items, units
from switchboard.engine import Call, Handoff, Turn

PENDING = ("pending",)
DELIVERED = ("delivered",)
RETURN_OPEN = ("return requested", "exchange requested")

WANTED_STATUS: dict[str, tuple[str, ...]] = {
    "return": DELIVERED,
    "exchange": (*DELIVERED, *PENDING),  # a pending order turns the exchange into an item change
    "cancel": PENDING,
    "modify_items": (*PENDING, *DELIVERED),  # and a delivered one the other way round
    "change_payment": PENDING,
    "change_address": PENDING,
    "pickup": RETURN_OPEN,
    "tracking": ("processed", "pending", "delivered", "pending (item modified)"),
    "refund": ("return received",),
}
"""The order statuses each intent works on, best first (used to find the order)."""


def need(turn: Turn, tool: str, why: str, **args: Any) -> Any:
    """The result of ``tool(**args)`` if already called, else the :class:`Call` to make."""
    result = turn.result(tool, **args)
    return Call(tool, args, why) if result is None else result


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty dict."""
    return dict(value) if isinstance(value, Mapping) else {}


def user_id_of(value: Any) -> str | None:
    """A user id from a look-up result (a bare string, or an object holding one)."""
    if isinstance(value, str) and value.strip():
        return value.strip().strip('"')
    if isinstance(value, Mapping):
        found = value.get("user_id") or value.get("id")
        return str(found) if found else None
    return None


def order_id_of(turn: Turn) -> str | None:
    """The order the step is about: from the context, else the first one the task names."""
    order_id = turn.context.get("order_id")
    if order_id:
        return str(order_id)
    named = turn.slots.get("order_ids") or []
    return str(named[0]) if named else None


def original_payment(order: Mapping[str, Any]) -> str | None:
    """The payment method the order was paid with (its first payment)."""
    for entry in order.get("payment_history") or []:
        if entry.get("transaction_type") == "payment":
            return str(entry.get("payment_method_id"))
    return None


def item_ids_for(turn: Turn, order: Mapping[str, Any]) -> list[str]:
    """The order's items the task is about: the named ones, else all of them."""
    known = turn.context.get("item_ids")
    if known:
        return [str(i) for i in known]
    items = order.get("items") or []
    text = _item_text(turn)
    named = [] if turn.slots.get("all_items") else match_items(items, text)
    return units(items, named, text) if named else [str(i.get("item_id")) for i in items]


def new_variants(turn: Turn, order: Mapping[str, Any], item_ids: list[str]) -> list[dict[str, Any]] | Call | Handoff:
    """For each item being swapped, the available variant the task asks for (or the next read).

    Each variant comes with the swapped item's price as ``old_price``, so the
    price difference can be worked out.
    """
    target = str(turn.fact("target") or "")
    if not target:
        return Handoff.failed(
            "The task does not say which variant the customer wants instead (for example 'size L' or 'the red one')."
        )
    items = {str(i.get("item_id")): i for i in order.get("items") or []}
    chosen: list[dict[str, Any]] = []
    for item_id in item_ids:
        item = items.get(item_id)
        if item is None:
            return Handoff.failed(f"Item {item_id} is not in order {order.get('order_id')}.")
        product = need(
            turn, "get_product_details", f"Read the variants of {item.get('name')}.", product_id=item.get("product_id")
        )
        if isinstance(product, Call):
            return product
        variant = choose_variant(as_dict(product), item, target)
        if isinstance(variant, str):
            return Handoff.failed(
                f"I cannot swap {item.get('name')} (item {item_id}) for '{target}': {variant}",
                "A swap keeps every option the customer did not ask to change; nothing was changed.",
            )
        chosen.append({**variant, "old_price": item.get("price")})
    return chosen


def _item_text(turn: Turn) -> str:
    return str(turn.slots.get("item_text") or turn.task)


def names_of(order: Mapping[str, Any], item_ids: list[str]) -> str:
    """A readable list of item names with their options, for summaries."""
    by_id = {str(i.get("item_id")): i for i in order.get("items") or []}
    parts = []
    for item_id in dict.fromkeys(item_ids):
        item = by_id.get(item_id, {})
        options = ", ".join(str(v) for v in (item.get("options") or {}).values())
        count = item_ids.count(item_id)
        parts.append(f"{f'{count} x ' if count > 1 else ''}{item.get('name', 'item')} ({options}; item {item_id})")
    return "; ".join(parts) or "no items"


def payment_for(
    intent: str | None,
    choice: str | None,
    user: Mapping[str, Any],
    order: Mapping[str, Any],
    text: str,
) -> tuple[str | None, str]:
    """The payment method the task's money should move through, and a note on why.

    Returns and refunds may only go to the original method or a gift card;
    price differences may use any of the customer's methods.
    """
    methods = as_dict(user.get("payment_methods"))
    original = original_payment(order)
    current = _current_payment(order)
    wanted = _method_named(methods, choice, text, exclude=current if intent == "change_payment" else None)
    if intent == "change_payment":
        return (
            wanted,
            "the customer's chosen new payment method" if wanted else "no new method named",
        )
    if intent == "return":
        if choice == "gift_card" and wanted:
            return wanted, "refund to the customer's gift card, as asked"
        if choice in ("paypal", "credit_card") and wanted and wanted != original:
            return original, "a refund can only go to the original payment method or a gift card"
        return original, "refund to the original payment method"
    if wanted:
        return wanted, f"the customer asked to use their {choice}"
    return original, "the order's original payment method"


def _current_payment(order: Mapping[str, Any]) -> str | None:
    history = [e for e in order.get("payment_history") or [] if e.get("transaction_type") == "payment"]
    return str(history[-1].get("payment_method_id")) if history else None


def _method_named(methods: Mapping[str, Any], choice: str | None, text: str, exclude: str | None) -> str | None:
    candidates = [(k, as_dict(v)) for k, v in methods.items() if k != exclude]
    for key, method in candidates:
        last_four = str(method.get("last_four") or "")
        if last_four and last_four in text:
            return key
    if choice in (None, "original"):
        return None
    for key, method in candidates:
        if method.get("source") == choice:
            return key
    return None


def money(amount: Any) -> str:
    """An amount as dollars, e.g. ``$12.50``."""
    try:
        return f"${float(amount):,.2f}"
    except (TypeError, ValueError):
        return str(amount)
