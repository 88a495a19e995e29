"""The team file is parsed once per version of the file, not once per run (issue 8)."""

from __future__ import annotations

import os
from pathlib import Path

from switchboard.agents.card import load_team

TEAM = "name: desk\nagents:\n  - name: alpha\n    description: {what}\n    skills: [{{id: a, description: A.}}]\n"


def test_an_unchanged_file_is_parsed_once_and_an_edit_is_seen(tmp_path: Path) -> None:
    file = tmp_path / "desk.yaml"
    file.write_text(TEAM.format(what="Apples."))
    first = load_team(file)
    assert load_team(str(file)) is first  # same file, same version: the parsed team is reused
    file.write_text(TEAM.format(what="Apples and pears."))
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a clock too coarse must not hide the edit
    edited = load_team(file)
    assert edited is not first and edited.agents[0].description == "Apples and pears."
