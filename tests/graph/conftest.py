"""A tool-free team, for testing the supervisor's own logic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.card import Team, load_team
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.testing import ScriptedChatModel

TEAM = """
name: desk
agents:
  - name: alpha
    description: Answers questions about apples.
    skills: [{id: apples, description: Everything about apples.}]
  - name: beta
    description: Answers questions about bananas.
    skills: [{id: bananas, description: Everything about bananas.}]
"""


@pytest.fixture
def desk(tmp_path: Path) -> Team:
    file = tmp_path / "desk.yaml"
    file.write_text(TEAM)
    return load_team(file)


GraphFactory = Callable[..., Any]


@pytest.fixture
async def desk_graph(desk: Team, tmp_path: Path) -> AsyncIterator[GraphFactory]:
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:

        def make(model: ScriptedChatModel, **kwargs: Any) -> Any:
            return build_graph(team=desk, model=model, checkpointer=saver, **kwargs)

        yield make
