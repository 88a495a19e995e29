"""A second team beside the first in one data directory, and key files named after principals.

Outside review, round 5: once ``make demo`` had put alice (a retail
``finance_manager``) in the data directory's ``principals.yaml``, a second
team (an IT help desk, its roles ``hd_lead``) could neither add its own
approver with ``keygen`` nor build its graph: every load met alice's role,
undeclared by that team. Each team now names its own file in the data
directory, and ``keygen`` writes to the one its policy names. And ``keygen``
named the key file after the principal before checking the name, so
``keygen ../escaped`` wrote a key outside ``keys/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.cli import main
from switchboard.policies import load_policy
from switchboard.policies.loader import load_principals

TEAM = """
name: helpdesk
policy: policy.yaml
agents:
  - name: desk
    description: IT help desk.
    skills: [{id: reset, description: Resets passwords.}]
"""
POLICY = """
name: helpdesk
principals: [principals.yaml, "${SWITCHBOARD_HOME}/helpdesk-principals.yaml"]
grants: {desk: {tools: []}}
"""
ROLES = "roles:\n  hd_lead: approves account changes\nprincipals: []\n"


@pytest.fixture
def helpdesk(tmp_path: Path, principals: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The help desk team, in the data directory the retail principals (alice, bob, sam) are in."""
    folder = tmp_path / "helpdesk"
    folder.mkdir()
    (folder / "team.yaml").write_text(TEAM)
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "principals.yaml").write_text(ROLES)
    monkeypatch.setenv("SWITCHBOARD_TEAM", str(folder / "team.yaml"))
    return folder


def test_a_second_team_adds_its_approver_beside_the_first_teams(helpdesk: Path, principals: Path) -> None:
    assert (principals / "principals.yaml").exists()  # alice, bob and sam: the retail team's
    assert main(["principals", "keygen", "hank", "--role", "hd_lead"]) == 0
    assert "hank" in (principals / "helpdesk-principals.yaml").read_text()
    assert "hank" not in (principals / "principals.yaml").read_text()
    registry = load_principals(load_policy(helpdesk / "policy.yaml"))
    assert set(registry.principals) == {"hank"} and registry.roles == {"hd_lead": "approves account changes"}


def test_a_shared_file_with_another_teams_roles_says_how_to_part_them(helpdesk: Path, principals: Path) -> None:
    shared = helpdesk / "policy.yaml"
    shared.write_text(POLICY.replace("helpdesk-principals.yaml", "principals.yaml"))
    with pytest.raises(Exception, match=r"undeclared role.*give each team its own file"):
        load_principals(load_policy(shared))


def test_keygen_checks_the_name_before_it_writes_a_key_named_after_it(helpdesk: Path, principals: Path) -> None:
    assert main(["principals", "keygen", "../escaped", "--role", "hd_lead"]) != 0
    assert main(["principals", "keygen", "hank\n", "--role", "hd_lead"]) != 0
    assert not (principals / "escaped.pem").exists() and not list((principals / "keys").glob("hank*"))
