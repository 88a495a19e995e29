"""The graph over the real retail MCP server, with a scripted model.

The model is scripted; everything around it is real: the MCP server over
stdio, the SQLite retail database, the SQLite checkpointer and the policy
file. Each test checks the database itself, not only what the graph says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard.domains.retail import RetailStore
from switchboard.graph import trail as query
from switchboard.runs import read_thread, resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, escalate, fail, finish, handoff, route

pytestmark = pytest.mark.usefixtures("principals")  # alice, bob, sam and their keys (tests/conftest.py)


def _order(db: Path, order_id: str) -> dict[str, Any]:
    with RetailStore.open(db) as store:
        order = store.get_order(order_id)
    assert order is not None
    return order


def _return_script(order_id: str, item_ids: list[str], payment_method_id: str) -> list[Any]:
    return [
        route("finance", f"Return {item_ids} of {order_id}", skill="process_return"),
        call("find_user_id_by_email", email="mia.chen@example.com"),  # the data scope needs the customer first
        call("return_delivered_order_items", order_id=order_id, item_ids=item_ids, payment_method_id=payment_method_id),
        handoff("Return requested.", order_id=order_id),
        finish("return requested"),
    ]


async def test_refund_above_limit_waits_for_approval_before_any_write(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    order_id = mia.orders["delivered_over_500"]
    order = _order(retail_db, order_id)
    item_ids = [item["item_id"] for item in order["items"]]
    method = order["payment_history"][0]["payment_method_id"]
    model = ScriptedChatModel(steps=_return_script(order_id, item_ids, method))

    paused = await start_run("return everything", settings=settings, model=model)
    assert paused.status == "paused"
    assert paused.pending is not None and paused.pending["rule"] == "large-refund"
    assert "above the $500 limit" in paused.pending["question"]
    assert _order(retail_db, order_id)["status"] == "delivered"  # nothing written yet

    done = await resume_run(
        paused.thread_id, approved=True, note="ok", approver="alice", settings=settings, model=model
    )
    model.assert_complete()
    assert done.status == "completed" and done.outcome == "resolved"
    assert _order(retail_db, order_id)["status"] == "return requested"
    thread = await read_thread(paused.thread_id, settings=settings)
    (human,) = query.escalations(thread["trail"])
    assert human["approved"] and human["approver"] == "alice" and human["source"] == "policy"
    (handoff_event,) = query.handoffs(thread["trail"])
    record = handoff_event["tool_calls"][-1]
    assert record["outcome"] == "ok" and record["policy"] == "large-refund: approved by a human"


async def test_rejected_refund_changes_nothing(settings: Settings, retail_db: Path, mia: Any) -> None:
    order_id = mia.orders["delivered_over_500"]
    order = _order(retail_db, order_id)
    item_ids = [item["item_id"] for item in order["items"]]
    method = order["payment_history"][0]["payment_method_id"]
    model = ScriptedChatModel(steps=_return_script(order_id, item_ids, method)[:3])

    paused = await start_run("return everything", settings=settings, model=model)
    done = await resume_run(
        paused.thread_id,
        approved=False,
        note="looks like fraud",
        approver="finance-lead",
        settings=settings,
        model=model,
    )
    model.assert_complete()
    assert done.status == "completed" and done.outcome == "rejected"
    assert _order(retail_db, order_id) == order
    assert "looks like fraud" in (await read_thread(paused.thread_id, settings=settings))["trail"][-2]["summary"]


async def test_refund_below_limit_runs_without_a_human(settings: Settings, retail_db: Path, mia: Any) -> None:
    order_id = mia.orders["delivered_under_500"]
    order = _order(retail_db, order_id)
    item_ids = [order["items"][0]["item_id"]]
    method = order["payment_history"][0]["payment_method_id"]
    model = ScriptedChatModel(steps=_return_script(order_id, item_ids, method))
    done = await start_run("return one item", settings=settings, model=model)
    model.assert_complete()
    assert done.status == "completed"
    assert _order(retail_db, order_id)["return_items"] == item_ids


async def test_failed_precondition_is_reported_and_changes_nothing(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    order_id = mia.orders["delivered_over_500"]
    before = _order(retail_db, order_id)
    model = ScriptedChatModel(
        steps=[
            route("finance", f"Cancel {order_id}", skill="cancel_order"),
            call("find_user_id_by_email", email="mia.chen@example.com"),
            call("cancel_pending_order", order_id=order_id, reason="no longer needed"),
            handoff("The order is not pending; cannot cancel.", status="failed", confidence=0.9),
            escalate("Finance could not cancel a delivered order. Offer a return instead?"),
        ]
    )
    paused = await start_run("cancel my order", settings=settings, model=model)
    model.assert_complete()
    assert paused.status == "paused"
    assert _order(retail_db, order_id) == before
    thread = await read_thread(paused.thread_id, settings=settings)
    (handoff_event,) = query.handoffs(thread["trail"])
    record = handoff_event["tool_calls"][-1]
    assert record["outcome"] == "refused" and "pending" in record["result"].lower()
    assert handoff_event["status"] == "failed"
    assert "cannot cancel" in model.calls[-1].text  # the supervisor saw the failure


async def test_failing_finance_is_completed_by_finance_backup(settings: Settings, retail_db: Path, mia: Any) -> None:
    order_id = mia.orders["delivered_under_500"]
    order = _order(retail_db, order_id)
    item_ids = [order["items"][0]["item_id"]]
    method = order["payment_history"][0]["payment_method_id"]
    model = ScriptedChatModel(
        steps=[route("finance", f"Return {item_ids} of {order_id}", skill="process_return"), finish("done")],
        agents={
            "finance": [fail("finance's provider is down")],
            "finance_backup": [
                call("find_user_id_by_email", email="mia.chen@example.com"),
                call("return_delivered_order_items", order_id=order_id, item_ids=item_ids, payment_method_id=method),
                handoff("Return requested by the backup desk.", order_id=order_id),
            ],
        },
    )
    done = await start_run("return one item", settings=settings, model=model)
    model.assert_complete()
    assert done.status == "completed" and done.agents == ["finance", "finance_backup"]
    assert _order(retail_db, order_id)["status"] == "return requested"
    thread = await read_thread(done.thread_id, settings=settings)
    sources = [e["source"] for e in query.decisions(thread["trail"])]
    assert sources == ["model", "reassign", "model"]
