"""The pure policy engine: given a tool call and measured facts, decide.

Pure on purpose: no I/O, no provider SDK, no clock. Whatever needs the outside
world (calling a measure tool) happens in the guarded tool node, which then
hands the numbers to :func:`evaluate`. That keeps every rule unit-testable and
every decision reproducible from the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any, Literal

from switchboard.policies.model import ApprovalRule, PolicyFile

Effect = Literal["allow", "deny", "approve"]


@dataclass(frozen=True)
class PolicyDecision:
    """What the policy says about one tool call."""

    effect: Effect
    """``allow`` runs it, ``deny`` refuses it, ``approve`` waits for a human."""
    rule_id: str | None = None
    reason: str = ""
    question: str = ""
    """For ``approve``: what the human is asked."""
    subject: str | None = None
    """For ``approve``: what an approval will cover (for example an order id)."""
    value: float | None = None
    """The measured value the rule compared, if any."""
    details: Mapping[str, Any] = field(default_factory=dict)


ALLOW = PolicyDecision("allow")


def approval_key(rule_id: str, subject: str | None) -> str:
    """The key under which a granted approval is remembered in a thread."""
    return f"{rule_id}:{subject or '*'}"


def evaluate(
    policy: PolicyFile,
    tool: str,
    args: Mapping[str, Any],
    measured: Mapping[str, float | None],
    approved: Set[str] = frozenset(),
) -> PolicyDecision:
    """Decide one tool call.

    Args:
        policy: The policy file in force.
        tool: The tool being called.
        args: Its arguments.
        measured: Values measured for the approval rules, by rule id.
        approved: Approval keys already granted in this thread.

    Returns:
        The first deny that matches, else the first approval still needed,
        else ``ALLOW``.
    """
    for deny in policy.deny:
        if tool in deny.tools and all(args.get(k) == v for k, v in deny.when.items()):
            return PolicyDecision("deny", deny.id, deny.reason)
    for rule in policy.approval_rules_for(tool):
        decision = _approval(rule, tool, args, measured.get(rule.id), approved)
        if decision is not None:
            return decision
    return ALLOW


def _approval(
    rule: ApprovalRule,
    tool: str,
    args: Mapping[str, Any],
    value: float | None,
    approved: Set[str],
) -> PolicyDecision | None:
    subject = str(args[rule.subject]) if rule.subject and rule.subject in args else None
    if approval_key(rule.id, subject) in approved:
        return None
    if rule.threshold is not None and value is None:
        # Fail closed: a call that cannot be priced cannot be waved through.
        return PolicyDecision("deny", rule.id, f"rule {rule.id} could not price this call; check its arguments")
    if rule.threshold is not None and value is not None and value <= rule.threshold:
        return None
    fields = {"value": value or 0.0, "threshold": rule.threshold or 0.0, "tool": tool, "args": dict(args)}
    try:
        question = rule.question.format(**{**args, **fields})
    except (KeyError, IndexError, ValueError):
        question = f"Approve {tool} with {dict(args)} (rule {rule.id})?"
    return PolicyDecision(
        "approve",
        rule.id,
        reason=rule.description.strip() or f"rule {rule.id} requires approval",
        question=question,
        subject=subject,
        value=value,
    )
