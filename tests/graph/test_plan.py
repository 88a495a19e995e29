"""The plan-aware supervisor: a held plan needs no model call, a deviation re-asks the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.card import Team, load_team
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.testing import ScriptedChatModel, call, escalate, fail, finish, handoff, route

CONFIG: Any = {"configurable": {"thread_id": "t"}}

TEAM = """
name: desk
agents:
  - name: alpha
    description: Answers questions about apples.
    skills: [{id: apples, description: Everything about apples.}]
    fallbacks: {apples: [alpha_backup]}
  - name: alpha_backup
    description: Answers questions about apples when alpha cannot.
    skills: [{id: apples, description: Everything about apples.}]
  - name: beta
    description: Answers questions about bananas.
    skills: [{id: bananas, description: Everything about bananas.}]
"""

PLAN = [("beta", "bananas", "Count the bananas"), ("alpha", "apples", "Sum up")]


@pytest.fixture
def team(tmp_path: Path) -> Team:
    file = tmp_path / "desk.yaml"
    file.write_text(TEAM)
    return load_team(file)


async def _run(team: Team, tmp_path: Path, model: ScriptedChatModel) -> Any:
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(team=team, model=model, checkpointer=saver)
        await graph.ainvoke({"task": "apples and bananas"}, CONFIG)
        return (await graph.aget_state(CONFIG)).values


def _supervisor_calls(model: ScriptedChatModel) -> int:
    return sum(1 for c in model.calls if c.agent is None)


def _sources(values: Any) -> list[str]:
    return [d["source"] for d in query.decisions(values["trail"])]


async def test_a_plan_that_holds_takes_two_supervisor_calls(team: Team, tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("alpha", "Count the apples", skill="apples", plan=PLAN), finish("all counted")],
        agents={
            "alpha": [handoff("3 apples", apples=3), handoff("3 apples, 5 bananas")],
            "beta": [handoff("5 bananas", bananas=5)],
        },
    )
    values = await _run(team, tmp_path, model)
    model.assert_complete()
    assert _supervisor_calls(model) == 2
    assert _sources(values) == ["model", "plan", "plan", "model"]
    planned = query.decisions(values["trail"])[1:3]
    assert [(d["agent"], d["skill"], d["instruction"]) for d in planned] == PLAN
    assert [len(d["plan"]) for d in query.decisions(values["trail"])] == [2, 1, 0, 0]
    assert [h["agent"] for h in query.handoffs(values["trail"])] == ["alpha", "beta", "alpha"]
    assert values["outcome"] == "resolved"


async def test_a_failed_step_sends_the_run_back_to_the_model(team: Team, tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("alpha", "Count the apples", skill="apples", plan=PLAN), escalate("alpha failed; what now?")],
        agents={"alpha": [handoff("No apples here.", status="failed")]},
    )
    values = await _run(team, tmp_path, model)
    model.assert_complete()
    assert _sources(values) == ["model", "model"]
    assert "No apples here." in model.calls[-1].text  # the model saw the failure


async def test_a_low_confidence_handoff_sends_the_run_back_to_the_model(team: Team, tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("alpha", "Count the apples", skill="apples", plan=PLAN), finish("enough")],
        agents={"alpha": [handoff("Maybe 3 apples?", confidence=0.3, apples=3)]},
    )
    values = await _run(team, tmp_path, model)
    model.assert_complete()
    assert _sources(values) == ["model", "model"]
    assert _supervisor_calls(model) == 2


async def test_a_handoff_that_states_no_confidence_sends_the_run_back_to_the_model(team: Team, tmp_path: Path) -> None:
    """Unstated confidence read as 0.8, and the plan went on as if the agent were sure (outside review)."""
    model = ScriptedChatModel(
        steps=[route("alpha", "Count the apples", skill="apples", plan=PLAN), finish("enough")],
        agents={"alpha": [call("handoff", status="done", summary="3 apples")]},
    )
    values = await _run(team, tmp_path, model)
    model.assert_complete()
    assert _sources(values) == ["model", "model"]


async def test_a_new_value_for_a_fact_the_plan_quotes_sends_the_run_back_to_the_model(
    team: Team, tmp_path: Path
) -> None:
    plan = [("beta", "bananas", "Count the bananas next to order A-17"), ("alpha", "apples", "Sum up order A-17")]
    model = ScriptedChatModel(
        steps=[route("alpha", "Find the order", skill="apples", plan=plan), finish("wrong order")],
        agents={"alpha": [handoff("order A-17", order="A-17")], "beta": [handoff("It is order B-2", order="B-2")]},
    )
    values = await _run(team, tmp_path, model)
    model.assert_complete()
    assert _sources(values) == ["model", "plan", "model"]


async def test_a_state_that_moves_on_is_progress_not_news(team: Team, tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("alpha", "Pick the apples", skill="apples", plan=PLAN), finish("done")],
        agents={
            "alpha": [handoff("picked", basket="picked"), handoff("summed", basket="summed")],
            "beta": [handoff("counted", basket="counted")],
        },
    )
    values = await _run(team, tmp_path, model)
    model.assert_complete()
    assert _sources(values) == ["model", "plan", "plan", "model"]


async def test_an_unable_agent_is_reassigned_and_then_the_model_decides(team: Team, tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("alpha", "Count the apples", skill="apples", plan=PLAN), finish("backup did it")],
        agents={"alpha": [fail("provider down")], "alpha_backup": [handoff("3 apples", apples=3)]},
    )
    values = await _run(team, tmp_path, model)
    model.assert_complete()
    assert _sources(values) == ["model", "reassign", "model"]


async def test_a_plan_step_no_agent_can_take_is_cut_off(team: Team, tmp_path: Path) -> None:
    plan = [("beta", "bananas", "Count the bananas"), ("gamma", None, "Count the cherries")]
    model = ScriptedChatModel(
        steps=[route("alpha", "Count the apples", skill="apples", plan=plan), finish("no cherries")],
        agents={"alpha": [handoff("3 apples", apples=3)], "beta": [handoff("5 bananas", bananas=5)]},
    )
    values = await _run(team, tmp_path, model)
    model.assert_complete()
    assert _sources(values) == ["model", "plan", "model"]
    assert [len(d["plan"]) for d in query.decisions(values["trail"])][:2] == [1, 0]


def test_the_decision_schema_is_generated_once_per_offer() -> None:
    from switchboard.graph.decision import decision_schema

    schema = decision_schema(("alpha", "beta"))
    first = schema.model_json_schema()
    first["properties"].clear()  # a caller editing its copy changes nothing for the next one
    again = schema.model_json_schema()
    assert again["properties"]["agent"]["enum"] == ["alpha", "beta"]  # compact: no anyOf-null (issue 8)
    assert "plan" in again["properties"]
