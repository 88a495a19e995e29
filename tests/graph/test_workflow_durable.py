"""Workflows on a real SQLite checkpointer: a crash or a pause mid-way, then resume.

Steps that finished before the stop are never run again; that includes a
step that finished beside the one that crashed, in the same superstep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Command, interrupt

from switchboard.agents.card import load_team
from switchboard.graph.workflows import StepRequest, compile_workflow, load_workflow, outcome_of

from .workflow_kit import Desk, wait_for

FACTS = {"identify": {"order_id": "#W1"}, "request_return": {"payment_method_id": "card_1"}}


class ProcessKilled(BaseException):
    """Plays the process dying: not an Exception, so no step catches it."""


async def test_a_crash_mid_workflow_resumes_without_rerunning_finished_steps(tmp_path: Path) -> None:
    team, workflow = load_team(), load_workflow("retail_return")
    db = tmp_path / "checkpoints.sqlite"
    config: Any = {"configurable": {"thread_id": "crash"}}
    desk = Desk(facts=FACTS, raises={"pickup": ProcessKilled()})
    # pickup dies only once record_reason, in the same superstep, has finished.
    desk.holds = {"pickup": wait_for(desk, "end", "record_reason")}
    async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
        graph = compile_workflow(workflow, desk.runners(team.names), team=team, checkpointer=saver)
        try:
            await graph.ainvoke({"task": "return it"}, config)
        except ProcessKilled:
            pass
        else:
            raise AssertionError("the crash did not stop the run")
    assert desk.ran[:2] == ["identify", "request_return"]
    assert sorted(desk.ran[2:]) == ["pickup", "record_reason"]

    async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:  # a new process, the same file
        graph = compile_workflow(workflow, desk.runners(team.names), team=team, checkpointer=saver)
        assert (await graph.aget_state(config)).next == ("pickup",)
        final = await graph.ainvoke(None, config)

    assert outcome_of(workflow, final).status == "completed"
    assert desk.counts == {s.id: 2 if s.id == "pickup" else 1 for s in workflow.steps}
    receive = next(r for r in desk.requests if r.step == "receive")
    assert receive.context["payment_method_id"] == "card_1"  # facts from before the crash survived


async def test_a_step_paused_for_a_human_resumes_alone(tmp_path: Path) -> None:
    team, workflow = load_team(), load_workflow("retail_return")
    db = tmp_path / "checkpoints.sqlite"
    config: Any = {"configurable": {"thread_id": "pause"}}
    desk = Desk(facts=FACTS)
    answers: list[Any] = []

    async def ask(request: StepRequest) -> None:
        answers.append(interrupt({"question": "Refund above the limit: approve?"}))

    desk.holds = {"refund": ask}
    async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
        graph = compile_workflow(workflow, desk.runners(team.names), team=team, checkpointer=saver)
        paused = await graph.ainvoke({"task": "return it"}, config)
        assert paused["__interrupt__"][0].value == {"question": "Refund above the limit: approve?"}
        assert (await graph.aget_state(config)).next == ("refund",)
        before = dict(desk.counts)

    async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
        graph = compile_workflow(workflow, desk.runners(team.names), team=team, checkpointer=saver)
        final = await graph.ainvoke(Command(resume={"approved": True}), config)

    assert answers == [{"approved": True}]
    assert outcome_of(workflow, final).status == "completed"
    after = desk.counts
    # Only the paused step starts again (LangGraph re-runs an interrupted node); nothing before it does.
    assert {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)} == {"refund": 1, "notify": 1}
    assert before == {"identify": 1, "request_return": 1, "pickup": 1, "record_reason": 1, "receive": 1, "refund": 1}
