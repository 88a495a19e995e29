"""The seed's example, run as it describes.

"When a logistics agent reports that a shipment is delayed, the orchestrator
needs to know that the customer notification agent should be triggered
immediately, but the billing adjustment agent should wait until the new
delivery date is confirmed."
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchboard.graph.workflows import StepRequest, compile_workflow, load_workflow, outcome_of
from switchboard.graph.workflows.compile import BEGIN

from .workflow_kit import Desk, assert_dependencies_respected, wait_for

SEED = Path(__file__).parent / "workflows" / "delayed_shipment.yaml"
AGENTS = ("logistics", "customer_service", "finance")


async def test_a_delay_notifies_at_once_and_billing_waits_for_the_confirmed_date() -> None:
    workflow = load_workflow(SEED)
    desk = Desk(
        facts={
            "check_shipment": {"shipment_delayed": True, "order_id": "#W1"},
            "confirm_delivery_date": {"new_delivery_date": "2026-12-09"},
        }
    )
    seen_by_billing: list[bool] = []

    async def confirm(request: StepRequest) -> None:
        # The date confirmation cannot finish until the notice has gone out. If
        # the notice waited for the confirmation, this would time out and fail.
        await wait_for(desk, "end", "notify_customer")(request)

    async def billing(request: StepRequest) -> None:
        seen_by_billing.append(desk.event("end", "confirm_delivery_date").is_set())

    desk.holds = {
        "notify_customer": wait_for(desk, "start", "confirm_delivery_date"),  # both are in flight at once
        "confirm_delivery_date": confirm,
        "adjust_billing": billing,
    }
    graph = compile_workflow(workflow, desk.runners(AGENTS))

    final = await graph.ainvoke({"task": "Order #W1 is late."})

    outcome = outcome_of(workflow, final)
    assert outcome.status == "completed" and not outcome.fallback
    assert dict(outcome.steps) == dict.fromkeys(
        ["check_shipment", "notify_customer", "confirm_delivery_date", "adjust_billing"], "done"
    )
    assert desk.counts == dict.fromkeys(outcome.steps, 1)
    # Notification: started right after the check, and out before the date was confirmed.
    assert desk.at("start", "notify_customer") < desk.at("end", "confirm_delivery_date")
    assert desk.at("end", "notify_customer") < desk.at("end", "confirm_delivery_date")
    # Billing: started only once the new date was confirmed, and was given it.
    assert seen_by_billing == [True]
    assert desk.at("end", "confirm_delivery_date") < desk.at("start", "adjust_billing")
    billing_request = next(r for r in desk.requests if r.step == "adjust_billing")
    assert billing_request.context["new_delivery_date"] == "2026-12-09"
    assert billing_request.agent == "finance"
    assert_dependencies_respected(workflow, desk)


async def test_the_date_is_confirmed_while_the_notice_is_still_going_out() -> None:
    """Billing depends on the confirmation only: the notice is not one of its needs.

    LangGraph runs in supersteps, so billing still starts at the boundary after
    both parallel steps, which the README states.
    """
    workflow = load_workflow(SEED)
    assert workflow.step("adjust_billing").needs == ("confirm_delivery_date",)
    desk = Desk(facts={"check_shipment": {"shipment_delayed": True}})
    release = asyncio.Event()

    async def slow_notice(request: StepRequest) -> None:
        await asyncio.wait_for(release.wait(), 10)

    async def confirm(request: StepRequest) -> None:
        release.set()  # the notice is still in flight while the date is confirmed

    desk.holds = {"notify_customer": slow_notice, "confirm_delivery_date": confirm}
    final = await compile_workflow(workflow, desk.runners(AGENTS)).ainvoke({"task": "late"})
    assert outcome_of(workflow, final).status == "completed"
    assert desk.at("end", "confirm_delivery_date") < desk.at("end", "notify_customer")
    assert desk.at("end", "confirm_delivery_date") < desk.at("start", "adjust_billing")


async def test_no_delay_means_nothing_else_runs() -> None:
    workflow = load_workflow(SEED)
    desk = Desk(facts={"check_shipment": {"shipment_delayed": False}})
    final = await compile_workflow(workflow, desk.runners(AGENTS)).ainvoke({"task": "Is #W1 on time?"})
    outcome = outcome_of(workflow, final)
    assert desk.ran == ["check_shipment"]
    assert outcome.status == "completed"
    assert outcome.steps["adjust_billing"] == "skipped" and outcome.steps["notify_customer"] == "skipped"


def test_the_graph_is_langgraphs_own_structure() -> None:
    """Steps are nodes; the branch is a conditional edge; no scheduler node exists (one node names the run)."""
    workflow = load_workflow(SEED)
    graph = compile_workflow(workflow, Desk().runners(AGENTS)).get_graph()
    assert set(graph.nodes) == {"__start__", "__end__", BEGIN, *(s.id for s in workflow.steps)}
    edges = {(e.source, e.target, e.conditional) for e in graph.edges}
    assert ("check_shipment", "notify_customer", True) in edges
    assert ("check_shipment", "confirm_delivery_date", True) in edges
    assert ("confirm_delivery_date", "adjust_billing", True) in edges
    assert not any(s == "notify_customer" and t == "adjust_billing" for s, t, _ in edges)
