"""Declarative policy files and the pure engine that evaluates them."""

from __future__ import annotations

from policies.engine import ALLOW, PolicyDecision, approval_key, evaluate
from policies.loader import load_policy
from policies.model import ApprovalRule, DenyRule, Measure, PolicyFile, RoutingPolicy, RoutingRule

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
]
