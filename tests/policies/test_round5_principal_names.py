"""A principal name is the whole string, never a name plus a trailing newline (red team round 5, F5).

``re.match`` with a pattern ending in ``$`` also accepts a string that ends
in ``"\\n"``: ``"alice\\n"`` was a second, different principal that the trail,
``show`` and ``escalations`` print as plain ``alice``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from switchboard.cli import main
from switchboard.errors import ConfigError
from switchboard.policies.principals import Principal, load_registry, upsert_principal
from switchboard.settings import Settings

KEY = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="  # any 32 bytes, base64


@pytest.mark.parametrize("name", ["alice\n", "alice\r\n", "alice\n\n", "\nalice", "alice\nbob"])
def test_a_name_with_a_line_break_is_not_a_principal_name(name: str) -> None:
    with pytest.raises(ValidationError, match="principal name"):
        Principal(name=name, roles=("finance_manager",), public_key=KEY)


def test_upsert_refuses_a_trailing_newline_and_leaves_the_file_alone(tmp_path: Path) -> None:
    file = tmp_path / "principals.yaml"
    upsert_principal(file, "alice", ["finance_manager"], KEY)
    before = file.read_text()
    with pytest.raises(ConfigError, match="principal"):
        upsert_principal(file, "alice\n", ["finance_manager"], KEY)
    assert file.read_text() == before


def test_a_principals_file_naming_alice_newline_is_refused_with_its_line(tmp_path: Path) -> None:
    file = tmp_path / "principals.yaml"
    file.write_text(
        "roles: {finance_manager: money}\n"
        "principals:\n"
        f"  - {{name: alice, roles: [finance_manager], public_key: '{KEY}'}}\n"
        f"  - {{name: \"alice\\n\", roles: [finance_manager], public_key: '{KEY}'}}\n"
    )
    with pytest.raises(ConfigError, match=rf"{file}:4: principals\.1\.name"):
        load_registry([file])


def test_keygen_of_alice_newline_fails_and_lists_one_alice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["principals", "keygen", "alice", "--role", "finance_manager"]) == 0
    assert main(["principals", "keygen", "alice\n", "--role", "finance_manager"]) == 1
    capsys.readouterr()
    assert main(["principals", "list", "--json"]) == 0
    names = [p["name"] for p in json.loads(capsys.readouterr().out)["principals"]]
    assert names.count("alice") == 1 and "alice\n" not in names
    written = yaml.safe_load((Settings().data_dir / "principals.yaml").read_text())
    assert [p["name"] for p in written["principals"]] == ["alice"]
