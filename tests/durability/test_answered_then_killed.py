"""A question answered just before the process died is not asked again.

The answer to an approval inside an agent's step is saved in the step's own
checkpoint before the step goes on. A process killed right after that left
the thread looking paused on the same question: ``resume`` without an answer
was refused, and a second answer (another approver's rejection) was taken,
reported and then silently replaced by the saved one. The answer given first
stands, the thread says so, and ``resume`` continues it.

The kill lands on the answer's save through the crash-point hook; the retail
MCP server, the policy and the SQLite checkpoints are real, the model scripted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from switchboard.checkpoints.crashpoints import CRASH_VARIABLE
from switchboard.domains.retail import RetailStore
from switchboard.errors import ThreadError
from switchboard.runs import read_thread, resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

pytestmark = pytest.mark.usefixtures("principals")

REJECT = textwrap.dedent(
    """
    import asyncio, sys
    from switchboard.runs import resume_run
    from switchboard.settings import Settings
    from switchboard.testing import ScriptedChatModel

    asyncio.run(resume_run(sys.argv[1], approved=False, note="not this one", settings=Settings(),
                           model=ScriptedChatModel(steps=[])))
    """
)


def _return(retail_db: Path, mia: Any) -> ScriptedChatModel:
    order_id = mia.orders["delivered_over_500"]
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
    assert order is not None
    items = [item["item_id"] for item in order["items"]]
    method = order["payment_history"][0]["payment_method_id"]
    return ScriptedChatModel(
        steps=[route("finance", f"Return {items} of {order_id}", skill="process_return")],
        agents={
            "finance": [
                call("find_user_id_by_email", email="mia.chen@example.com"),
                call("return_delivered_order_items", order_id=order_id, item_ids=items, payment_method_id=method),
            ]
        },
    )


async def test_an_answer_saved_before_a_kill_stands_and_the_thread_goes_on(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    model = _return(retail_db, mia)
    paused = await start_run("return everything", thread_id="k1", settings=settings, model=model)
    assert paused.status == "paused" and paused.pending is not None
    question = paused.pending["question"]
    with RetailStore.open(retail_db) as store:
        ordered = store.get_order(mia.orders["delivered_over_500"])

    env = {**os.environ, "SWITCHBOARD_CHECKPOINT_DB": str(settings.checkpoint_db), CRASH_VARIABLE: "checkpoint-after:1"}
    child = subprocess.run([sys.executable, "-c", REJECT, "k1"], env=env, capture_output=True, timeout=120, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]

    stopped = await read_thread("k1", settings=settings)
    assert stopped["status"] == "failed", stopped  # not paused on a question already answered
    assert "was rejected by a human before its process ended" in stopped["error"]
    assert "`switchboard resume k1` continues it" in stopped["error"]
    with pytest.raises(ThreadError, match="already rejected by a human"):
        await resume_run("k1", approved=True, approver="alice", settings=settings, model=model)

    done = await resume_run("k1", settings=settings, model=model)  # no answer: the saved rejection stands
    model.assert_complete()
    assert done.status == "completed" and done.outcome == "rejected", done
    assert question in str((await read_thread("k1", settings=settings))["trail"])
    with RetailStore.open(retail_db) as store:
        assert store.get_order(mia.orders["delivered_over_500"]) == ordered  # rejected: nothing written


APPROVE = textwrap.dedent(
    """
    import asyncio, sys
    from switchboard.runs import resume_run
    from switchboard.settings import Settings
    from switchboard.testing import ScriptedChatModel

    asyncio.run(resume_run(sys.argv[1], approved=True, approver="alice", settings=Settings(),
                           model=ScriptedChatModel(steps=[])))
    """
)


async def test_an_approval_whose_write_landed_before_the_kill_is_not_overridden(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    model = _return(retail_db, mia)
    model.agents["finance"].append(handoff("Return requested."))
    model.steps.append(finish("return requested"))
    await start_run("return everything", thread_id="k2", settings=settings, model=model)

    env = {**os.environ, "SWITCHBOARD_CHECKPOINT_DB": str(settings.checkpoint_db), CRASH_VARIABLE: "effect-after:1"}
    child = subprocess.run(
        [sys.executable, "-c", APPROVE, "k2"], env=env, capture_output=True, timeout=120, check=False
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    with RetailStore.open(retail_db) as store:  # the approved write landed before the kill
        assert store.get_order(mia.orders["delivered_over_500"])["status"] == "return requested"

    stopped = await read_thread("k2", settings=settings)
    assert stopped["status"] == "failed" and "approved by alice before its process ended" in stopped["error"]
    with pytest.raises(ThreadError, match="already approved by alice"):  # bob's rejection is not silently dropped
        await resume_run("k2", approved=False, approver="bob", settings=settings, model=model)
    done = await resume_run("k2", settings=settings, model=model)
    model.assert_complete()
    assert done.status == "completed" and done.outcome == "resolved", done
