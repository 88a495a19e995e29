"""Hole 2 of issue 7: money moved without the refund rule. Every money path now waits.

The model is scripted; the graph, the MCP server, the retail database and the
shipped policy are real. Before the quote tools and rules existed, the cancel
below refunded $1,185.93 with no approval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard.domains.retail import RetailStore
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, route

BIG_PENDING = "#W0007281"
"""A pending order of the generated data paid $1,185.93 with one card."""


def _order(db: Path, order_id: str) -> dict[str, Any]:
    with RetailStore.open(db) as store:
        order = store.get_order(order_id)
    assert order is not None
    return order


@pytest.mark.parametrize(
    ("skill", "tool", "args", "rule"),
    [
        ("cancel_order", "cancel_pending_order", {"reason": "no longer needed"}, "large-cancel-refund"),
        ("change_payment", "modify_pending_order_payment", {"payment_method_id": None}, "large-payment-change"),
    ],
)
async def test_moving_more_than_500_waits_for_approval_and_writes_nothing(
    settings: Settings, retail_db: Path, skill: str, tool: str, args: dict[str, Any], rule: str
) -> None:
    before = _order(retail_db, BIG_PENDING)
    assert before["status"] == "pending" and before["payment_history"][0]["amount"] > 500
    with RetailStore.open(retail_db) as store:
        user = store.get_user(before["user_id"])
    assert user is not None
    if "payment_method_id" in args:
        paid_with = before["payment_history"][0]["payment_method_id"]
        args = {"payment_method_id": next(m for m in user["payment_methods"] if m != paid_with)}
    model = ScriptedChatModel(steps=[route("finance", f"{tool} on {BIG_PENDING}", skill=skill),
                                     call("find_user_id_by_email", email=user["email"]),  # the scope's customer
                                     call(tool, order_id=BIG_PENDING, **args)])  # fmt: skip
    paused = await start_run(f"{tool} {BIG_PENDING}", settings=settings, model=model)
    model.assert_complete()
    assert paused.status == "paused" and paused.pending is not None
    assert paused.pending["rule"] == rule and "above the $500 limit" in paused.pending["question"]
    assert _order(retail_db, BIG_PENDING) == before  # nothing written, nothing refunded
