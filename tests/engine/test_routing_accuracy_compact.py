"""First-hop accuracy through the Router's own compact prompt (issue 8: compact routing context).

``test_routing_accuracy`` feeds the engine the full card views; a run sends
the compact prompt instead (skill ids on the cards, each skill once in
``<skills>``, examples only when the shortlist is ambiguous). The engine must
route as well from that, on the same labelled tasks.
"""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.agents.card import load_team
from switchboard.engine import EmbeddedChatModel
from switchboard.graph.routing import Router
from switchboard.models import resolve_model
from tests.engine.test_routing_accuracy import HOLDOUT, MIN_ACCURACY, MIN_HOLDOUT_ACCURACY, TASKS, _rows


async def _accuracy(rows: list[dict[str, Any]]) -> float:
    team = load_team()
    model = resolve_model("embedded", team)
    assert isinstance(model, EmbeddedChatModel)
    router = Router(team, model, team.load_policy(), retries=0, backoff=0.0)
    hits = 0
    for row in rows:
        result = await router.decide(row["task"], [], {})
        hits += result.decision.agent == row["agent"]
    return hits / len(rows)


@pytest.mark.parametrize(
    ("path", "floor"), [(TASKS, MIN_ACCURACY), (HOLDOUT, MIN_HOLDOUT_ACCURACY)], ids=["main", "holdout"]
)
async def test_compact_prompt_keeps_first_hop_accuracy(path: Any, floor: float) -> None:
    accuracy = await _accuracy(_rows(path))
    print(f"\n{path.name}: first-hop accuracy through the compact prompt {accuracy:.3f}")
    assert accuracy >= floor
