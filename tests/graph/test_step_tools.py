"""A step is shown its skill's tools minus the lookups its context makes needless (issue 8).

Skills declare ``lookups``: tools that only find facts (``finds``). Once an
earlier step has handed those facts over, a step is not shown them. The run
is real (retail MCP server over stdio, SQLite-free in-memory checkpoints);
only the model is scripted, and it records the tools bound to each call.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from switchboard.agents.card import AgentCard, Lookup, Skill, Team, load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, finish, handoff, route

LOOKUPS = {"find_user_id_by_email", "find_user_id_by_name_zip", "get_user_details"}


def _card(**skill: object) -> AgentCard:
    return AgentCard(
        name="desk",
        description="A desk.",
        tools=("find", "read", "write"),
        skills=(Skill(id="act", description="Act.", **skill),),  # type: ignore[arg-type]
    )


def test_lookups_are_hidden_only_once_every_fact_they_find_is_known() -> None:
    card = _card(tools=("find", "read", "write"), lookups=(Lookup(finds=("user_id", "order_id"), tools=("find",)),))
    assert card.tools_of("act") == ("find", "read", "write")
    assert card.tools_of("act", known={"user_id"}) == ("find", "read", "write")
    assert card.tools_of("act", known={"user_id", "order_id", "amount"}) == ("read", "write")


def test_a_lookup_of_a_tool_the_skill_does_not_show_is_refused() -> None:
    with pytest.raises(ValueError, match="lookups with tools it does not show: find"):
        _card(tools=("read", "write"), lookups=(Lookup(finds=("user_id",), tools=("find",)),))


def test_a_team_file_with_a_stray_lookup_fails_to_load(tmp_path: Path) -> None:
    file = tmp_path / "team.yaml"
    file.write_text(
        "name: t\nagents:\n  - name: desk\n    description: A desk.\n    tools: [read]\n    skills:\n"
        "      - id: act\n        description: Act.\n        lookups: [{finds: [user_id], tools: [find]}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="lookups"):
        load_team(file)


async def test_a_later_step_is_not_shown_the_lookups_for_facts_already_handed_over(retail_db: Path) -> None:
    team: Team = load_team()
    model = ScriptedChatModel(
        steps=[
            route(
                "finance",
                "Request the return of the yoga mat of order #W0372018 for mia.chen@example.com.",
                skill="process_return",
                plan=[("logistics", "schedule_pickup", "Schedule a pickup for order #W0372018.")],
            ),
            finish(),
        ],
        agents={
            "finance": [handoff("Return requested.", user_id="mia_chen_4817", order_id="#W0372018")],
            "logistics": [handoff("Pickup scheduled.", pickup_date="2026-12-02")],
        },
    )
    async with Toolbox.for_team(team) as toolbox:
        graph = build_graph(
            team=team, model=model, toolbox=toolbox, policy=PolicyFile(name="t"), checkpointer=InMemorySaver()
        )
        await graph.ainvoke({"task": "Return the yoga mat."}, {"configurable": {"thread_id": "lookups"}})
    model.assert_complete()
    finance, logistics = (next(c for c in model.calls if c.agent == name) for name in ("finance", "logistics"))
    assert set(finance.tools) >= LOOKUPS  # nothing known yet: the step may have to find the customer
    assert not LOOKUPS & set(logistics.tools)  # user_id and order_id were handed over
    assert {"get_order_details", "schedule_return_pickup", "ask_customer", "handoff"} <= set(logistics.tools)
