"""The shipped retail workflows end to end: the embedded engine, the real retail MCP server, SQLite.

Nothing is scripted: each step runs the supervisor's own agent node (the
agent subgraph, the guard and the policy file) with the embedded engine
acting for the agent, over the real MCP server; the database is checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from switchboard.agents.card import load_team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.interrupts import Governance
from switchboard.agents.subgraph import build_agent_graph
from switchboard.agents.toolbox import Toolbox
from switchboard.domains.retail import RetailStore
from switchboard.graph.agent_node import agent_node
from switchboard.graph.workflows import Workflow, compile_workflow, from_agent_node, load_workflow, outcome_of
from switchboard.models import resolve_model
from switchboard.runs import prepare_team
from switchboard.testing import signed_answer

CONFIG: Any = {"configurable": {"thread_id": "return"}}


@asynccontextmanager
async def shipped(
    checkpoints: Path, name: str = "retail_return"
) -> AsyncIterator[tuple[Workflow, CompiledStateGraph[Any, Any, Any, Any]]]:
    team, workflow = load_team(), load_workflow(name)
    model, gov, health = resolve_model(None, team), Governance.of(team.load_policy()), HealthRegistry()
    async with (
        Toolbox.for_team(team, prepare_team(team)) as toolbox,
        AsyncSqliteSaver.from_conn_string(str(checkpoints)) as saver,
    ):
        runners = {
            card.name: from_agent_node(
                agent_node(card, build_agent_graph(card, model=model, toolbox=toolbox, gov=gov), health)
            )
            for card in team.agents
        }
        yield workflow, compile_workflow(workflow, runners, team=team, checkpointer=saver)


def task(order_id: str) -> str:
    return (
        f"Hi, this is Mia Chen (mia.chen@example.com). Everything in order {order_id} arrived damaged. "
        "I want to return it and get my money back."
    )


def check_returned(db: Path, order_id: str, user_id: str, notified_before: int) -> None:
    with RetailStore.open(db) as store:
        order = store.get_order(order_id)
        reason = store.get_return_reason(order_id)
        notified = len(store.notifications(user_id))
    assert order is not None and order["status"] == "returned"
    assert order["return_pickup"]["status"] == "received"
    refunds = [p for p in order["payment_history"] if p["transaction_type"] == "refund"]
    assert len(refunds) == 1
    assert reason is not None
    assert notified == notified_before + 1


async def test_the_return_workflow_runs_every_step_once_on_the_real_systems(
    retail_db: Path, tmp_path: Path, mia: Any
) -> None:
    order_id = mia.orders["delivered_under_500"]
    with RetailStore.open(retail_db) as store:
        user_id = store.get_order(order_id)["user_id"]  # type: ignore[index]
        before = len(store.notifications(user_id))
    async with shipped(tmp_path / "cp.sqlite") as (workflow, graph):
        final = await graph.ainvoke({"task": task(order_id)}, CONFIG)
    outcome = outcome_of(workflow, final)
    assert outcome.status == "completed", outcome.summary
    steps = Counter(h["assignment"] for h in final["trail"] if h["kind"] == "handoff")
    assert steps == Counter(f"retail_return.{s.id}" for s in workflow.steps)
    check_returned(retail_db, order_id, user_id, before)


async def test_a_refund_above_the_limit_pauses_inside_the_workflow_for_approval(
    retail_db: Path, tmp_path: Path, mia: Any, principals: Path
) -> None:
    order_id = mia.orders["delivered_over_500"]
    with RetailStore.open(retail_db) as store:
        user_id = store.get_order(order_id)["user_id"]  # type: ignore[index]
        before = len(store.notifications(user_id))
    async with shipped(tmp_path / "cp.sqlite") as (workflow, graph):
        await graph.ainvoke({"task": task(order_id)}, CONFIG)
        snapshot = await graph.aget_state(CONFIG)
        (pending,) = snapshot.interrupts
        assert pending.value["rule"] == "large-refund"
        assert snapshot.next == ("request_return",)
        with RetailStore.open(retail_db) as store:
            assert store.get_order(order_id)["status"] == "delivered"  # type: ignore[index]  # nothing written yet
    async with shipped(tmp_path / "cp.sqlite") as (workflow, graph):  # resumed by a new process
        answer = signed_answer(pending.value, CONFIG["configurable"]["thread_id"], "alice", note="damage confirmed")
        final = await graph.ainvoke(Command(resume={pending.id: answer}), CONFIG)
    assert outcome_of(workflow, final).status == "completed"
    steps = Counter(h["assignment"] for h in final["trail"] if h["kind"] == "handoff")
    assert steps == Counter(f"retail_return.{s.id}" for s in workflow.steps)  # identify was not run again
    (human,) = [e for e in final["trail"] if e["kind"] == "escalation"]
    assert human["approved"] and human["approver"] == "alice"
    check_returned(retail_db, order_id, user_id, before)


@pytest.mark.parametrize(
    ("wish", "kettle", "status", "ran"),
    [
        (
            "stainless steel",
            "1001198605",
            "pending (item modified)",
            ["identify", "check_variants", "change_items", "notify_changed"],
        ),
        ("copper", "1000520726", "pending", ["identify", "check_variants", "notify_unavailable"]),  # no such variant
    ],
)
async def test_the_order_change_workflow_swaps_an_item_or_says_it_cannot(
    retail_db: Path, tmp_path: Path, mia: Any, wish: str, kettle: str, status: str, ran: list[str]
) -> None:
    order_id = mia.orders["pending"]
    with RetailStore.open(retail_db) as store:
        user_id = store.get_order(order_id)["user_id"]  # type: ignore[index]
        before = len(store.notifications(user_id))
    ask = f"Hi, this is Mia Chen (mia.chen@example.com). In my pending order {order_id}, change the kettle to {wish}."
    async with shipped(tmp_path / "cp.sqlite", "retail_order_change") as (workflow, graph):
        final = await graph.ainvoke({"task": ask}, CONFIG)
    outcome = outcome_of(workflow, final)
    assert outcome.status == "completed", outcome.summary
    assert [h["assignment"].removeprefix("retail_order_change.") for h in final["trail"]] == ran
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
        assert len(store.notifications(user_id)) == before + 1
    assert order is not None and order["status"] == status
    assert [i["item_id"] for i in order["items"] if i["name"] == "Electric Kettle"] == [kettle]
