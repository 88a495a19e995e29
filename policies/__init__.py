"""Declarative policy files and the pure engine that evaluates them."""

from __future__ import annotations

from switchboard.policies.engine import ALLOW, PolicyDecision, approval_key, evaluate
from switchboard.policies.loader import load_policy, resolve_policy_path
from switchboard.policies.model import ApprovalRule, DenyRule, Measure, PolicyFile, RoutingPolicy, RoutingRule

__all__ = [
    "ALLOW",
    "ApprovalRule",
    "DenyRule",
    "Measure",
    "PolicyDecision",
    "PolicyFile",
    "RoutingPolicy",
    "RoutingRule",
    "approval_key",
    "evaluate",
    "load_policy",
    "resolve_policy_path",
]
