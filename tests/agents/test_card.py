"""Agent cards and team files are validated once, when loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.agents.card import load_team
from switchboard.errors import ConfigError


def test_shipped_retail_team_has_the_five_agents() -> None:
    team = load_team("retail")
    assert team.names == ("customer_service", "logistics", "inventory", "finance", "finance_backup", "analytics")
    assert team.card("finance").fallbacks["process_return"] == ("finance_backup",)
    assert all(card.tools for card in team.agents)


def test_connections_expand_variables_and_python() -> None:
    team = load_team("retail")
    conn = team.connections({"SWITCHBOARD_RETAIL_DB": "/tmp/x.sqlite"})["retail"]
    assert conn["args"][-1] == "/tmp/x.sqlite"
    assert conn["command"].endswith(("python", "python3")) or "python" in conn["command"]


def test_missing_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_RETAIL_DB", raising=False)
    with pytest.raises(ConfigError, match="SWITCHBOARD_RETAIL_DB is not set"):
        load_team("retail").connections()


def test_duplicate_agent_names_are_refused(tmp_path: Path) -> None:
    card = "  - name: a\n    description: d\n    skills: [{id: s, description: d}]\n"
    file = tmp_path / "team.yaml"
    file.write_text("name: t\nagents:\n" + card + card)
    with pytest.raises(ConfigError, match="defined twice"):
        load_team(file)


def test_reserved_agent_name_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "team.yaml"
    file.write_text(
        "name: t\nagents:\n  - name: supervisor\n    description: d\n    skills: [{id: s, description: d}]\n"
    )
    with pytest.raises(ConfigError, match="lower_snake_case and not one of"):
        load_team(file)


def test_unknown_team_lists_shipped_teams() -> None:
    with pytest.raises(ConfigError, match="shipped teams: retail"):
        load_team("nope")
