"""The policy engine is pure: these tests need no graph, no server, no model."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.errors import ConfigError
from switchboard.policies import PolicyFile, approval_key, evaluate, load_policy

RULES = {
    "name": "t",
    "approvals": [
        {
            "id": "large-refund",
            "tools": ["refund"],
            "subject": "order_id",
            "measure": {"tool": "quote", "args": {"order_id": "order_id"}, "field": "amount"},
            "threshold": 500,
            "question": "Refund ${value:.2f} on {order_id}?",
        }
    ],
    "deny": [{"id": "no-wire", "tools": ["pay"], "when": {"method": "wire"}, "reason": "wires are not allowed"}],
}


@pytest.fixture
def policy() -> PolicyFile:
    return PolicyFile.model_validate(RULES)


def test_above_threshold_needs_approval_with_a_filled_question(policy: PolicyFile) -> None:
    decision = evaluate(policy, "refund", {"order_id": "#W1"}, {"large-refund": 812.5})
    assert decision.effect == "approve"
    assert decision.rule_id == "large-refund"
    assert decision.question == "Refund $812.50 on #W1?"
    assert decision.subject == "#W1"


def test_at_or_below_threshold_is_allowed(policy: PolicyFile) -> None:
    assert evaluate(policy, "refund", {"order_id": "#W1"}, {"large-refund": 500.0}).effect == "allow"
    assert evaluate(policy, "refund", {"order_id": "#W1"}, {"large-refund": 12.0}).effect == "allow"


def test_unpriced_call_is_refused_not_waved_through(policy: PolicyFile) -> None:
    decision = evaluate(policy, "refund", {"order_id": "#W1"}, {})
    assert decision.effect == "deny"
    assert "could not price" in decision.reason


def test_an_approval_covers_its_subject_only(policy: PolicyFile) -> None:
    granted = {approval_key("large-refund", "#W1")}
    assert evaluate(policy, "refund", {"order_id": "#W1"}, {"large-refund": 900}, granted).effect == "allow"
    assert evaluate(policy, "refund", {"order_id": "#W2"}, {"large-refund": 900}, granted).effect == "approve"


def test_deny_rule_matches_on_arguments(policy: PolicyFile) -> None:
    assert evaluate(policy, "pay", {"method": "wire"}, {}).effect == "deny"
    assert evaluate(policy, "pay", {"method": "card"}, {}).effect == "allow"


def test_unguarded_tool_is_allowed(policy: PolicyFile) -> None:
    assert evaluate(policy, "get_order_details", {"order_id": "#W1"}, {}).effect == "allow"


def test_threshold_without_measure_is_rejected_when_loaded() -> None:
    with pytest.raises(ValueError, match="no `measure`"):
        PolicyFile.model_validate({"name": "x", "approvals": [{"id": "r", "tools": ["t"], "threshold": 1}]})


def test_shipped_retail_policy_sets_a_500_dollar_refund_limit() -> None:
    policy = load_policy("retail.yaml")
    (rule,) = policy.approval_rules_for("return_delivered_order_items")
    assert rule.threshold == 500
    assert rule.measure is not None and rule.measure.tool == "quote_return_refund"


def test_bad_policy_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\napprovals:\n  - id: r\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        load_policy(bad)
