"""Every checkpointed state can be resumed, whatever instant the process died at.

Issue 9: killed just after its first checkpoint save, a thread had nothing
left to run. ``show`` blamed a removed agent, ``resume`` said it was not
waiting, and ``run`` said it already existed: it could not be recovered.
The kills land on exact checkpoint writes through the crash-point hook
(:mod:`switchboard.checkpoints.crashpoints`), not on a timer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from switchboard.checkpoints.crashpoints import CRASH_VARIABLE
from switchboard.errors import ThreadError
from switchboard.runs import read_thread, resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, escalate, finish, handoff, route

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from switchboard.runs import start_run
    from switchboard.settings import Settings
    from switchboard.testing import ScriptedChatModel, handoff, route, finish

    model = ScriptedChatModel(
        steps=[route("analytics", "summarise the week", skill="record_return_reason"), finish("done")],
        agents={"analytics": [handoff("Nothing to record.")]},
    )
    asyncio.run(start_run("summarise the week", thread_id=sys.argv[1], settings=Settings(), model=model))
    """
)


def _crash(settings: Settings, thread_id: str, at: str) -> None:
    env = {**os.environ, "SWITCHBOARD_CHECKPOINT_DB": str(settings.checkpoint_db), CRASH_VARIABLE: at}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, thread_id], env=env, capture_output=True, timeout=120, check=False
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]


@pytest.mark.parametrize("at", ["checkpoint-after:1", "checkpoint-after:2"])
async def test_a_thread_killed_just_after_its_first_saves_is_resumed(settings: Settings, at: str) -> None:
    _crash(settings, "early-1", at)
    stopped = await read_thread("early-1", settings=settings)
    assert stopped["status"] == "failed"
    assert "`switchboard resume early-1` continues it" in stopped["error"]  # not "agent removed"
    with pytest.raises(ThreadError, match="already exists"):  # a stopped thread is not silently restarted
        await start_run("summarise the week", thread_id="early-1", settings=settings, model=ScriptedChatModel(steps=[]))

    model = ScriptedChatModel(
        steps=[route("analytics", "summarise the week", skill="record_return_reason"), finish("done")],
        agents={"analytics": [handoff("Nothing to record.")]},
    )
    done = await resume_run("early-1", settings=settings, model=model)  # no answer needed: nothing was asked
    model.assert_complete()
    assert done.status == "completed" and done.outcome == "resolved", done
    assert done.exit_code == 0


async def test_resume_without_an_answer_tells_a_paused_thread_what_it_needs(settings: Settings) -> None:
    model = ScriptedChatModel(steps=[escalate("Which warehouse?")])
    paused = await start_run("move stock", thread_id="ask-1", settings=settings, model=model)
    assert paused.status == "paused"
    with pytest.raises(ThreadError, match=r"waiting for a human: Which warehouse\? Answer with .*--approve --as NAME"):
        await resume_run("ask-1", settings=settings, model=ScriptedChatModel(steps=[]))
    assert (await read_thread("ask-1", settings=settings))["status"] == "paused"  # nothing lost


async def test_resuming_a_finished_thread_says_so(settings: Settings) -> None:
    model = ScriptedChatModel(steps=[finish("nothing to do")])
    await start_run("hello", thread_id="done-1", settings=settings, model=model)
    with pytest.raises(ThreadError, match="has finished"):
        await resume_run("done-1", settings=settings, model=ScriptedChatModel(steps=[]))
