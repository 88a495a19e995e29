"""A thread that stopped mid-run moves on only by continuing it, never by a new turn.

A process that dies just after a step made a write (here ``notify_customer``;
the crash is simulated by the audit append of its result failing, where a
killed process would stop) leaves the thread unfinished, not paused. A new
turn (``graph.ainvoke({"task": ...})``, from Python, ``langgraph dev`` or any
server) used to start over: the step got a new assignment id, hence a new
idempotency key, and the customer was notified twice. The graph now refuses
it and names the way on, ``switchboard resume`` (input ``None``), which
replays the write under its key. Only the A2A server used to refuse it.

Scripted model; the retail MCP server, the audit log and the checkpoints are real.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Interrupt, PregelTask, StateSnapshot

from switchboard.checkpoints.audit import AuditLog
from switchboard.domains.retail import RetailStore
from switchboard.errors import ThreadError
from switchboard.graph.governed import _refuse_input
from switchboard.runs import open_graph, resume_run, start_run, thread_config
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

pytestmark = pytest.mark.usefixtures("principals")

MESSAGE = "Your return is on its way."
TASK = "Mia Chen mia.chen@example.com: tell me about my return"


def _sent(db: Path, user_id: str) -> int:
    with RetailStore.open(db) as store:
        return len(store.notifications(user_id))


def _crash_after_the_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first audit append of a ``notify_customer`` result fails: the run stops right after the write."""
    real = AuditLog.append_many
    crashed: list[bool] = []

    def append_many(self: AuditLog, events: Any, **kwargs: Any) -> Any:
        notifying = any(
            kind == "tool_call" and payload.get("tool") == "notify_customer" for *_, kind, payload in events
        )
        if notifying and not crashed:
            crashed.append(True)
            raise RuntimeError("process killed after the write, before its result was recorded")
        return real(self, events, **kwargs)

    monkeypatch.setattr(AuditLog, "append_many", append_many)


async def test_a_new_turn_on_a_thread_stopped_mid_run_is_refused_and_resume_sends_once(
    settings: Settings, retail_db: Path, mia: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ScriptedChatModel(
        steps=[route("customer_service", "notify Mia", skill="notify_customer"), finish()],
        agents={
            "customer_service": [
                call("find_user_id_by_email", email=mia.email),
                call("notify_customer", user_id=mia.user_id, message=MESSAGE),
                call("notify_customer", user_id=mia.user_id, message=MESSAGE),  # the resumed step, replayed
                handoff("Notified."),
            ]
        },
    )
    before = _sent(retail_db, mia.user_id)
    _crash_after_the_write(monkeypatch)
    with pytest.raises(RuntimeError, match="process killed"):
        await start_run(TASK, settings=settings, model=model, thread_id="stopped")
    assert _sent(retail_db, mia.user_id) == before + 1  # the write happened before the "crash"

    async with open_graph(settings, model=model) as graph:
        config = thread_config("stopped")
        stopped = await graph.aget_state(config)
        assert stopped.next == ("customer_service",) and not stopped.interrupts
        with pytest.raises(ThreadError, match="stopped mid-run") as refused:
            await graph.ainvoke({"task": TASK}, config)
        assert "switchboard resume stopped" in str(refused.value)
        assert "ainvoke(None, config)" in str(refused.value)
        with pytest.raises(ThreadError, match="stopped mid-run"):  # a chat message is a new turn too
            await graph.ainvoke({"messages": [{"role": "user", "content": TASK}]}, config)
        after = await graph.aget_state(config)
        assert after.config == stopped.config  # nothing was written: the thread stands where it stopped
    assert _sent(retail_db, mia.user_id) == before + 1

    result = await resume_run("stopped", settings=settings, model=model)
    assert result.status == "completed"
    model.assert_complete()
    assert _sent(retail_db, mia.user_id) == before + 1  # replayed under its key, not sent again


async def test_a_finished_thread_still_takes_a_new_turn(settings: Settings, retail_db: Path, mia: Any) -> None:
    step = [
        call("find_user_id_by_email", email=mia.email),
        call("notify_customer", user_id=mia.user_id, message=MESSAGE),
        handoff("Notified."),
    ]
    model = ScriptedChatModel(
        steps=[route("customer_service", "notify Mia", skill="notify_customer"), finish()] * 2,
        agents={"customer_service": step * 2},
    )
    before = _sent(retail_db, mia.user_id)
    config = thread_config("finished")
    async with open_graph(settings, model=model) as graph:
        for turn in (1, 2):  # the first on a brand-new thread, the second on a finished one
            final = await graph.ainvoke({"task": f"Turn {turn}. {TASK}"}, config)
            assert final["outcome"] == "resolved"
            snapshot = await graph.aget_state(config)
            assert not snapshot.next and not snapshot.tasks
    model.assert_complete()
    assert _sent(retail_db, mia.user_id) == before + 2  # a new turn is a new request: its notice is sent


def _snapshot(**kwargs: Any) -> StateSnapshot:
    fields: dict[str, Any] = {
        "values": {"task": TASK},
        "next": (),
        "config": {},
        "metadata": None,
        "created_at": None,
        "parent_config": None,
        "tasks": (),
        "interrupts": (),
    }
    return StateSnapshot(**{**fields, **kwargs})


def test_writes_saved_but_not_applied_count_as_stopped() -> None:
    """Killed after a step's writes were saved, before the next checkpoint: ``next`` is empty, ``tasks`` is not."""
    done = PregelTask(id="t1", name="customer_service", path=("__pregel_pull", "customer_service"))
    config: Any = {"configurable": {"thread_id": "t"}}
    with pytest.raises(ThreadError, match=r"stopped mid-run .* writes still to apply"):
        _refuse_input({"task": TASK}, _snapshot(tasks=(done,)), config, {"customer_service"})


def test_a_step_waiting_on_a_question_is_paused_not_stopped() -> None:
    """``next`` is not empty while a question waits: the refusal is the paused thread's, which names the answer."""
    asked = Interrupt(value={"question": "Refund $600?"}, id="i1")
    waiting = PregelTask(id="t1", name="finance", path=("__pregel_pull", "finance"), interrupts=(asked,))
    paused = _snapshot(next=("finance",), tasks=(waiting,), interrupts=(asked,))
    config: Any = {"configurable": {"thread_id": "t"}}
    with pytest.raises(ThreadError, match="is paused on a question") as refused:
        _refuse_input({"task": TASK}, paused, config, {"finance"})
    assert "stopped mid-run" not in str(refused.value)
