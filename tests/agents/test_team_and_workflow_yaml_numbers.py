"""Team and workflow files read numbers as YAML 1.2 does, as policy files already did.

YAML 1.1 (what ``yaml.safe_load`` implements) reads a plain ``2:00`` as the
base-60 integer 120: ``timeout_s: 2:00`` in a team file gave an agent two
minutes when its author meant two hours or two o'clock, and said nothing;
a step told ``instruction: 10:30`` was refused for holding the number 630.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.agents.card import load_team
from switchboard.errors import ConfigError
from switchboard.graph.workflows import load_workflow

TEAM = """\
name: clocks
agents:
  - name: desk
    description: Answers parcel questions.
    timeout_s: {timeout}
    skills:
      - id: track
        description: Track a parcel.
        examples: [10:30, Where is parcel 7?]
"""


def test_a_clock_written_timeout_is_refused_not_read_as_base_60_seconds(tmp_path: Path) -> None:
    file = tmp_path / "team.yaml"
    file.write_text(TEAM.format(timeout="2:00"))
    with pytest.raises(ConfigError) as caught:
        load_team(file)
    assert "timeout_s" in str(caught.value) and "2:00" in str(caught.value)


def test_plain_seconds_and_clock_text_in_a_team_still_load(tmp_path: Path) -> None:
    file = tmp_path / "team.yaml"
    file.write_text(TEAM.format(timeout="90"))
    desk = load_team(file).agents[0]
    assert desk.timeout_s == 90
    assert desk.skills[0].examples[0] == "10:30"


def test_a_workflow_step_told_a_clock_time_reads_it_as_text(tmp_path: Path) -> None:
    file = tmp_path / "flow.yaml"
    file.write_text("name: call_back\nsteps:\n  - {id: call, agent: desk, instruction: 10:30}\n")
    assert load_workflow(file).steps[0].instruction == "10:30"

