"""Routing at catalogue scale: 50 and 500 generated agent cards.

The routing prompt must grow with the shortlist, not with the catalogue, and
the shortlist must still hold the right agent. The cards come from
``agents.synthetic``, so every number here can be replayed exactly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.card import Team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.synthetic import synthetic_task, synthetic_team
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph.routing import Offer, Router
from switchboard.policies import PolicyFile
from switchboard.policies.model import RoutingPolicy
from switchboard.testing import ScriptedChatModel, finish, handoff, route

K = RoutingPolicy().shortlist
POLICY = PolicyFile(name="scale")
CONFIG: Any = {"configurable": {"thread_id": "scale"}}
_AGENTS_BLOCK = re.compile(r"<agents>\n(.*?)\n</agents>", re.DOTALL)


@pytest.fixture(scope="module", params=[50, 500], ids=lambda n: f"{n}-agents")
def team(request: pytest.FixtureRequest) -> Team:
    return synthetic_team(request.param)


def _router(team: Team, model: ScriptedChatModel | None = None) -> Router:
    return Router(team, model or ScriptedChatModel(steps=[]), POLICY)


def _expected(router: Router, task: str) -> set[str]:
    """The top k by capability."""
    return {card.name for card, _ in router.rank(task)[:K]}


def test_offer_is_the_top_k(team: Team) -> None:
    router = _router(team)
    for index in range(25):
        task, _ = synthetic_task(team, index)
        offer = router.offer(task)
        assert set(offer.names) == _expected(router, task)
        assert len(offer.cards) == K
        assert len(team.agents) > 2 * K  # so the catalogue really was cut down


def test_an_unavailable_agent_is_swapped_for_its_fallback(team: Team) -> None:
    health = HealthRegistry(failure_threshold=1)
    router = Router(team, ScriptedChatModel(steps=[]), PolicyFile(name="x"), health)
    task, _ = synthetic_task(team, 0)
    top = next(card for card, _ in router.rank(task)[:K] if card.fallbacks)
    health.record(top.name, ok=False)
    offer = router.offer(task)
    fallbacks = {n for names in top.fallbacks.values() for n in names}
    assert top.name not in offer.names and "circuit open" in offer.unavailable[top.name]
    assert fallbacks <= set(offer.names)


async def test_the_prompt_shows_only_the_offer(team: Team) -> None:
    model = ScriptedChatModel(steps=[finish()] * 5)
    router = _router(team, model)
    for index in range(5):
        task, _ = synthetic_task(team, index)
        result = await router.decide(task, [], {})
        prompt = model.calls[index].messages[-1].content
        match = _AGENTS_BLOCK.search(str(prompt))
        assert match is not None
        shown = [card["name"] for card in json.loads(match.group(1))]
        assert shown == list(result.offer.names) and len(shown) <= 2 * K
    model.assert_complete()


def test_shortlist_is_deterministic(team: Team) -> None:
    again = synthetic_team(len(team.agents))
    assert again == team
    first, second = _router(team), _router(again)
    for index in range(25):
        task, _ = synthetic_task(team, index)
        offers: list[Offer] = [first.offer(task), first.offer(task), second.offer(task)]
        assert len({offer.names for offer in offers}) == 1
        assert len({offer.shortlist for offer in offers}) == 1


def test_source_card_is_shortlisted_for_most_tasks(team: Team) -> None:
    router = _router(team)
    tasks = [synthetic_task(team, index) for index in range(100)]
    hits = sum(agent in router.offer(task).names for task, agent in tasks)
    top1 = sum(router.rank(task)[0][0].name == agent for task, agent in tasks)
    rate = hits / len(tasks)
    print(
        f"\n{len(team.agents)} agents: source card shortlisted for {rate:.0%} of "
        f"{len(tasks)} tasks (ranked first for {top1 / len(tasks):.0%})"
    )
    assert rate >= 0.9


def test_graph_builds_for_500_cards() -> None:
    team = synthetic_team(500)
    graph = build_graph(team=team, model=ScriptedChatModel(steps=[]), policy=PolicyFile(name="x"))
    assert set(team.names) | {"supervisor", "escalate", "finalize"} <= set(graph.nodes)


async def test_a_routed_step_through_500_agents(tmp_path: Path) -> None:
    team = synthetic_team(500)
    task, agent = synthetic_task(team, 7)
    skill = team.card(agent).skills[0].id
    model = ScriptedChatModel(
        steps=[route(agent, task, skill=skill), finish("handled")],
        agents={agent: [handoff("Handled.", ticket="T-1")]},
    )
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(team=team, model=model, policy=POLICY, checkpointer=saver)
        await graph.ainvoke({"task": task}, CONFIG)
        state = await graph.aget_state(CONFIG)
    model.assert_complete()
    trail = state.values["trail"]
    assert [e["kind"] for e in trail] == ["decision", "handoff", "decision", "report"]
    assert trail[0]["agent"] == agent and agent in trail[0]["shortlist"]
    assert len(trail[0]["shortlist"]) <= 2 * K
    assert trail[1]["agent"] == agent and trail[1]["status"] == "done"
    assert state.values["outcome"] == "resolved" and state.values["context"] == {"ticket": "T-1"}
