"""A killed process loses nothing, and a step that finished is not run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from switchboard.domains.retail import RetailStore
from switchboard.graph import trail as query
from switchboard.runs import read_thread, resume_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish, handoff

CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from switchboard.runs import start_run
    from switchboard.settings import Settings
    from switchboard.testing import ScriptedChatModel, call, route

    order_id, item_id, method = sys.argv[1:4]

    def die(messages, tools):
        os.kill(os.getpid(), signal.SIGKILL)  # the process dies between two steps

    model = ScriptedChatModel(
        steps=[route("finance", "return it", skill="process_return")],
        agents={"finance": [
            call("find_user_id_by_email", email="mia.chen@example.com"),
            call("return_delivered_order_items", order_id=order_id, item_ids=[item_id], payment_method_id=method),
            die,
        ]},
    )
    asyncio.run(start_run("return one item", thread_id="crash-1", settings=Settings(), model=model))
    """
)


async def test_killed_run_resumes_without_repeating_the_write(
    settings: Settings, retail_db: Path, tmp_path: Path, mia: Any
) -> None:
    order_id = mia.orders["delivered_under_500"]
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
    assert order is not None
    item_id, method = order["items"][0]["item_id"], order["payment_history"][0]["payment_method_id"]
    env = {**os.environ, "SWITCHBOARD_CHECKPOINT_DB": str(settings.checkpoint_db)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, order_id, item_id, method],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    with RetailStore.open(retail_db) as store:
        assert store.get_order(order_id)["status"] == "return requested"  # the write happened once

    stopped = await read_thread("crash-1", settings=settings)
    assert stopped["status"] == "failed" and "`switchboard resume crash-1` continues it" in stopped["error"]

    model = ScriptedChatModel(steps=[finish("return requested")], agents={"finance": [handoff("Return requested.")]})
    done = await resume_run("crash-1", settings=settings, model=model)  # nothing to answer: it just goes on
    model.assert_complete()  # finance went on from its next model call, not from scratch
    assert done.status == "completed"
    thread = await read_thread("crash-1", settings=settings)
    (step,) = query.handoffs(thread["trail"])
    assert [c["tool"] for c in step["tool_calls"]] == ["find_user_id_by_email", "return_delivered_order_items"]
    assert step["tool_calls"][-1]["outcome"] == "ok"


async def test_a_thread_cannot_be_resumed_by_two_processes_at_once(settings: Settings) -> None:
    from switchboard.errors import ThreadError
    from switchboard.runs import thread_lock

    async with thread_lock(settings, "busy-1"):  # as another process resuming it would
        with pytest.raises(ThreadError, match="being run or resumed by another process"):
            await resume_run("busy-1", approved=True, settings=settings, model=ScriptedChatModel(steps=[]))
