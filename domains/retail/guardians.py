"""Retail's guardians: the amounts an agent reports must be ones its tools returned.

A policy names it under ``guardians.checks`` (the shipped retail policy
does); the core runs only the guardians a policy names, so this check, which
knows retail's facts (``refund_amount``, ``price_difference``) and its order
records (``payment_history``, ``return_items``), stays with the domain.

:func:`unissued_refund_promise` reads the messages a step sent the customer:
one may promise a refund only when the thread's records show a refund was
issued; :func:`refund_promises` runs it as a guardian over the thread's
calls, and the retail recipes use :func:`refund_promise` to hold their
own messages to the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from switchboard.policies.guardians import GuardianContext, GuardianVerdict, number_of, numbers_in, results_of

__all__ = [
    "AMOUNT_KEYS",
    "REFUNDING_TOOLS",
    "refund_amounts",
    "refund_promise",
    "refund_promises",
    "unissued_refund_promise",
]

AMOUNT_KEYS = ("refund_amount", "amount", "refund", "price_difference")
_DOLLARS = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{1,2})?)")


def refund_amounts(handoff: Mapping[str, Any], context: GuardianContext) -> GuardianVerdict:
    """Amounts the agent reports must come from its tool results; refunds at most what was paid.

    Reported amounts are the ``facts`` under :data:`AMOUNT_KEYS` and the
    dollar figures in the summary. Backed amounts are every number in the
    handoff's successful tool results, plus the sum of a return's items.
    Only a finished step reports amounts: a failed or paused one's summary
    says what went wrong ("the refund of $75.00 was refused"), and its step
    is reassigned or asked about, not believed.
    """
    name = "refund_amounts"
    if handoff.get("status", "done") != "done":
        return GuardianVerdict(name)
    results = results_of(handoff)
    backed = {round(n, 2) for result in results for n in numbers_in(result)}
    backed |= {t for r in results if isinstance(r, Mapping) and (t := _returned_total(r)) is not None}
    facts = handoff.get("facts") or {}
    claimed_refunds = [n for k in AMOUNT_KEYS if (n := number_of(facts.get(k))) is not None]
    claimed = claimed_refunds + [float(m.replace(",", "")) for m in _DOLLARS.findall(str(handoff.get("summary", "")))]
    for amount in claimed:
        if amount < 0:
            return GuardianVerdict(name, "block", f"the agent reports a negative amount {amount:.2f}")
        if not any(abs(amount - b) < 0.005 for b in backed):
            return GuardianVerdict(name, "block", f"the agent reports {amount:.2f}, which no tool result shows")
    paid = [p for result in results if isinstance(result, Mapping) and (p := _paid(result)) is not None]
    for amount in claimed_refunds:
        if paid and amount > max(paid) + 0.005:
            return GuardianVerdict(
                name, "block", f"the refund {amount:.2f} is more than the order's payments hold ({max(paid):.2f})"
            )
    return GuardianVerdict(name)


def _returned_total(order: Mapping[str, Any]) -> float | None:
    """The price of a return's items, as ``issue_return_refund`` will pay it."""
    wanted = list(order.get("return_items") or [])
    if not wanted or not isinstance(order.get("items"), list):
        return None
    total = 0.0
    for item in order["items"]:
        if isinstance(item, Mapping) and item.get("item_id") in wanted:
            wanted.remove(item["item_id"])
            total += float(item.get("price") or 0)
    return round(total, 2)


def _paid(order: Mapping[str, Any]) -> float | None:
    history = order.get("payment_history")
    if not isinstance(history, list):
        return None
    paid = sum(float(e.get("amount") or 0) for e in history if isinstance(e, Mapping)
               and e.get("transaction_type") == "payment")  # fmt: skip
    return round(paid, 2)


# Refunds promised to the customer -------------------------------------------------------

REFUNDING_TOOLS = frozenset(
    {
        "issue_return_refund",
        "cancel_pending_order",
        "modify_pending_order_payment",
        "modify_pending_order_items",
        "exchange_delivered_order_items",
    }
)
"""The writes that pay money back (a refund, a cancellation, a payment or price change)."""

_CUSTOMER_MESSAGES = {"notify_customer": "message"}
"""Tools that send the customer a text, and the argument that holds it."""

