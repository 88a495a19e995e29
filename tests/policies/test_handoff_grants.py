"""Handoff grants on every path work takes between agents (issue 7: "which agents an agent may hand work to").

The shipped retail grants let inventory hand work to finance, analytics and
customer service, never to logistics. Each test routes work from inventory
to logistics by another path and checks that the graph refuses it, records
the refusal in the audit log, and leaves the thread paused on a question a
human can answer, with logistics never run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.card import load_team
from switchboard.checkpoints.audit import open_audit
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.graph.handoffs import refused_handoffs
from switchboard.graph.workflows import WORKFLOWS_DIR, load_workflow
from switchboard.runs import read_thread, resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish, handoff, route, route_many

pytestmark = pytest.mark.usefixtures("principals")


def _refusals(settings: Settings, thread: str) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in open_audit(settings.data_dir).entries(thread) if e.kind == "handoff_refused"]


async def _run(settings: Settings, model: ScriptedChatModel) -> Any:
    result = await start_run("Check stock of the espresso machine, then ship a replacement", settings=settings,
                             model=model)  # fmt: skip
    model.assert_complete()
    return result


async def test_routing_after_an_agents_findings_needs_its_handoff_grant(settings: Settings, retail_db: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("inventory", "check stock", skill="product_lookup"),
               route("logistics", "ship the replacement", skill="change_address")],
        agents={"inventory": [handoff("In stock.", sku="espresso")]},
    )  # fmt: skip
    paused = await _run(settings, model)
    assert paused.status == "paused" and paused.pending["kind"] == "escalation"
    assert "inventory's work cannot go to logistics" in paused.pending["question"]
    assert "may hand to: finance, finance_backup, analytics, customer_service" in paused.pending["question"]
    assert _refusals(settings, paused.thread_id) == [
        {"source": "inventory", "target": "logistics", "via": "routing", "reason": _refusals(settings,
         paused.thread_id)[0]["reason"]}
    ]  # fmt: skip
    thread = await read_thread(paused.thread_id, settings=settings)
    assert [h["agent"] for h in thread["trail"] if h["kind"] == "handoff"] == ["inventory"]  # logistics never ran
    # consistent: a human can end it cleanly
    done = await resume_run(paused.thread_id, approved=False, settings=settings, model=model)
    assert done.status == "completed" and done.outcome == "rejected"


async def test_a_parallel_fan_out_checks_every_step(settings: Settings, retail_db: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("inventory", "check stock", skill="product_lookup"),
               route_many(("analytics", "record why #W0000001 came back"), ("logistics", "track order #W0000002"))],
        agents={"inventory": [handoff("In stock.")]},
    )  # fmt: skip
    paused = await _run(settings, model)
    assert paused.status == "paused" and "cannot go to logistics" in paused.pending["question"]
    assert [(r["source"], r["target"]) for r in _refusals(settings, paused.thread_id)] == [("inventory", "logistics")]


async def test_a_human_may_still_send_the_work_on(settings: Settings, retail_db: Path) -> None:
    """The refusal is a stop for a human, not a dead end: after a signed "go on" the supervisor decides afresh."""
    model = ScriptedChatModel(
        steps=[route("inventory", "check stock", skill="product_lookup"),
               route("logistics", "ship the replacement", skill="change_address"),
               route("logistics", "ship the replacement", skill="change_address"), finish()],
        agents={"inventory": [handoff("In stock.")], "logistics": [handoff("Shipped.")]},
    )  # fmt: skip
    paused = await start_run("Check stock, then ship a replacement", settings=settings, model=model)
    done = await resume_run(paused.thread_id, approved=True, approver="bob", settings=settings, model=model)
    model.assert_complete()
    assert done.status == "completed" and done.outcome == "resolved" and done.agents == ["inventory", "logistics"]


def test_routing_into_a_workflow_checks_the_agents_it_enters_through() -> None:
    policy = load_team().load_policy()
    decision = {
        "kind": "decision",
        "action": "route",
        "source": "model",
        "assignments": [{"id": "b", "agent": "workflow_x", "skill": None, "instruction": "", "tried": []}],
    }
    trail = [{"kind": "decision", "action": "route", "source": "model",
              "assignments": [{"id": "a", "agent": "inventory", "skill": None, "instruction": "", "tried": []}]},
             {"kind": "handoff", "agent": "inventory", "assignment": "a", "status": "done"}]  # fmt: skip
    refused = refused_handoffs(policy, trail, [decision], {"workflow_x": ("logistics",)})  # type: ignore[arg-type]
    assert [(r.source, r.target) for r in refused] == [("inventory", "logistics")]
    assert refused_handoffs(policy, trail, [decision], {"workflow_x": ("finance",)}) == []  # type: ignore[arg-type]


def test_a_workflow_whose_steps_hand_work_without_a_grant_is_refused_at_build_time() -> None:
    team = load_team()
    policy = team.load_policy()
    grants = dict(policy.grants or {})
    grants["analytics"] = grants["analytics"].model_copy(update={"handoffs": ()})
    with pytest.raises(ConfigError, match=r"step 'notify' \(customer_service\) takes work from step 'record_reason'"):
        build_graph(team=team, policy=policy.model_copy(update={"grants": grants}), workflows=_shipped_workflows())


def test_the_shipped_workflows_are_within_the_grants() -> None:
    graph = build_graph(team=load_team(), workflows=_shipped_workflows())
    assert {"workflow_retail_return", "workflow_retail_order_change"} <= set(graph.nodes)


def _shipped_workflows() -> list[Any]:
    return [load_workflow(path) for path in sorted(WORKFLOWS_DIR.glob("retail_*.yaml"))]


def test_a_workflow_step_naming_no_agent_of_the_team_says_so_not_add_a_grant() -> None:
    """A misspelt agent read "add idenity to grants...handoffs" (outside review)."""
    from switchboard.graph.workflows import Workflow

    flow = Workflow.model_validate({"name": "onboard", "steps": [
        {"id": "identify", "agent": "finance", "instruction": "Identify the customer."},
        {"id": "pay", "agent": "finanse", "instruction": "Refund it.", "needs": ["identify"]},
    ]})  # fmt: skip
    with pytest.raises(ConfigError, match=r"step 'pay' names agent 'finanse', .*did you mean 'finance'\?") as caught:
        build_graph(team=load_team(), workflows=[flow])
    assert "grants" not in str(caught.value)
