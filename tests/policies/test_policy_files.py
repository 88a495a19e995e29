"""Policy files: errors at file and line, the rules in force, roles, paths, budgets."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.agents.card import load_team
from switchboard.errors import ConfigError
from switchboard.policies import PolicyDecision, PolicyFile, load_policy
from switchboard.policies.budgets import Usage
from switchboard.policies.engine import answer_roles, budget, evaluate
from switchboard.policies.escalations import parse_duration
from switchboard.policies.loader import POLICIES_DIR, load_principals, principals_paths
from switchboard.policies.principals import generate_key, upsert_principal


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "p.yaml"
    file.write_text(text)
    return file


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: x\napprovals:\n  - id: r\n    tools: [t]\n    threshold: lots\n",
         r"p\.yaml:5: approvals\.0\.threshold"),
        ("name: x\nconstraints:\n  - id: c\n    check: nonsense\n    tools: [t]\n", r"p\.yaml:3: constraints\.0"),
        ("name: x\nconstraints:\n  - id: c\n    check: pattern\n    tools: [t]\n    args: {a: '('}\n",
         r"p\.yaml:6: constraints\.0\.pattern\.args"),
        ("name: x\nbudgets:\n  tool_calls: -1\n", r"p\.yaml:3: budgets\.tool_calls"),
        ("name: x\nescalations:\n  - id: e\n    steps:\n      - {roles: [a], timeout: soon}\n",
         r"p\.yaml:5: escalations\.0\.steps\.0\.timeout"),
        ("name: x\nsurprise: 1\n", r"p\.yaml:2: surprise"),
        ("name: x\napprovals:\n  - id: r\n    tools: [t]\n    escalation: nowhere\n", r"p\.yaml:1: .*nowhere"),
    ],
)  # fmt: skip
def test_errors_give_file_and_line(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(ConfigError, match=where):
        load_policy(write(tmp_path, text))


def test_yaml_syntax_errors_give_the_position(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"p\.yaml:3: .*expected (the )?node content"):  # libyaml or pure Python
        load_policy(write(tmp_path, "name: x\napprovals: [\n"))
    with pytest.raises(ConfigError, match=r"p\.yaml:2: "):
        load_policy(write(tmp_path, "name: x\n  bad: indent\n"))


def test_a_policy_file_in_the_working_directory_does_not_replace_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hole 5: the rules in force are those the team file names, wherever the command runs."""
    (tmp_path / "retail.yaml").write_text("name: retail\n")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "retail.yaml").write_text("name: retail\n")
    monkeypatch.chdir(tmp_path)
    policy = load_team("retail").load_policy()
    assert policy.source == (POLICIES_DIR / "retail.yaml").resolve()
    assert {r.id for r in policy.approvals} >= {"large-refund", "large-cancel-refund"}


def test_shipped_principals_paths_are_beside_the_policy_and_in_the_data_dir(tmp_path: Path) -> None:
    policy = load_policy("retail.yaml")
    beside, home = principals_paths(policy, {"SWITCHBOARD_HOME": str(tmp_path)})
    assert beside == (POLICIES_DIR / "principals.yaml").resolve()
    assert home == (tmp_path / "principals.yaml").resolve()


def test_demo_principals_in_the_data_dir_join_the_shipped_roles(tmp_path: Path) -> None:
    env = {"SWITCHBOARD_HOME": str(tmp_path)}
    policy = load_policy("retail.yaml")
    assert load_principals(policy, env).principals == {}
    upsert_principal(tmp_path / "principals.yaml", "alice", ["finance_manager"], generate_key(tmp_path / "a.pem"))
    registry = load_principals(policy, env)
    alice = registry.get("alice")
    assert alice is not None and alice.roles == ("finance_manager",)
    upsert_principal(tmp_path / "principals.yaml", "eve", ["root"], generate_key(tmp_path / "e.pem"))
    with pytest.raises(ConfigError, match="undeclared role"):
        load_principals(policy, env)


def test_a_rule_naming_an_undeclared_role_is_refused(tmp_path: Path) -> None:
    (tmp_path / "principals.yaml").write_text("roles: {finance_manager: x}\n")
    file = write(tmp_path, "name: x\nprincipals: [principals.yaml]\napprovals:\n"
                           "  - id: r\n    tools: [t]\n    roles: [finance_manger]\n")  # fmt: skip
    with pytest.raises(ConfigError, match="finance_manger"):
        load_principals(load_policy(file))


def test_approve_decisions_carry_roles_and_path() -> None:
    policy = load_policy("retail.yaml")
    decision = evaluate(policy, "cancel_pending_order", {"order_id": "#W1"}, {"large-cancel-refund": 1185.93})
    assert decision.effect == "approve" and decision.roles == ("finance_manager",)
    assert decision.escalation == "money" and "1185.93" in decision.question
    assert evaluate(policy, "cancel_pending_order", {"order_id": "#W1"}, {"large-cancel-refund": 80}).effect == "allow"


def test_escalation_widens_then_rejects() -> None:
    policy = load_policy("retail.yaml")
    decision = PolicyDecision("approve", "large-refund", roles=("finance_manager",), escalation="money")
    asked = 1000.0
    first = answer_roles(policy, decision, asked, asked + 60)
    assert (first.state, first.roles, first.deadline) == ("waiting", ("finance_manager",), asked + 4 * 3600)
    later = answer_roles(policy, decision, asked, asked + 5 * 3600)
    assert later.state == "waiting" and later.roles == ("finance_manager", "store_manager") and later.step == 1
    expired = answer_roles(policy, decision, asked, asked + 29 * 3600)
    assert expired.state == "rejected" and "store_manager" in expired.reason


def test_an_escalation_path_must_end_in_a_rejection() -> None:
    with pytest.raises(ValueError, match="on_timeout: reject"):
        PolicyFile.model_validate(
            {"name": "x", "escalations": [{"id": "e", "steps": [{"roles": ["a"], "timeout": "1h"}]}]}
        )


def test_the_supervisors_escalation_path_must_be_defined() -> None:
    with pytest.raises(ValueError, match="escalation_path names 'desk'; defined: money"):
        PolicyFile.model_validate({
            "name": "x", "escalation_path": "desk",
            "escalations": [{"id": "money", "steps": [{"roles": ["a"], "timeout": "1h", "on_timeout": "reject"}]}],
        })  # fmt: skip


def test_durations() -> None:
    assert parse_duration("90s") == 90 and parse_duration("30m") == 1800 and parse_duration("2d") == 172800
    assert parse_duration(5) == 5
    with pytest.raises(ValueError):
        parse_duration("0")


def test_budgets_stop_before_the_limit_is_passed() -> None:
    policy = load_policy("retail.yaml")
    assert budget(policy, Usage(tool_calls=59), Usage(tool_calls=1)).ok
    verdict = budget(policy, Usage(tool_calls=60), Usage(tool_calls=1))
    assert verdict.exceeded == ("tool_calls",) and verdict.action == "escalate" and "61 > 60" in verdict.reason
    many = budget(policy, Usage(hops=13, tokens=500_000, cost_usd=6.0))
    assert many.exceeded == ("hops", "tokens", "cost_usd")
    assert budget(PolicyFile(name="none"), Usage(hops=10**6)).ok
