"""Declarative policy files and the pure engine that evaluates them."""

from __future__ import annotations

from switchboard.policies.approvals import Approval, ApprovalVerdict, call_hash, sign_approval, verify_approval
from switchboard.policies.budgets import Budgets, BudgetVerdict, Usage
from switchboard.policies.decision import ALLOW, PolicyDecision
from switchboard.policies.engine import (
    MeasureCall,
    answer_roles,
    approval_key,
    budget,
    check_call,
    check_handoff,
    check_scope,
    evaluate,
    measure_calls,
    missing_facts,
)
from switchboard.policies.escalations import EscalationPath, EscalationStatus
from switchboard.policies.loader import load_policy, load_principals, resolve_policy_path
from switchboard.policies.measure import Measure
from switchboard.policies.model import ApprovalRule, DenyRule, PolicyFile, RoutingPolicy, RoutingRule
from switchboard.policies.principals import Principal, Registry
from switchboard.policies.scopes import FactCall, Facts, learn

__all__ = [
    "ALLOW",
    "Approval",
    "ApprovalRule",
    "ApprovalVerdict",
    "BudgetVerdict",
    "Budgets",
    "DenyRule",
    "EscalationPath",
    "EscalationStatus",
    "FactCall",
    "Facts",
    "Measure",
    "MeasureCall",
    "PolicyDecision",
    "PolicyFile",
    "Principal",
    "Registry",
    "RoutingPolicy",
    "RoutingRule",
    "Usage",
    "answer_roles",
    "approval_key",
    "budget",
    "call_hash",
    "check_call",
    "check_handoff",
    "check_scope",
    "evaluate",
    "learn",
    "load_policy",
    "load_principals",
    "measure_calls",
    "missing_facts",
    "resolve_policy_path",
    "sign_approval",
    "verify_approval",
]
