"""A thread's audit epoch is the graph's own, not the caller's (outside red team, round 5, F4).

Trail entries are keyed (thread, epoch, "trail", position) and appended once,
so that a re-run after a resume writes nothing twice. The epoch was the id of
the thread's first message, which the caller chooses: two runs over fresh
checkpoints under one thread id, sent with the same message id, had the second
run's routing decisions and handoffs taken for the first's and dropped (its
refund paid, ``audit verify`` still OK). The intake now gives each thread a
random epoch at its first step, checkpointed with it; a thread checkpointed
before keeps its first message's id.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from switchboard.agents.spec import AgentSpec
from switchboard.checkpoints.audit import AuditLog, open_audit
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.graph.intake import intake
from switchboard.graph.oversight import thread_epoch
from switchboard.graph.state import SupervisorState
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

paid: list[float] = []


def refund(amount: float) -> str:
    """Refund an amount at the till."""
    paid.append(amount)
    return f"refunded {amount:g}"


def _model(amount: float, *extra: AIMessage) -> ScriptedChatModel:
    return ScriptedChatModel(
        steps=[route("till", f"refund {amount:g}"), finish(), *extra],
        agents={"till": [call("refund", amount=amount), handoff(f"refunded {amount:g}")]},
    )


def _graph(home: Path, model: ScriptedChatModel, checkpointer: Any, audit: AuditLog | None = None) -> Any:
    spec = AgentSpec(name="till", description="Refunds at the till.", tools=[refund], model=model)
    log = audit if audit is not None else open_audit(home)
    return build_graph([spec], model=model, checkpointer=checkpointer, policy=PolicyFile(name="open"), audit=log)


def _entries(home: Path, thread: str) -> list[Any]:
    log = open_audit(home)
    try:
        return list(log.entries(thread))
    finally:
        log.close()


def _kinds(home: Path, thread: str) -> Counter[str]:
    return Counter(e.kind for e in _entries(home, thread))


def _summaries(home: Path, thread: str) -> list[str]:
    return [e.payload["summary"] for e in _entries(home, thread) if e.kind == "handoff"]


def _ask(text: str, message_id: str) -> dict[str, Any]:
    return {"messages": [HumanMessage(text, id=message_id)]}


@pytest.fixture(autouse=True)
def _till() -> None:
    paid.clear()


async def test_the_same_first_message_id_over_fresh_checkpoints_records_both_runs(tmp_path: Path) -> None:
    config: Any = {"configurable": {"thread_id": "shop-1"}}
    await _graph(tmp_path, _model(10), InMemorySaver()).ainvoke(_ask("please refund 10", "m-1"), config)
    await _graph(tmp_path, _model(450), InMemorySaver()).ainvoke(_ask("please refund 450", "m-1"), config)
    assert paid == [10, 450]
    assert _summaries(tmp_path, "shop-1") == ["refunded 10", "refunded 450"]
    assert _kinds(tmp_path, "shop-1")["routing"] == 4
    log = open_audit(tmp_path)
    try:
        assert log.verify("shop-1").ok
    finally:
        log.close()


async def test_runs_without_a_thread_id_sent_the_same_message_id_are_each_recorded(tmp_path: Path) -> None:
    for amount in (10, 450):
        await _graph(tmp_path, _model(amount), None).ainvoke(_ask(f"please refund {amount:g}", "m-1"))
    assert _summaries(tmp_path, "-") == ["refunded 10", "refunded 450"]


async def test_a_caller_cannot_choose_the_epoch(tmp_path: Path) -> None:
    config: Any = {"configurable": {"thread_id": "shop-1"}}
    first = _graph(tmp_path, _model(10), InMemorySaver())
    await first.ainvoke(_ask("please refund 10", "m-1"), config)
    epoch = (await first.aget_state(config)).values["epoch"]
    assert epoch and epoch != "m-1"
    second = _graph(tmp_path, _model(450), InMemorySaver())
    await second.ainvoke({**_ask("please refund 450", "m-1"), "epoch": epoch}, config)  # not an input: ignored
    assert (await second.aget_state(config)).values["epoch"] not in ("", epoch, "m-1")
    assert _summaries(tmp_path, "shop-1") == ["refunded 10", "refunded 450"]


async def test_the_epoch_is_kept_across_turns_and_nothing_is_recorded_twice(tmp_path: Path) -> None:
    config: Any = {"configurable": {"thread_id": "shop-2"}}
    saver = InMemorySaver()
    graph = _graph(tmp_path, _model(10), saver)
    await graph.ainvoke({"task": "please refund 10"}, config)
    epoch = (await graph.aget_state(config)).values["epoch"]
    graph = _graph(tmp_path, _model(20), saver)
    await graph.ainvoke(_ask("and refund 20", "m-2"), config)
    state = (await graph.aget_state(config)).values
    assert state["epoch"] == epoch
    assert _summaries(tmp_path, "shop-2") == ["refunded 10", "refunded 20"]
    assert _kinds(tmp_path, "shop-2")["routing"] == len(query.decisions(state["trail"])) == 4


class Killed(BaseException):
    """The process dying: nothing after it runs, and nothing catches it."""


async def test_a_supervisor_rerun_after_a_crash_records_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The supervisor wrote its entries, then the process died before its checkpoint; it runs again on resume."""
    config: Any = {"configurable": {"thread_id": "shop-3"}}
    saver = InMemorySaver()
    log = open_audit(tmp_path)
    write = log.append_many

    def write_then_die(events: Any, **kwargs: Any) -> Any:
        written = write(events, **kwargs)
        if any(kind == "handoff" for _, _, kind, _ in events):
            raise Killed
        return written

    monkeypatch.setattr(log, "append_many", write_then_die)
    with pytest.raises(Killed):
        await _graph(tmp_path, _model(10), saver, log).ainvoke(_ask("please refund 10", "m-1"), config)
    before = _kinds(tmp_path, "shop-3")
    assert before["handoff"] == 1 and before["routing"] == 2  # the killed step's entries were on record

    model = ScriptedChatModel(steps=[finish()])
    resumed = _graph(tmp_path, model, saver)  # a new process
    await resumed.ainvoke(None, config)
    model.assert_complete()  # the supervisor ran again
    state = (await resumed.aget_state(config)).values
    assert state["outcome"] == "resolved" and paid == [10]
    assert _kinds(tmp_path, "shop-3") == before
    assert len(query.decisions(state["trail"])) == 2


def _legacy(**values: Any) -> SupervisorState:
    state: dict[str, Any] = {"messages": [HumanMessage("refund 10", id="m-1")], **values}
    return state  # type: ignore[return-value]


def test_a_thread_checkpointed_before_epochs_keeps_its_first_message_id() -> None:
    assert thread_epoch(_legacy()) == "m-1"
    assert thread_epoch(_legacy(epoch="e-1")) == "e-1"


async def test_the_intake_sets_the_epoch_once() -> None:
    fresh = await intake(_legacy())
    assert fresh["epoch"] != "m-1" and uuid.UUID(fresh["epoch"])
    older = await intake(_legacy(trail=[{"kind": "report"}], asked="m-1", task="refund 10"))  # an older thread
    assert older["epoch"] == "m-1"
    assert "epoch" not in await intake(_legacy(epoch="e-1"))
