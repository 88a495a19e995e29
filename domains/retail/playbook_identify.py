"""Identifying the customer and the order a task is about: a sub-recipe every owner runs first.

The agent that owns a request (finance for a return, logistics for a
tracking question) identifies the customer itself, so the supervisor's first
hop goes straight to the owner. :func:`identify` is that shared first part:
email, else name and zip code, else the owner of a named order; then the
named order, or a scan of the customer's orders for the one whose items and
status fit the task. :func:`owner_first` wraps a desk recipe so that it runs
:func:`identify` whenever ``user_id``/``order_id`` are not yet in the context,
and hands the facts it found on to later steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from switchboard.domains.retail.playbook_common import (
    WANTED_STATUS,
    as_dict,
    item_ids_for,
    names_of,
    need,
    payment_for,
    user_id_of,
)
from switchboard.domains.retail.playbook_match import match_items
from switchboard.engine import ASK_CUSTOMER, Call, Handoff, Recipe, Turn

MAX_ORDERS_READ = 10
"""Orders a scan reads at most when looking for the one the task means."""
NO_ORDER_INTENTS = frozenset({"product_question", "return_trends", "human", "account", "notify"})
"""Intents that are about the customer, not one of their orders (unless the task names one)."""
SKILL_PURPOSE = {
    "process_return": "return",
    "process_exchange": "exchange",
    "modify_items": "modify_items",
    "cancel_order": "cancel",
    "change_payment": "change_payment",
    "change_address": "change_address",
    "track_shipment": "tracking",
    "schedule_pickup": "pickup",
    "issue_refund": "refund",
}
"""The kind of request each owner skill serves: which orders it looks for, where money goes."""
SLOT_FACTS = ("reason", "cancel_reason", "new_address", "address_scope", "target", "pickup_date")
"""Values of the task that later steps need, handed on with the identity."""


@dataclass(frozen=True)
class Identity:
    """Who the task is about and which of their orders, as facts for the context."""

    facts: dict[str, Any]
    """``user_id``, ``customer_name``, and when an order was found ``order_id``,
    ``order_status``, ``found_status``, ``item_ids``, ``payment_method_id``..."""
    summary: str
    """One sentence on who and what was found."""
    order: dict[str, Any] | None = field(default=None, compare=False)
    """The order the task is about, as read; None when it needs none."""


def purpose(turn: Turn) -> str | None:
    """What the step is for: the owner skill's kind of request, else the task's intent.

    The skill wins: whoever chose it (this engine or a real LLM supervisor)
    decided what the step does, whatever the task's words look most like.
    """
    return SKILL_PURPOSE.get(turn.skill, turn.intent)


def owner_first(recipe: Recipe, needs: tuple[str, ...] = ("user_id", "order_id")) -> Recipe:
    """``recipe``, preceded by :func:`identify` when the context lacks any of ``needs``.

    The facts found are put in the recipe's context, and handed on with its
    handoff (a done one, and a failed one too: the supervisor may see from the
    order's status that another plan fits).
    """

    def run(turn: Turn) -> Call | Handoff:
        if all(turn.context.get(key) for key in needs):
            return recipe(turn)
        found = identify(turn)
        if not isinstance(found, Identity):
            return found
        move = recipe(replace(turn, context={**found.facts, **turn.context}))
        if isinstance(move, Call):
            return move
        facts = {**found.facts, **move.facts}
        summary = f"{found.summary} {move.summary}" if move.status == "done" else move.summary
        return replace(move, facts=facts, summary=summary)

    run.__name__ = run.__qualname__ = getattr(recipe, "__name__", "recipe")
    run.__doc__ = recipe.__doc__
    return run


def identify(turn: Turn) -> Identity | Call | Handoff:
    """The customer and order the task is about, or the next read, or why they cannot be found."""
    user_id = find_user(turn)
    if not isinstance(user_id, str):
        return user_id
    user = need(turn, "get_user_details", "Read the customer's profile and orders.", user_id=user_id)
    if isinstance(user, Call):
        return user
    user = as_dict(user)
    order = _find_order(turn, user_id, user)
    if isinstance(order, Call | Handoff):
        return order
    return _identity(turn, user_id, user, order)


def find_user(turn: Turn) -> str | Call | Handoff:
    """The user id: from the context, else by email, by name and zip, or through a named order."""
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
    order_id = turn.context.get("order_id") or (slots.get("order_ids") or [None])[0]
    if order_id:
        order = need(turn, "get_order_details", "Find the customer through their order.", order_id=order_id)
        return order if isinstance(order, Call) else _checked_id(as_dict(order).get("user_id"), str(order_id))
    if turn.can_ask and not turn.replies():
        question = "Could you tell me the email address on your account, or your name and zip code?"
        return Call(ASK_CUSTOMER, {"question": question}, "Nothing in the task identifies the customer: ask them.")
    if turn.replies():
        return Handoff.failed(
            f"I cannot identify the customer: their answer ({turn.replies()[-1]!r}) gives no email, no name "
            "with zip code, and no order id.",
            confidence=0.95,
        )
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
    why = purpose(turn)
    user_scope = why == "change_address" and turn.slots.get("address_scope") == "user"
    if why in NO_ORDER_INTENTS or user_scope or not orders:
        return None
    return _scan_orders(turn, orders, WANTED_STATUS.get(why or "", ()))


def _scan_orders(turn: Turn, orders: list[str], wanted: tuple[str, ...]) -> dict[str, Any] | Call | Handoff:
    """Read the customer's orders one by one until one fits the task."""
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
    return _best_unnamed(read, wanted, text, turn)


def _best_unnamed(
    read: list[dict[str, Any]], wanted: tuple[str, ...], text: str, turn: Turn
) -> dict[str, Any] | Call | Handoff:
    """No order fits both items and status: explain, ask which one, or settle for the status alone."""
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
    best = [o for o in fitting if o.get("status") == fitting[0].get("status")] if fitting else []
    if wanted and len(best) > 1 and turn.can_ask:  # a request about one order of a kind, and several fit
        return _which_order(turn, best)
    if fitting:
        return fitting[0]
    need_text = " or ".join(wanted) if wanted else "any"
    return Handoff.failed(f"None of the customer's {len(read)} orders fits the task (status {need_text}).")


def _which_order(turn: Turn, orders: list[dict[str, Any]]) -> dict[str, Any] | Call | Handoff:
    """Several orders fit and the task names none: ask the customer which one (once).

    A reply that names an order fills the ``order_ids`` slot, so it never
    gets here; one that describes it ("the one with the kettle") picks the
    order whose items it mentions, when exactly one does.
    """
    if turn.replies():
        described = [o for o in orders if match_items(o.get("items") or [], turn.replies()[-1])]
        if len(described) == 1:
            return described[0]
        return Handoff.failed(
            f"The customer has {len(orders)} {orders[0].get('status')} orders and their answer "
            f"({turn.replies()[-1]!r}) names none of them: "
            f"{', '.join(str(o.get('order_id')) for o in orders)}."
        )
    listing = "; ".join(
        f"{o.get('order_id')} ({', '.join(str(i.get('name')) for i in o.get('items') or [])})" for o in orders
    )
    question = f"Which order do you mean? You have {len(orders)} {orders[0].get('status')} orders: {listing}."
    return Call(ASK_CUSTOMER, {"question": question}, "Several orders fit and the task names none: ask which.")


def _identity(turn: Turn, user_id: str, user: Mapping[str, Any], order: dict[str, Any] | None) -> Identity:
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
    for key in SLOT_FACTS:
        if turn.slots.get(key):
            facts[key] = turn.slots[key]
    return Identity(facts, summary, order)


def _order_facts(turn: Turn, user: Mapping[str, Any], order: Mapping[str, Any]) -> dict[str, Any]:
    item_ids = item_ids_for(turn, order)
    facts: dict[str, Any] = {
        "order_id": order.get("order_id"),
        "order_status": order.get("status"),
        "found_status": order.get("status"),
        "item_ids": item_ids,
    }
    method, why = payment_for(purpose(turn), turn.slots.get("refund_to"), user, order, turn.task)
    if method:
        facts["payment_method_id"] = method
        facts["payment_note"] = why
    return facts