_PROMISE = re.compile(
    r"\brefunded\b"
    r"|\brefunds?\b(?:[^.;:!?]|\.\d){0,60}?\b(?:goes|go|going|sent|on (?:its|the) way|issued|processed|paid|credited"
    r"|completed?)\b"
    r"|\b(?:we|i)(?:'ve|'ll|\s+have|\s+will|\s+shall)?\s+(?:refund|issued?\s+(?:a\s+|the\s+|your\s+)?refund)\b"
    r"|\b(?:receive|get|getting|receiving)\s+(?:a\s+|your\s+|the\s+)?(?:full\s+)?(?:refund\b|money\s+back\b)",
    re.IGNORECASE,
)
"""Words that tell the customer money is, or will be, paid back ("A refund of $12.00 goes to …")."""
_UNDONE = re.compile(r"(?:\b(?:not|never|no|nothing|unable|cannot|failed to|delayed)\b|n't\b)", re.IGNORECASE)
"""Words inside a promise that turn it into its opposite: "the refund has not been issued", "is delayed"."""
_LINKING = r"(?:\s+(?:a|an|the|your|any|yet|already|now|just|fully|be|been|to))*\s*$"
"""The small words that may stand between a verb and the refund it governs ("not yet been refunded")."""
_NEGATED = re.compile(rf"(?:\b(?:not|never|no|cannot|unable\s+to|failed\s+to)|n't){_LINKING}", re.IGNORECASE)
"""A negation right before a promise, governing it: "no refund …", "not refunded", "cannot be refunded"."""
_ALREADY = re.compile(rf"(?:\b(?:has|have|had|was|were|we|i)|'ve){_LINKING}", re.IGNORECASE)
"""Words right before a promise that say the refund was made: "we've refunded", "your order was refunded"."""
_ALREADY_SAID = re.compile(r"\b(?:has|have|had|was|were|already)\b|'ve\b|\b(?:we|i)\s+issued\b", re.IGNORECASE)
"""The same inside a promise: "the refund has been processed", "we have issued a refund"."""
_CONDITION = re.compile(
    r"\b(?:once|when|whenever|after|as\s+soon\s+as|if|upon|on\s+receipt"
    r"|be\s+(?:issued|processed)\s+within\s+[\w-]+\s+(?:business\s+|working\s+)?days?)\b",
    re.IGNORECASE,
)
"""What a refund still waits on: "once we receive the items", "if they arrive", "will be issued within 5 days"."""
_CLAUSES = re.compile(r"[.;:!?](?!\d)|,\s+(?:and|but)\b")
_ASIDE = re.compile(r"[,\u2013\u2014]|\s-\s")
"""Where the words that follow a promise stop qualifying it (a comma, a dash)."""


def refund_promise(text: str) -> str | None:
    """The words of ``text`` that tell the customer a refund is paid or on its way, if any.

    Read clause by clause, and each promise on its own:

    * a negation cancels it only when it governs the refund, inside the
      promise or right before it ("no refund has been issued", "the refund
      is delayed and …", "cannot be refunded"), not anywhere in the clause
      ("No worries, a refund of $20 goes to your card" is a promise);
    * a refund that waits on a condition, before it in the clause or after
      it up to the next comma ("you will receive a refund once we receive the
      items", "your refund will be issued within 5 days"), is not a claim
      that one was made, unless the words say it was ("we've refunded your
      order after the items arrived" still is). A bare "within five days" is
      no condition: "a refund goes to your card within 5 days" promises it.
    """
    for clause in _CLAUSES.split(text):
        for match in _PROMISE.finditer(clause):
            before, promise = clause[: match.start()], match.group(0)
            if _NEGATED.search(before) or _UNDONE.search(promise):
                continue
            aside = _ASIDE.search(clause, match.end())
            qualified = clause[: aside.start() if aside else len(clause)]
            already = _ALREADY.search(before) or _ALREADY_SAID.search(promise)
            if _CONDITION.search(qualified) and not already:
                continue
            return promise
    return None


def unissued_refund_promise(handoff: Mapping[str, Any], thread_calls: Iterable[Mapping[str, Any]]) -> str | None:
    """Why a message the step sent the customer promises a refund nobody issued, if it does.

    A promise is backed by a successful call of one of the
    :data:`REFUNDING_TOOLS`, in the thread before the step
    (``thread_calls``) or in the step itself. A quote is no refund, a
    refused or uncertain call is none either, and neither is a call a
    brought or remote agent only reports (``observed``).

    Args:
        handoff: The step's result, with its tool calls.
        thread_calls: The thread's tool calls before the step.
    """
    calls = [*thread_calls, *(handoff.get("tool_calls") or [])]
    if any(_refunded(call) for call in calls):
        return None
    for call in handoff.get("tool_calls") or []:
        field = _CUSTOMER_MESSAGES.get(str(call.get("tool")))
        if field is None or call.get("outcome") != "ok":
            continue
        promise = refund_promise(str((call.get("args") or {}).get(field) or ""))
        if promise is not None:
            return f"the message to the customer says {promise!r}, but no refund was issued in this thread"
    return None


def _refunded(call: Mapping[str, Any]) -> bool:
    return call.get("tool") in REFUNDING_TOOLS and call.get("outcome") == "ok" and not call.get("observed")


def refund_promises(handoff: Mapping[str, Any], context: GuardianContext) -> GuardianVerdict:
    """A message the step sent the customer may promise a refund only when the thread issued one.

    The message is already sent when this runs: a block puts the thread
    before a human, who can correct what the customer was told.
    """
    reason = unissued_refund_promise(handoff, context.calls)
    return GuardianVerdict("refund_promises", "block" if reason else "pass", reason or "")
