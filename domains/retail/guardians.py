"""Retail's guardian: the amounts an agent reports must be ones its tools returned.

A policy names it under ``guardians.checks`` (the shipped retail policy
does); the core runs only the guardians a policy names, so this check, which
knows retail's facts (``refund_amount``, ``price_difference``) and its order
records (``payment_history``, ``return_items``), stays with the domain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from switchboard.policies.guardians import GuardianContext, GuardianVerdict, number_of, numbers_in, results_of

__all__ = ["AMOUNT_KEYS", "refund_amounts"]

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
