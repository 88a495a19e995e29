"""Shared set-ups for the policy tests that pause a run on the retail ``large-refund`` rule."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from switchboard.domains.retail import RetailStore
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route


def snapshot(db: Path) -> list[Any]:
    """Every table of a SQLite database, row by row: what a run moved, compared before and after."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table' order by name")]
        return [(t, conn.execute(f"select * from {t} order by 1").fetchall()) for t in tables]


def large_refund_model(retail_db: Path, mia: Any) -> ScriptedChatModel:
    """Finance returns every item of Mia's order over $500 to her credit card: held for a finance manager."""
    order_id = mia.orders["delivered_over_500"]
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
    assert order is not None
    return ScriptedChatModel(
        steps=[route("finance", "refund the order", skill="process_return"), finish("done")],
        agents={"finance": [
            call("find_user_id_by_email", email="mia.chen@example.com"),
            call("return_delivered_order_items", order_id=order_id, item_ids=[i["item_id"] for i in order["items"]],
                 payment_method_id=mia.payment_methods["credit_card"]),
            handoff("Return requested."),
        ]},
    )  # fmt: skip
