"""A step reassigned to another agent repeats a write under the same idempotency key.

Keys used to include the agent's task namespace and the model's call id, so
when finance failed after its write and finance_backup took the step over,
the backup's repeat of the write was a new call: the server acted again, or
refused it as a business failure. The key now derives from the thread, the
step (the assignment id, kept on reassignment) and the call's content.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from switchboard.domains.retail import RetailStore
from switchboard.graph import trail as query
from switchboard.runs import read_thread, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route


async def test_the_backup_repeats_the_write_and_the_server_replays_it(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    order_id = mia.orders["delivered_under_500"]
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
    assert order is not None
    item_id, method = order["items"][0]["item_id"], order["payment_history"][0]["payment_method_id"]
    write = call("return_delivered_order_items", order_id=order_id, item_ids=[item_id], payment_method_id=method)
    model = ScriptedChatModel(
        steps=[route("finance", "return it", skill="process_return"), finish("return requested")],
        agents={
            "finance": [
                call("find_user_id_by_email", email=mia.email),
                write,
                handoff("Lost track of the order after the write.", status="unable"),
            ],
            "finance_backup": [
                call("find_user_id_by_email", email=mia.email),
                write,
                handoff("Return requested."),
            ],
        },
    )
    done = await start_run("return one item", thread_id="reassign-1", settings=settings, model=model)
    model.assert_complete()
    assert done.status == "completed" and done.outcome == "resolved", done

    steps = query.handoffs((await read_thread("reassign-1", settings=settings))["trail"])
    assert [(h["agent"], h["status"]) for h in steps] == [("finance", "failed"), ("finance_backup", "done")]
    assert steps[0]["assignment"] == steps[1]["assignment"]
    repeat = steps[1]["tool_calls"][-1]
    assert repeat["tool"] == "return_delivered_order_items" and repeat["outcome"] == "ok", repeat
    with RetailStore.open(retail_db) as store:
        assert store.get_order(order_id)["status"] == "return requested"
        assert store.recorded_call_count() == 1  # one write, under one key, answered twice
