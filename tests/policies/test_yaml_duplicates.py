"""A key given twice in one YAML mapping is refused, not resolved silently to the last value.

A reviewer reading ``threshold: 500`` in a diff must not be overruled by a
``threshold: 1000000`` further down the same rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.errors import ConfigError
from switchboard.policies import load_policy
from switchboard.policies.principals import load_registry

RULE = (
    "name: shop\n"
    "approvals:\n"
    "  - id: large-refund\n"
    "    tools: [refund]\n"
    "    measure: {field: amount}\n"
    "    threshold: 500\n"
    "    roles: [finance_manager]\n"
    "    threshold: 1000000\n"
)


def test_a_threshold_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    file = tmp_path / "shop.yaml"
    file.write_text(RULE)
    with pytest.raises(ConfigError) as caught:
        load_policy(file)
    message = str(caught.value)
    assert f"{file}:8: " in message
    assert "approvals.0.threshold" in message
    assert "lines 6 and 8" in message


def test_a_duplicate_top_level_key_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "shop.yaml"
    file.write_text("name: shop\ndeny: []\nname: other\n")
    with pytest.raises(ConfigError, match=r"shop\.yaml:3: name: .*lines 1 and 3"):
        load_policy(file)


def test_keys_that_mean_the_same_value_are_duplicates(tmp_path: Path) -> None:
    """``when: {1: a, 0x1: b}`` is one key to YAML's reader, however it is spelt."""
    file = tmp_path / "shop.yaml"
    file.write_text("name: shop\ndeny:\n  - id: r\n    tools: [t]\n    reason: x\n    when: {1: a, 0x1: b}\n")
    with pytest.raises(ConfigError, match=r"shop\.yaml:6: deny\.0\.when\.0x1: given twice, both on line 6"):
        load_policy(file)


def test_a_merge_key_may_be_overridden(tmp_path: Path) -> None:
    """``<<: *base`` then a key of the base is YAML's way to override, not a duplicate."""
    file = tmp_path / "shop.yaml"
    file.write_text(
        "name: shop\napprovals:\n"
        "  - &base {id: a, tools: [t], measure: {field: amount}, threshold: 500}\n"
        "  - <<: *base\n    id: b\n"
    )
    assert [r.id for r in load_policy(file).approvals] == ["a", "b"]


def test_a_principals_file_with_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "principals.yaml"
    file.write_text("roles:\n  finance_manager: Approves refunds.\n  finance_manager: Anyone.\nprincipals: []\n")
    with pytest.raises(ConfigError, match=r"principals\.yaml:3: roles\.finance_manager: .*lines 2 and 3"):
        load_registry([file], required=[file])


def test_team_and_workflow_files_refuse_a_key_given_twice(tmp_path: Path) -> None:
    """Their readers are their own (not validated here), and kept the last value too."""
    from switchboard.agents.card import load_team
    from switchboard.graph.workflows.spec import load_workflow

    team = tmp_path / "desk.yaml"
    team.write_text(
        "name: desk\nagents:\n  - name: alpha\n    description: Apples.\n"
        "    max_concurrency: 1\n    max_concurrency: 50\n"
    )
    with pytest.raises(ConfigError, match=r"desk\.yaml:6: agents\.0\.max_concurrency: given twice"):
        load_team(team)
    flow = tmp_path / "flow.yaml"
    flow.write_text("name: flow\nname: other\nsteps:\n  - {id: a, agent: alpha, instruction: Do it.}\n")
    with pytest.raises(ConfigError, match=r"flow\.yaml:2: name: given twice, on lines 1 and 2"):
        load_workflow(flow)
