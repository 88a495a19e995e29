"""The shipped retail workflows: shape, parallel steps, order, compensation, fallback."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from switchboard.agents.card import Team, load_team
from switchboard.agents.records import ToolCallRecord
from switchboard.graph.state import AgentInput, Assignment
from switchboard.graph.workflows import (
    StepOutcome,
    StepRequest,
    Workflow,
    compile_workflow,
    load_workflow,
    outcome_of,
    workflow_node,
)

from .workflow_kit import Desk, assert_dependencies_respected, wait_for

RETURN_FACTS = {
    "identify": {"user_id": "mia_chen_1", "order_id": "#W1", "item_ids": ["i1"]},
    "request_return": {"payment_method_id": "card_1"},
}


def record(tool: str, **args: Any) -> ToolCallRecord:
    return ToolCallRecord(tool=tool, args=args, outcome="ok", result="{}", policy=None)


EARLIER = record("find_user_id_by_email", email="mia.chen@example.com")
"""A tool call the thread made before the workflow started."""


@pytest.fixture(scope="module")
def team() -> Team:
    return load_team()


@pytest.fixture(scope="module")
def returns() -> Workflow:
    return load_workflow("retail_return")


@pytest.fixture(scope="module")
def change() -> Workflow:
    return load_workflow("retail_order_change")


def test_both_shipped_workflows_compile_against_the_retail_team(
    team: Team, returns: Workflow, change: Workflow
) -> None:
    for workflow in (returns, change):
        assert workflow.team == team.name
        graph = compile_workflow(workflow, Desk().runners(team.names), team=team).get_graph()
        assert {s.id for s in workflow.steps} <= set(graph.nodes)
    edges = {
        (e.source, e.target, e.conditional)
        for e in compile_workflow(returns, Desk().runners(team.names)).get_graph().edges
    }
    # notify needs two steps: a barrier join, then its own conditional edge.
    assert ("refund", "join__notify", False) in edges and ("record_reason", "join__notify", False) in edges
    assert ("join__notify", "notify", True) in edges
    # Compensations run newest first, then the graph ends.
    assert ("undo__receive", "undo__request_return", False) in edges
    assert ("undo__request_return", "__end__", False) in edges


async def test_the_return_runs_every_step_once_in_dependency_order(team: Team, returns: Workflow) -> None:
    desk = Desk(facts=RETURN_FACTS)
    final = await compile_workflow(returns, desk.runners(team.names), team=team).ainvoke({"task": "return it"})
    outcome = outcome_of(returns, final)
    assert outcome.status == "completed"
    assert desk.counts == dict.fromkeys([s.id for s in returns.steps], 1)
    assert_dependencies_respected(returns, desk)
    refund = next(r for r in desk.requests if r.step == "refund")
    assert (refund.agent, refund.skill, refund.context["payment_method_id"]) == ("finance", "issue_refund", "card_1")
    assert [e["assignment"] for e in final["trail"]][:2] == ["retail_return.identify", "retail_return.request_return"]


async def test_independent_steps_start_together_with_send(team: Team, returns: Workflow) -> None:
    desk = Desk(facts=RETURN_FACTS)
    # Each waits until the other has started: run one after the other, they would time out.
    desk.holds = {
        "pickup": wait_for(desk, "start", "record_reason"),
        "record_reason": wait_for(desk, "start", "pickup"),
    }
    graph = compile_workflow(returns, desk.runners(team.names), team=team, checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "parallel"}}
    await graph.ainvoke({"task": "return it"}, config)
    assert outcome_of(returns, (await graph.aget_state(config)).values).status == "completed"
    # One superstep started both, each with its own Send (a PUSH task).
    supersteps = [sorted((t.name, t.path[0]) for t in s.tasks) async for s in graph.aget_state_history(config)]
    assert [("pickup", "__pregel_push"), ("record_reason", "__pregel_push")] in supersteps


async def test_a_failed_refund_compensates_newest_first_and_falls_back(team: Team, returns: Workflow) -> None:
    desk = Desk(facts=RETURN_FACTS, status={"refund": "failed"})
    final = await compile_workflow(returns, desk.runners(team.names), team=team).ainvoke({"task": "return it"})
    outcome = outcome_of(returns, final)
    assert outcome.status == "failed" and outcome.fallback
    assert outcome.failed_step == "refund"
    assert outcome.compensated == ("receive", "request_return")
    assert outcome.steps["notify"] == "skipped"
    assert "notify" not in desk.ran
    assert desk.ran[-2:] == ["receive.undo", "request_return.undo"]
    undo = next(r for r in desk.requests if r.step == "receive.undo")
    assert (undo.agent, undo.skill) == ("customer_service", "notify_customer")
    assert "Compensated: receive, request_return" in outcome.summary


async def test_an_exception_in_a_step_is_recorded_compensated_and_falls_back(team: Team, returns: Workflow) -> None:
    desk = Desk(facts=RETURN_FACTS, raises={"pickup": RuntimeError("courier API down")})
    final = await compile_workflow(returns, desk.runners(team.names), team=team).ainvoke({"task": "return it"})
    outcome = outcome_of(returns, final)
    assert outcome.status == "failed" and outcome.fallback and outcome.failed_step == "pickup"
    assert "RuntimeError: courier API down" in final["results"]["pickup"]["summary"]
    # record_reason ran beside pickup and finished; nothing after either started.
    assert outcome.steps["record_reason"] == "done"
    assert {"receive", "refund", "notify"}.isdisjoint(desk.ran)
    assert outcome.compensated == ("request_return",)


async def test_a_failing_compensation_is_reported_for_a_human(team: Team, returns: Workflow) -> None:
    desk = Desk(facts=RETURN_FACTS, status={"refund": "failed", "receive.undo": "failed"})
    final = await compile_workflow(returns, desk.runners(team.names), team=team).ainvoke({"task": "return it"})
    outcome = outcome_of(returns, final)
    assert outcome.uncompensated == ("receive",) and outcome.compensated == ("request_return",)
    assert "Compensation failed for: receive; a human must check them" in outcome.summary


async def test_a_handled_failure_lets_a_branch_take_over(team: Team) -> None:
    workflow = Workflow.model_validate(
        {
            "name": "handled",
            "steps": [
                {"id": "pickup", "agent": "logistics", "instruction": "i", "on_failure": "continue"},
                {"id": "after", "agent": "inventory", "instruction": "i", "needs": ["pickup"]},
                {
                    "id": "tell",
                    "agent": "customer_service",
                    "instruction": "i",
                    "needs": ["pickup"],
                    "when": {"step": "pickup", "status": "failed"},
                },
            ],
        }
    )
    desk = Desk(status={"pickup": "failed"})
    final = await compile_workflow(workflow, desk.runners(team.names)).ainvoke({"task": "t"})
    assert desk.ran == ["pickup", "tell"]
    assert outcome_of(workflow, final).status == "completed"


@pytest.mark.parametrize(
    ("found", "ran"),
    [
        ("done", ["identify", "check_variants", "change_items", "notify_changed"]),
        ("failed", ["identify", "check_variants", "notify_unavailable"]),
    ],
)
async def test_the_order_change_branches_on_availability(
    team: Team, change: Workflow, found: str, ran: list[str]
) -> None:
    desk = Desk(facts={"check_variants": {"new_item_ids": ["i9"]}}, status={"check_variants": found})
    final = await compile_workflow(change, desk.runners(team.names), team=team).ainvoke({"task": "size L"})
    assert desk.ran == ran
    outcome = outcome_of(change, final)
    assert outcome.status == "completed"  # an unavailable variant is handled by the workflow, not a fallback
    assert outcome.steps["check_variants"] == found


async def test_a_rejected_change_ends_as_rejected_not_as_a_fallback(team: Team, change: Workflow) -> None:
    desk = Desk(facts={"check_variants": {"new_item_ids": ["i9"]}}, status={"change_items": "rejected"})
    final = await compile_workflow(change, desk.runners(team.names), team=team).ainvoke({"task": "size L"})
    outcome = outcome_of(change, final)
    assert outcome.status == "rejected" and not outcome.fallback
    assert "notify_changed" not in desk.ran


def assignment(instruction: str = "Run the return.") -> AgentInput:
    return AgentInput(
        task="return it",
        context={"known": 1},
        history=[EARLIER],
        assignment=Assignment(id="a1", agent="workflow_retail_return", skill=None, instruction=instruction, tried=[]),
    )


async def test_as_a_supervisor_step_a_failure_hands_back_a_typed_fallback(team: Team, returns: Workflow) -> None:
    desk = Desk(facts=RETURN_FACTS, status={"receive": "failed"})
    node = workflow_node(returns, compile_workflow(returns, desk.runners(team.names), team=team))
    command = await node(assignment(), {})
    assert command.goto == "supervisor"
    trail = command.update["trail"]
    last = trail[-1]
    assert (last["kind"], last["agent"], last["assignment"]) == ("handoff", "workflow_retail_return", "a1")
    assert last["status"] == "failed" and last["retryable"] is False
    assert "stopped at step receive" in last["summary"]
    # Step handoffs are in the trail too, none of them for the supervisor to retry.
    steps = [e for e in trail[:-1] if e["kind"] == "handoff"]
    assert [e["assignment"] for e in steps][-1] == "a1.request_return.undo"  # keyed by this run, not the workflow
    assert all(e["retryable"] is False for e in steps)
    assert command.update["context"]["order_id"] == "#W1"


async def test_as_a_supervisor_step_a_completed_workflow_is_done(team: Team, returns: Workflow) -> None:
    desk = Desk(facts=RETURN_FACTS)
    node = workflow_node(returns, compile_workflow(returns, desk.runners(team.names), team=team))
    command = await node(assignment(), {})
    last = command.update["trail"][-1]
    assert last["status"] == "done" and last["confidence"] == 1.0
    identify = next(r for r in desk.requests if r.step == "identify")
    assert identify.context == {"known": 1} and identify.history == (EARLIER,)


async def test_as_a_supervisor_step_a_broken_workflow_still_reports_a_fallback(team: Team, returns: Workflow) -> None:
    async def broken(request: StepRequest, config: Any) -> StepOutcome:
        return None  # type: ignore[return-value]  # a runner that breaks its contract

    node = workflow_node(returns, compile_workflow(returns, dict.fromkeys(team.names, broken), team=team))
    command = await node(assignment(), {})
    (only,) = command.update["trail"]
    assert only["status"] == "failed" and only["retryable"] is False
    assert "broke off: AttributeError" in only["summary"]


async def test_each_step_sees_the_thread_history_and_the_earlier_steps_tool_calls(
    team: Team, returns: Workflow
) -> None:
    """The policy learns the customer and owners from the history, so a step must see what came before it."""
    looked_up = record("get_order_details", order_id="#W1")
    requested = record("return_delivered_order_items", order_id="#W1", item_ids=["i1"])
    desk = Desk(
        facts=RETURN_FACTS,
        status={"receive": "failed"},
        calls={"identify": [looked_up], "request_return": [requested]},
    )
    node = workflow_node(returns, compile_workflow(returns, desk.runners(team.names), team=team))
    await node(assignment(), {})
    seen = {r.step: r.history for r in desk.requests}
    assert seen["identify"] == (EARLIER,)
    assert seen["request_return"] == (EARLIER, looked_up)
    assert seen["receive"] == (EARLIER, looked_up, requested)
    assert seen["request_return.undo"] == (EARLIER, looked_up, requested)  # compensations see it all too
