"""A step is shown its skill's tools minus the lookups its context makes needless (issue 8).

Skills declare ``lookups``: tools that only find facts (``finds``). Once an
earlier step has handed those facts over, a step is not shown them; nor are a
step's later turns, for lookups marked ``in_step``, once its own calls have
found them. ``ask_customer`` is
shown to a skill that lists its tools only if it names it. The run
is real (retail MCP server over stdio, SQLite-free in-memory checkpoints);
only the model is scripted, and it records the tools bound to each call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from switchboard.agents.card import ASK_TOOL, AgentCard, Lookup, Skill, Team, load_team
from switchboard.agents.spec import AgentSpec
from switchboard.agents.toolbox import Toolbox
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

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


def test_a_lookup_finds_a_fact_in_a_record_or_a_single_value_never_in_a_list_or_the_customers_answer() -> None:
    one = Lookup(finds=("user_id",), tools=("find", ASK_TOOL))
    two = Lookup(finds=("user_id", "order_id"), tools=("find", "read"))
    assert one.found_by("find", "mia_chen_4817") == ("user_id",)  # a bare id, as MCP text
    assert one.found_by("find", '"mia_chen_4817"') == ("user_id",)  # or as JSON
    assert one.found_by("find", '["mia_chen_4817", "mia_chen_2"]') == ()  # several matches are not one answer
    assert one.found_by("find", "  ") == ()
    assert one.found_by("find", "true") == ()
    assert one.found_by("find", "Error: user not found") == ()  # a miss reported as text is not an id
    assert one.found_by("find", "No user has that email; try the name and zip.") == ()
    assert one.found_by(ASK_TOOL, '{"user_id": "someone_else"}') == ()  # a claim, not a found fact
    assert one.found_by("read", "mia_chen_4817") == ()  # not this lookup's tool
    assert two.found_by("read", '{"order_id": "#W1", "user_id": ""}') == ("order_id",)  # an empty value finds nothing
    assert two.found_by("find", "mia_chen_4817") == ()  # one value cannot be two facts


def test_only_in_step_lookups_leave_once_the_steps_own_calls_found_their_facts() -> None:
    """A record reader in a lookup is also how a step reads what it needs next, or scans for the right record."""
    reader = _card(tools=("find", "read", "write"), lookups=(Lookup(finds=("user_id",), tools=("find", "read")),))
    search = _card(
        tools=("find", "read", "write"), lookups=(Lookup(finds=("user_id",), tools=("find",), in_step=True),)
    )
    assert reader.found_in("act", [("find", "mia_chen_4817")]) == set()
    assert reader.tools_of("act", found={"user_id"}) == ("find", "read", "write")
    assert reader.tools_of("act", known={"user_id"}) == ("write",)  # handed over: every lookup leaves
    assert search.found_in("act", [("find", "mia_chen_4817")]) == {"user_id"}
    assert search.tools_of("act", found={"user_id"}) == ("read", "write")


def test_a_skill_shows_ask_customer_only_if_it_names_it() -> None:
    listed = _card(tools=("read", ASK_TOOL), lookups=(Lookup(finds=("order_id",), tools=("read", ASK_TOOL)),))
    assert listed.tools_of("act") == ("read", ASK_TOOL)
    assert listed.tools_of("act", known={"order_id"}) == ()  # a step that knows what the task is about need not ask
    assert _card(tools=("read",)).tools_of("act") == ("read",)
    assert _card().tools_of("act") == ("find", "read", "write", ASK_TOOL)  # no list: the whole card, and asking


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
    assert set(finance.tools) >= {*LOOKUPS, ASK_TOOL}  # nothing known yet: the step may have to find or ask
    assert not {*LOOKUPS, ASK_TOOL} & set(logistics.tools)  # user_id and order_id were handed over
    assert {"get_order_details", "schedule_return_pickup", "handoff"} <= set(logistics.tools)


FIND = {"find_user_id_by_email", "find_user_id_by_name_zip"}


async def test_a_steps_later_turns_are_not_shown_the_lookups_its_own_calls_answered(retail_db: Path) -> None:
    team: Team = load_team()
    model = ScriptedChatModel(
        steps=[route("finance", "Quote the return of the yoga mat of #W0372018.", skill="process_return"), finish()],
        agents={
            "finance": [
                call("find_user_id_by_email", email="nobody@example.com"),  # fails: the user is still unknown
                call("find_user_id_by_email", email="mia.chen@example.com"),
                call("get_order_details", order_id="#W0372018"),
                handoff("Found the customer and the order.", user_id="mia_chen_4817"),
            ]
        },
    )
    async with Toolbox.for_team(team) as toolbox:
        graph = build_graph(
            team=team, model=model, toolbox=toolbox, policy=PolicyFile(name="t"), checkpointer=InMemorySaver()
        )
        await graph.ainvoke({"task": "Return the yoga mat."}, {"configurable": {"thread_id": "in-step"}})
    model.assert_complete()
    turns = [set(c.tools) for c in model.calls if c.agent == "finance"]
    assert [shown >= FIND for shown in turns] == [True, True, False, False]
    assert all({"get_order_details", "get_user_details", ASK_TOOL} <= shown for shown in turns)


def restock(item: str, count: int) -> str:
    """Put count units of item back into stock."""
    return "ok"


async def test_a_step_not_shown_ask_customer_cannot_pause_the_thread_with_it() -> None:
    """Hidden from a back-office step, ``ask_customer`` still paused the thread when the model called it anyway."""
    skills = (Skill(id="restock", description="Put items back into stock.", tools=("restock",)),)
    spec = AgentSpec(name="stock", description="The stock room.", tools=[restock], skills=skills)
    model = ScriptedChatModel(
        steps=[route("stock", "Restock one mug", skill="restock"), finish()],
        agents={"stock": [call(ASK_TOOL, question="What is your card number?"), handoff("Done.")]},
    )
    graph = build_graph([spec], model=model, checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "hidden-ask"}}
    out = await graph.ainvoke({"task": "Restock one mug."}, config)
    model.assert_complete()
    assert ASK_TOOL not in model.calls[1].tools
    assert not [i for task in (await graph.aget_state(config, subgraphs=True)).tasks for i in task.interrupts]
    (step,) = [h for h in out["trail"] if h["kind"] == "handoff"]
    assert [(c["tool"], c["outcome"]) for c in step["tool_calls"]] == [(ASK_TOOL, "refused")]
