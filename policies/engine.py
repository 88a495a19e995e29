"""The pure policy engine: given a tool call and measured facts, decide.

Pure on purpose: no I/O, no provider SDK, no clock. Whatever needs the outside
world (calling a measure tool) happens in the guarded tool node, which then
hands the numbers to :func:`evaluate`. That keeps every rule unit-testable and
every decision reproducible from the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from switchboard.policies.budgets import BudgetVerdict, Usage, check_budget
from switchboard.policies.constraints import Quotes, Range, check_constraints
from switchboard.policies.decision import ALLOW, Effect, PolicyDecision, deny
from switchboard.policies.escalations import EscalationStatus, escalation_status
from switchboard.policies.grants import check_handoff_grant, check_tool_grant, tool_matches
from switchboard.policies.measure import Measure
from switchboard.policies.model import ApprovalRule, PolicyFile
from switchboard.policies.scopes import FactCall, Facts, fact_calls, named_resources

__all__ = [
    "ALLOW",
    "Effect",
    "MeasureCall",
    "PolicyDecision",
    "answer_roles",
    "approval_key",
    "budget",
    "check_call",
    "check_handoff",
    "check_scope",
    "evaluate",
    "measure_calls",
    "missing_facts",
]


@dataclass(frozen=True)
class MeasureCall:
    """A read-only call the guard must make before deciding (a quote)."""

    key: str
    """The rule or constraint id its result is filed under."""
    tool: str
    args: Mapping[str, Any]
    field: str
    """For approval rules: the result field holding the measured number."""


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
    for refusal in policy.deny:
        if refusal.refuses(tool, args):
            return PolicyDecision("deny", refusal.id, refusal.reason)
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
        roles=rule.roles,
        escalation=rule.escalation,
    )


def check_call(
    policy: PolicyFile,
    agent: str,
    tool: str,
    args: Mapping[str, Any],
    *,
    quotes: Quotes,
    facts: Facts,
) -> PolicyDecision:
    """Everything but approvals: grants, argument constraints and data scopes.

    In that order, with the constraints that read only the call (ids,
    ranges) before the scope and those that read facts after it, so each
    refusal names the most specific reason.

    Call it before :func:`evaluate`; a deny here is final, and the approval
    question is only asked for a call that could be allowed at all.

    Args:
        policy: The policy in force.
        agent: The agent asking.
        tool: The tool it asks for.
        args: The arguments.
        quotes: Parsed quote results for the call's :func:`measure_calls`, by key.
        facts: What the thread has established (see :func:`~switchboard.policies.scopes.learn`).
    """
    decision = check_tool_grant(policy.grants, agent, tool)
    if decision.effect != "allow":
        return decision
    refused = check_constraints(policy.constraints, tool, args, quotes, facts, facts_based=False)
    if refused is not None:
        return refused
    decision = check_scope(policy, tool, args, facts)
    if decision.effect != "allow":
        return decision
    return check_constraints(policy.constraints, tool, args, quotes, facts, facts_based=True) or ALLOW


def check_scope(policy: PolicyFile, tool: str, args: Mapping[str, Any], facts: Facts) -> PolicyDecision:
    """Refuse a call on anything not the thread's customer's.

    A resource whose owner is not yet known is refused too (fail closed);
    the decision's ``details["missing"]`` lists them and :func:`missing_facts`
    says which read calls would learn them, so the guard can fetch and retry.
    """
    scopes = policy.scopes
    if scopes is None or tool not in scopes.tools:
        return ALLOW
    if len(facts.customers) > 1:
        return deny(
            "scope",
            f"this thread identified several customers ({', '.join(facts.customers)}); a thread acts for one "
            "customer: escalate to a human",
        )
    customer = facts.customer
    if customer is None:
        return deny("scope", "identify the customer first (look them up) before acting on their records")
    missing: list[tuple[str, str]] = []
    for kind, id_ in named_resources(scopes, args):
        if kind == scopes.customer_kind:
            owner: str | None = id_
        else:
            resource = facts.resource(kind, id_)
            owner = resource.owner if resource else None
        if owner is None:
            missing.append((kind, id_))
        elif owner != customer:
            return deny("scope", f"{kind} {id_} does not belong to this thread's customer {customer}; refused",
                        kind=kind, id=id_)  # fmt: skip
    if missing:
        names = ", ".join(f"{k} {i}" for k, i in missing)
        return deny("scope", f"cannot tell whose {names} is; read it first", missing=missing)
    return ALLOW


def missing_facts(policy: PolicyFile, decision: PolicyDecision, facts: Facts) -> tuple[FactCall, ...]:
    """Read calls that would settle a ``scope`` refusal for unknown owners."""
    missing = decision.details.get("missing") or []
    return fact_calls(policy.scopes, facts, [(str(k), str(i)) for k, i in missing])


def measure_calls(policy: PolicyFile, tool: str, args: Mapping[str, Any]) -> tuple[MeasureCall, ...]:
    """The quotes to fetch before deciding ``tool``: approval measures and range constraints.

    A measure without a tool reads the call's own arguments and needs no call.
    """
    calls = []
    measured: list[tuple[str, Measure | None]] = [(r.id, r.measure) for r in policy.approval_rules_for(tool)]
    measured += [(c.id, c.measure) for c in policy.constraints if isinstance(c, Range) and tool_matches(tool, c.tools)]
    for key, measure in measured:
        if measure is not None and measure.tool is not None:
            tool_args = {name: args.get(source) for name, source in measure.args.items()}
            calls.append(MeasureCall(key, measure.tool, tool_args, measure.field))
    return tuple(calls)


def check_handoff(policy: PolicyFile, source: str, target: str) -> PolicyDecision:
    """Whether work may pass from ``source`` (an agent or ``"supervisor"``) to ``target``."""
    return check_handoff_grant(policy.grants, source, target)


def answer_roles(policy: PolicyFile, decision: PolicyDecision, asked_at: float, now: float) -> EscalationStatus:
    """Who may answer an approval question now, and whether it has timed out.

    The rule's own roles may always answer; its escalation path (if any)
    adds roles as time passes and finally rejects.
    """
    path = policy.find_escalation(decision.escalation)
    if path is None:
        return EscalationStatus(0, decision.roles, float("inf"), "waiting")
    status = escalation_status(path, asked_at, now)
    roles = tuple(dict.fromkeys((*decision.roles, *status.roles)))
    return EscalationStatus(status.step, roles, status.deadline, status.state, status.reason)


def budget(policy: PolicyFile, used: Usage, adding: Usage | None = None) -> BudgetVerdict:
    """Check a run's usage against the policy's budgets (see :mod:`~switchboard.policies.budgets`)."""
    return check_budget(policy.budgets, used, adding)
