"""A step killed after its write landed, and before its progress was saved, does not write twice.

Issue 9's first reported failure: the customer got two notifications. The
guard sends every tool call with an idempotency key derived from the thread,
the agent step and the call, so when the step is re-run on resume the retail
server answers from its record instead of acting again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from switchboard.domains.retail import RetailStore
from switchboard.runs import resume_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish, handoff

CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from switchboard.agents import guard
    from switchboard.runs import start_run
    from switchboard.settings import Settings
    from switchboard.testing import ScriptedChatModel, call, route

    user_id, email = sys.argv[1:3]
    read = guard.content_text

    def die_after_the_write(content):
        text = read(content)
        if "notification_id" in text:  # the server has committed the notification
            os.kill(os.getpid(), signal.SIGKILL)
        return text

    guard.content_text = die_after_the_write
    model = ScriptedChatModel(
        steps=[route("customer_service", "tell the customer", skill="notify_customer")],
        agents={"customer_service": [
            call("find_user_id_by_email", email=email),
            call("notify_customer", user_id=user_id, message="We have your request and will write again soon."),
        ]},
    )
    asyncio.run(start_run("tell the customer", thread_id="once-1", settings=Settings(), model=model))
    """
)


async def test_a_step_rerun_after_a_crash_does_not_notify_twice(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    env = {**os.environ, "SWITCHBOARD_CHECKPOINT_DB": str(settings.checkpoint_db)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, mia.user_id, mia.email], env=env, capture_output=True, timeout=120, check=False
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    with RetailStore.open(retail_db) as store:
        assert len(store.notifications(mia.user_id)) == 1  # the write landed before the kill

    model = ScriptedChatModel(steps=[finish("told")], agents={"customer_service": [handoff("Told the customer.")]})
    done = await resume_run("once-1", approved=True, settings=settings, model=model)
    model.assert_complete()
    assert done.status == "completed"
    with RetailStore.open(retail_db) as store:
        assert len(store.notifications(mia.user_id)) == 1  # the re-run step was answered from the record
