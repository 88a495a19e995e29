"""The result type every policy check returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Effect = Literal["allow", "deny", "approve"]


@dataclass(frozen=True)
class PolicyDecision:
    """What the policy says about one tool call (or handoff)."""

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
    roles: tuple[str, ...] = ()
    """For ``approve``: the roles that may answer (empty: any principal)."""
    escalation: str | None = None
    """For ``approve``: the escalation path that governs waiting for an answer."""


ALLOW = PolicyDecision("allow")


def deny(rule_id: str, reason: str, **details: Any) -> PolicyDecision:
    """A refusal by ``rule_id``; the reason is shown to the agent as is."""
    return PolicyDecision("deny", rule_id, reason, details=details)
