"""Workflow files: what loads, what is refused (naming the file and the step), and conditions."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.agents.card import load_team
from switchboard.agents.records import HandoffEvent
from switchboard.errors import ConfigError
from switchboard.graph.workflows import Workflow, compile_workflow, load_workflow

from .workflow_kit import Desk

GOOD = """
name: shipping
steps:
  - {id: check, agent: logistics, instruction: Check the shipment.}
  - id: notify
    agent: support
    needs: [check]
    when: {step: check, fact: delayed, equals: true}
    instruction: Tell the customer.
"""


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "flow.yaml"
    file.write_text(text)
    return file


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_workflow(write(tmp_path, text))
    message = str(caught.value)
    assert str(tmp_path / "flow.yaml") in message
    return message


def test_a_valid_file_loads_with_its_steps_in_order(tmp_path: Path) -> None:
    workflow = load_workflow(write(tmp_path, GOOD))
    assert [s.id for s in workflow.steps] == ["check", "notify"]
    assert workflow.dependents("check") == (workflow.step("notify"),)
    assert workflow.node_name == "workflow_shipping"


@pytest.mark.parametrize(
    "when",
    [
        "{not: {step: a, status: failed}}",  # "unless a failed": holds whenever a finished done
        "{step: a, status: [done, failed]}",
        "{any: [{step: a, status: done}, {step: a, status: failed}]}",
    ],
)
def test_a_condition_that_can_still_hold_on_a_stop_step_loads(tmp_path: Path, when: str) -> None:
    file = tmp_path / "flow.yaml"
    file.write_text(
        "name: flow\nsteps:\n  - {id: a, agent: x, instruction: i}\n"
        f"  - {{id: b, agent: x, instruction: i, needs: [a], when: {when}}}\n"
    )
    assert load_workflow(file).step("b").when is not None


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            "- {id: a, agent: x, instruction: i, needs: [b]}\n  - {id: b, agent: x, instruction: i}",
            "'a' needs 'b', which is defined below it",
        ),
        ("- {id: a, agent: x, instruction: i, needs: [ghost]}", "'a' needs 'ghost', which does not exist"),
        ("- {id: a, agent: x, instruction: i}\n  - {id: a, agent: x, instruction: i}", "step 'a' is defined twice"),
        ("- {id: a, agent: x, instruction: i, needs: [a]}", "`needs` repeats a step or names the step itself"),
        ("- {id: a, instruction: i}", "step 'a': name an `agent`, a `skill`, or both"),
        (
            "- {id: a, agent: x, instruction: i}\n  - {id: b, agent: x, instruction: i}\n"
            "  - {id: c, agent: x, instruction: i, needs: [a], when: {step: b, status: done}}",
            "step 'c': its `when` reads ['b'], which it does not need",
        ),
        (
            "- {id: a, agent: x, instruction: i}\n  - {id: b, agent: x, instruction: i, needs: [a], when: {step: a}}",
            "step 'b', field when: a condition is a mapping with `status`, `fact`, `all`, `any` or `not`",
        ),
        (
            "- {id: a, agent: x, instruction: i}\n  - {id: b, agent: x, instruction: i, needs: [a],"
            " when: {step: a, fact: f, equals: 1, present: true}}",
            "needs exactly one of equals, not_equals, one_of, present",
        ),
        (
            "- {id: a, agent: x, instruction: i}\n  - {id: b, agent: x, instruction: i, needs: [a],"
            " when: {all: [{step: a, fact: f, present: true}, {step: a, status: [failed, rejected]}]}}",
            "step 'b': its `when` waits for 'a' to end failed or rejected, but a failure of 'a' stops the workflow",
        ),
        ("- {id: Bad-Id, agent: x, instruction: i}", "must be lower_snake_case"),
        ('- {id: "a\\n", agent: x, instruction: i}', "must be lower_snake_case"),  # a trailing newline passed `$`
        ("- {id: a, agent: x, instruction: i, on_failure: retry}", "step 'a', field on_failure"),
        ("- {id: a, agent: x, instruction: i, compensate: {agent: y}}", "step 'a', field compensate.instruction"),
    ],
)
def test_mistakes_are_refused_naming_the_file_and_the_step(tmp_path: Path, steps: str, expected: str) -> None:
    message = refused(tmp_path, f"name: flow\nsteps:\n  {steps}\n")
    assert expected in message


def test_a_missing_file_or_unknown_name_says_what_exists(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_workflow(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match=r"shipped workflows: .*retail_order_change, retail_return"):
        load_workflow("nope")


def test_compiling_checks_agents_and_skills_against_the_runners_and_the_team(tmp_path: Path) -> None:
    workflow = load_workflow(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"step 'notify' names agent 'support', which has no step runner"):
        compile_workflow(workflow, Desk().runners(["logistics"]))
    team = load_team()
    skill_only = Workflow.model_validate(
        {"name": "w", "steps": [{"id": "a", "skill": "restock_returns", "instruction": "i"}]}
    )
    with pytest.raises(
        ConfigError, match="names only skill 'restock_returns'; name an agent, or compile with the team"
    ):
        compile_workflow(skill_only, Desk().runners(team.names))
    graph = compile_workflow(skill_only, Desk().runners(team.names), team=team)
    assert "a" in graph.get_graph().nodes
    wrong = Workflow.model_validate(
        {"name": "w", "steps": [{"id": "a", "agent": "analytics", "skill": "issue_refund", "instruction": "i"}]}
    )
    with pytest.raises(ConfigError, match="agent 'analytics' of team 'retail' has no skill 'issue_refund'"):
        compile_workflow(wrong, Desk().runners(team.names), team=team)


def result(status: str = "done", **facts: object) -> HandoffEvent:
    return HandoffEvent(
        kind="handoff",
        agent="a",
        assignment="w.s",
        skill=None,
        instruction="",
        status=status,  # type: ignore[typeddict-item]
        retryable=False,
        summary="",
        facts=dict(facts),
        reasoning="",
        confidence=1.0,
        tool_calls=[],
    )


def condition(raw: dict[str, object]) -> object:
    workflow = Workflow.model_validate(
        {
            "name": "w",
            "steps": [
                {"id": "s", "agent": "a", "instruction": "i", "on_failure": "continue"},
                {"id": "t", "agent": "a", "instruction": "i", "needs": ["s"], "when": raw},
            ],
        }
    )
    return workflow.step("t").when


@pytest.mark.parametrize(
    ("raw", "results", "expected"),
    [
        ({"step": "s", "fact": "delayed", "equals": True}, {"s": result(delayed=True)}, True),
        ({"step": "s", "fact": "delayed", "equals": True}, {"s": result(delayed=False)}, False),
        ({"step": "s", "fact": "delayed", "equals": True}, {"s": result(delayed=1)}, False),
        ({"step": "s", "fact": "delayed", "equals": True}, {"s": result("failed", delayed=True)}, False),
        ({"step": "s", "fact": "delayed", "equals": True}, {}, False),
        ({"step": "s", "fact": "carrier", "one_of": ["ups", "dhl"]}, {"s": result(carrier="dhl")}, True),
        ({"step": "s", "fact": "carrier", "not_equals": "ups"}, {"s": result(carrier="ups")}, False),
        ({"step": "s", "fact": "eta", "present": False}, {"s": result()}, True),
        ({"step": "s", "status": ["failed", "rejected"]}, {"s": result("rejected")}, True),
        ({"step": "s", "status": "done"}, {"s": result("failed")}, False),
        ({"not": {"step": "s", "fact": "ok", "equals": True}}, {"s": result()}, True),
        ({"all": [{"step": "s", "status": "done"}, {"step": "s", "fact": "n", "equals": 2}]}, {"s": result(n=2)}, True),
        (
            {"any": [{"step": "s", "status": "failed"}, {"step": "s", "fact": "n", "equals": 3}]},
            {"s": result(n=2)},
            False,
        ),
    ],
)
def test_conditions_read_only_the_results_they_name(
    raw: dict[str, object], results: dict[str, HandoffEvent], expected: bool
) -> None:
    when = condition(raw)
    assert when.holds(results) is expected  # type: ignore[attr-defined]


def test_a_workflow_is_offered_to_routing_as_a_card_named_after_its_node() -> None:
    workflow = load_workflow("retail_return")
    card = workflow.card()
    assert card.name == workflow.node_name == "workflow_retail_return"
    assert card.has_skill("retail_return") and card.tools == ()
    assert card.skills[0].examples == workflow.examples and workflow.examples
    team = load_team()
    offered = team.model_copy(update={"agents": (*team.agents, card)})
    assert offered.offering("retail_return") == (card,)
