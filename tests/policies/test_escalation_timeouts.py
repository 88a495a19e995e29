"""Escalation timeouts act without anyone answering (issue 7, "escalation paths").

The shipped ``money`` path: a finance manager has 4 hours, then a store
manager may answer too, and after 24 more hours the question is rejected.
The sweeper resumes expired questions with a timeout claim; the graph checks
the claim by its own clock (injected here through the audit log, no
sleeping) against the question's recorded ``asked_at``. The retail database
shows what moved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from switchboard.checkpoints.audit import open_audit
from switchboard.policies.answers import TIMEOUT
from switchboard.runs import open_graph, read_thread, start_run
from switchboard.settings import Settings
from switchboard.sweeper import sweep, sweep_graph
from switchboard.testing import ScriptedChatModel, signed_answer
from tests.policies.helpers import large_refund_model, snapshot

pytestmark = pytest.mark.usefixtures("principals")

HOUR = 3600.0


async def _paused(settings: Settings, model: ScriptedChatModel) -> tuple[str, dict[str, Any]]:
    paused = await start_run("Mia Chen: refund my order", settings=settings, model=model)
    assert paused.status == "paused" and paused.pending and paused.pending["rule"] == "large-refund"
    assert paused.pending["escalation"] == "money" and paused.pending["step"] == 0
    assert paused.pending["deadline"] == pytest.approx(paused.pending["asked_at"] + 4 * HOUR)
    return paused.thread_id, paused.pending


async def test_a_forged_timeout_before_the_deadline_is_refused_and_the_thread_stays_paused(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    model = large_refund_model(retail_db, mia)
    before = snapshot(retail_db)
    thread, pending = await _paused(settings, model)
    soon = pending["asked_at"] + HOUR
    config: Any = {"configurable": {"thread_id": thread}}
    async with open_graph(settings, model=model, clock=lambda: soon) as graph:
        await graph.ainvoke(Command(resume=TIMEOUT), config)  # straight to the graph, no sweeper
        state = await graph.aget_state(config)
        assert await sweep_graph(graph, graph_policy(settings), now=soon) == []  # nothing is due
    [question] = [i.value for i in state.interrupts]
    assert question["interrupt_id"] == pending["interrupt_id"] and "has not timed out" in question["error"]
    assert question["roles"] == ["finance_manager"] and question["step"] == 0
    assert snapshot(retail_db) == before
    refused = [e for e in open_audit(settings.data_dir).entries(thread) if e.kind == "approval_refused"]
    assert [e.payload["reason"] for e in refused] == ["not_expired"]


async def test_after_the_first_step_the_question_moves_to_the_store_manager(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    model = large_refund_model(retail_db, mia)
    before = snapshot(retail_db)
    thread, pending = await _paused(settings, model)
    later = pending["asked_at"] + 4 * HOUR + 1
    config: Any = {"configurable": {"thread_id": thread}}
    async with open_graph(settings, model=model, clock=lambda: later) as graph:
        [result] = await sweep_graph(graph, graph_policy(settings), now=later)
        assert result.action == "escalated" and result.thread == thread
        assert await sweep_graph(graph, graph_policy(settings), now=later + 60) == []  # not due again
        [question] = [i.value for i in (await graph.aget_state(config)).interrupts]
        assert question["step"] == 1 and "store_manager" in question["roles"] and not question["error"]
        assert question["deadline"] == pytest.approx(pending["asked_at"] + 28 * HOUR)
        # bob, a support agent, still may not answer; sam, a store manager, now may
        await graph.ainvoke(Command(resume=_signed_by_bob(settings, question, thread, now=later)), config)
        assert "finance_manager, store_manager" in (await graph.aget_state(config)).interrupts[0].value["error"]
        assert snapshot(retail_db) == before
        await graph.ainvoke(Command(resume=signed_answer(question, thread, "sam", now=later)), config)
        assert not (await graph.aget_state(config)).interrupts
    assert snapshot(retail_db) != before  # the store manager's approval ran the refund
    model.assert_complete()


async def test_past_the_last_step_the_sweeper_rejects_and_nothing_moves(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    model = large_refund_model(retail_db, mia)
    before = snapshot(retail_db)
    thread, pending = await _paused(settings, model)
    much_later = pending["asked_at"] + 30 * HOUR
    [result] = await sweep(settings, model=model, clock=lambda: much_later)
    assert result.action == "rejected" and result.interrupt_id == pending["interrupt_id"]
    state = await read_thread(thread, settings=settings)
    assert state["outcome"] == "rejected" and snapshot(retail_db) == before
    entries = open_audit(settings.data_dir).entries(thread)
    timeouts = [e.payload for e in entries if e.kind == "escalation" and "by" in e.payload]
    assert [(t["outcome"], t["by"]) for t in timeouts] == [("rejected", "sweeper")]


def _signed_by_bob(settings: Settings, question: dict[str, Any], thread: str, *, now: float) -> dict[str, Any]:
    """bob's own signature as a support agent (sign_answer would refuse him before sending)."""
    from switchboard.policies.approvals import sign_approval

    keys = settings.data_dir / "keys"
    approval = sign_approval("bob", keys / "bob.pem", "support_agent", thread, question["interrupt_id"],
                             question["tool"], question["args"], now=now)  # fmt: skip
    return {"approved": True, "note": "", "approver": "bob", "approval": approval.model_dump()}


def graph_policy(settings: Settings) -> Any:
    from switchboard.agents.card import load_team

    return load_team(settings.team).load_policy()
