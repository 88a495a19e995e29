"""Guardian checks: read every agent result before the supervisor trusts it.

An agent's handoff says what it did, in facts and a summary. A model can get
that wrong, or be talked into lying, so a guardian compares the claims with
what the tool calls in the same handoff actually returned. Guardians are
plain functions of the handoff (a mapping shaped like
:class:`~switchboard.agents.records.HandoffEvent`) and a context, returning a
:class:`GuardianVerdict`; they are pure, so each is unit-tested and its
verdict can be replayed from the audit trail.

Two ship: :func:`refund_amounts` (an amount the agent reports must be one the
tools produced, and a refund at most what the order's payments hold) and
:func:`claimed_actions` (an action the summary claims must have a successful
write behind it). :func:`llm_judge` builds an optional, model-backed check;
it takes the model as an argument and is async, so it never runs by accident.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

from switchboard.policies.scopes import Facts

Action = Literal["pass", "flag", "block"]
"""pass: fine; flag: keep the result, record the concern; block: do not trust the result."""


@dataclass(frozen=True)
class GuardianContext:
    """What a guardian may consult besides the handoff."""

    facts: Facts = field(default_factory=Facts)
    """The thread's learned facts (its customer, who owns what)."""
    task: str = ""


@dataclass(frozen=True)
class GuardianVerdict:
    """One guardian's judgement of one handoff."""

    guardian: str
    action: Action = "pass"
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Nothing to worry about."""
        return self.action == "pass"


Guardian = Callable[[Mapping[str, Any], GuardianContext], GuardianVerdict]
AsyncGuardian = Callable[[Mapping[str, Any], GuardianContext], Awaitable[GuardianVerdict]]


def run_guardians(
    guardians: Iterable[Guardian], handoff: Mapping[str, Any], context: GuardianContext
) -> tuple[GuardianVerdict, ...]:
    """Every guardian's verdict, in order (the caller decides what a block does)."""
    return tuple(guardian(handoff, context) for guardian in guardians)


# Refund amounts -----------------------------------------------------------------------

AMOUNT_KEYS = ("refund_amount", "amount", "refund", "price_difference")
_DOLLARS = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{1,2})?)")


def refund_amounts(handoff: Mapping[str, Any], context: GuardianContext) -> GuardianVerdict:
    """Amounts the agent reports must come from its tool results; refunds at most what was paid.

    Reported amounts are the ``facts`` under :data:`AMOUNT_KEYS` and the
    dollar figures in the summary. Backed amounts are every number in the
    handoff's successful tool results, plus the sum of a return's items.
    """
    name = "refund_amounts"
    results = _results(handoff)
    backed = {round(n, 2) for result in results for n in _numbers(result)}
    backed |= {t for r in results if isinstance(r, Mapping) and (t := _returned_total(r)) is not None}
    facts = handoff.get("facts") or {}
    claimed_refunds = [n for k in AMOUNT_KEYS if (n := _number(facts.get(k))) is not None]
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


def succeeded(call: Mapping[str, Any]) -> bool:
    """Whether a recorded tool call succeeded (``outcome: ok`` in the trail)."""
    return call.get("outcome") == "ok"


def _results(handoff: Mapping[str, Any]) -> list[Any]:
    parsed = []
    for call in handoff.get("tool_calls") or []:
        if not succeeded(call):
            continue
        try:
            parsed.append(json.loads(call.get("result") or ""))
        except ValueError:
            continue
    return parsed


def _numbers(value: Any) -> Iterable[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


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


# Claimed actions ----------------------------------------------------------------------

READ_ONLY = ("quote_*", "get_*", "find_*", "list_*", "calculate")
"""Tools that change nothing, so they never back a claimed action."""

CLAIMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\bcancell?ed\b", ("cancel_*",)),
    (r"\brefunded\b|\bissued (?:the |a )?refund", ("*refund*", "cancel_*", "modify_pending_order_*")),
    (r"\brequested the return\b|\breturn (?:is|was|has been) requested\b", ("return_*",)),
    (r"\bexchanged\b|\brequested the exchange\b", ("exchange_*", "modify_pending_order_items")),
    (r"\b(?:changed|updated|modified) the (?:shipping |default )?address\b", ("*address*",)),
    (r"\b(?:changed|moved|updated) the payment\b", ("modify_pending_order_payment",)),
    (r"\b(?:scheduled|booked) (?:a |the )?(?:courier |return )?pickup\b", ("schedule_return_pickup",)),
    (r"\brestocked\b|\bback in stock\b", ("receive_returned_items",)),
    (r"\b(?:notified|emailed|messaged)\b", ("notify_customer",)),
)
"""Claim (regular expression over the summary) and the write tools that can back it."""

_NEGATION = re.compile(r"\b(?:not|n't|never|unable|cannot|could not|failed to|no)\b[^.]{0,40}$", re.IGNORECASE)


def claimed_actions(
    handoff: Mapping[str, Any],
    context: GuardianContext,
    *,
    claims: Sequence[tuple[str, Collection[str]]] = CLAIMS,
    read_only: Collection[str] = READ_ONLY,
) -> GuardianVerdict:
    """An action the summary claims must have a successful, non-read tool call behind it."""
    name = "claimed_actions"
    summary = str(handoff.get("summary") or "")
    done = [
        str(call.get("tool"))
        for call in handoff.get("tool_calls") or []
        if succeeded(call) and not any(fnmatchcase(str(call.get("tool")), p) for p in read_only)
    ]
    for pattern, tools in claims:
        for match in re.finditer(pattern, summary, re.IGNORECASE):
            if _NEGATION.search(summary[: match.start()].split(".")[-1]):
                continue
            if not any(fnmatchcase(tool, p) for tool in done for p in tools):
                return GuardianVerdict(
                    name, "block", f"the agent says {match.group(0)!r}, but no successful tool call did that"
                )
    return GuardianVerdict(name)


SHIPPED: tuple[Guardian, ...] = (refund_amounts, claimed_actions)
"""The guardians run by default."""


# LLM judge ----------------------------------------------------------------------------

JUDGE_PROMPT = (
    "You check an AI agent's report against the tool calls it made. Answer with JSON only: "
    '{"action": "pass" | "flag" | "block", "reason": "..."}. Block a report that claims something '
    "the tool results do not show, or that moved money the customer did not ask to move."
)


def llm_judge(model: Any, *, prompt: str = JUDGE_PROMPT) -> AsyncGuardian:
    """A guardian that asks a model; an unreadable answer is a flag, never a pass.

    Args:
        model: A LangChain chat model (anything with ``ainvoke(messages)``).
        prompt: The judge's instructions.
    """

    async def judge(handoff: Mapping[str, Any], context: GuardianContext) -> GuardianVerdict:
        report = json.dumps({"task": context.task, "handoff": dict(handoff)}, default=str)
        reply = await model.ainvoke([("system", prompt), ("human", report)])
        try:
            verdict = json.loads(str(getattr(reply, "content", reply)))
            action = verdict["action"]
            if action not in ("pass", "flag", "block"):
                raise ValueError(action)
            return GuardianVerdict("llm_judge", action, str(verdict.get("reason") or ""))
        except (ValueError, KeyError, TypeError):
            return GuardianVerdict("llm_judge", "flag", "the judge's answer was unreadable; review by hand")

    return judge
