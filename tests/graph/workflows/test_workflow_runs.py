"""Each run of a workflow has its own step ids, so its writes are its own.

A step's assignment id is the step of the idempotency key its writes carry
(``agents/idempotency.py``). Two runs of one workflow in one thread (two
turns of a chat) must therefore differ, or the retail server answers the
second run's write from its record of the first and the customer hears
nothing. Within one run the id must not change, so a step re-run after a
crash still sends the key its first attempt sent, and is replayed.

Real retail MCP server, the supervisor graph, a scripted model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph.state import CompiledStateGraph

from switchboard.agents import guard
from switchboard.agents.card import load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.domains.retail import RetailStore
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.graph.workflows import compile_workflow, load_workflow
from switchboard.runs import prepare_team
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route
from tests.graph.workflow_kit import Desk

NODE = "workflow_delay_notice"
NOTICE = """
name: delay_notice
team: retail
description: Tell the customer their parcel is delayed.
steps:
  - id: tell
    agent: customer_service
    skill: notify_customer
    instruction: Tell the customer their parcel is delayed.
"""
MESSAGE = "Your parcel is delayed by two days. Sorry!"


class ProcessKilled(BaseException):
    """Plays the process dying: not an Exception, so nothing on the way catches it."""


def desk_clerk(email: str, user_id: str) -> Any:
    """customer_service's script, read off the step's own messages, so a re-run step picks up where it is."""

    def act(messages: Sequence[BaseMessage], tools: list[str]) -> AIMessage:
        answered = {m.name for m in messages if isinstance(m, ToolMessage)}
        if "find_user_id_by_email" not in answered:
            return call("find_user_id_by_email", email=email)
        if "notify_customer" not in answered:
            return call("notify_customer", user_id=user_id, message=MESSAGE)
        return handoff("Told the customer.", customer_notified=True)

    return act


@asynccontextmanager
async def notice_graph(
    tmp_path: Path, model: ScriptedChatModel
) -> AsyncIterator[CompiledStateGraph[Any, Any, Any, Any]]:
    """The retail supervisor graph with the notice workflow, on a checkpoint file that outlives it."""
    file = tmp_path / "delay_notice.yaml"
    file.write_text(NOTICE)
    team = load_team()
    async with (
        Toolbox.for_team(team, prepare_team(team)) as toolbox,
        AsyncSqliteSaver.from_conn_string(str(tmp_path / "cp.sqlite")) as saver,
    ):
        yield build_graph(team=team, model=model, toolbox=toolbox, checkpointer=saver, workflows=[load_workflow(file)])


def notifications(db: Path, user_id: str) -> int:
    with RetailStore.open(db) as store:
        return len(store.notifications(user_id))


def step_ids(trail: Sequence[Any]) -> list[tuple[str, str]]:
    """(the workflow's assignment id, its inner step's assignment id) for every run of the workflow."""
    runs = [a["id"] for d in query.decisions(trail) for a in d["assignments"] if a["agent"] == NODE]
    inner = [h["assignment"] for h in query.handoffs(trail) if h["agent"] == "customer_service"]
    return list(zip(runs, inner, strict=True))


async def test_a_second_run_in_the_same_thread_writes_again(retail_db: Path, tmp_path: Path, mia: Any) -> None:
    model = ScriptedChatModel(
        steps=[route(NODE, "notify"), finish(), route(NODE, "notify"), finish()],
        agents={"customer_service": [desk_clerk(mia.email, mia.user_id)] * 6},
    )
    before = notifications(retail_db, mia.user_id)
    config: Any = {"configurable": {"thread_id": "two-turns"}}
    async with notice_graph(tmp_path, model) as graph:
        for turn in (1, 2):
            final = await graph.ainvoke({"task": f"Turn {turn}: my parcel for {mia.email} is late"}, config)
            assert final["outcome"] == "resolved"
    model.assert_complete()
    assert notifications(retail_db, mia.user_id) == before + 2  # the second turn's notice was sent, not replayed
    ids = step_ids(final["trail"])
    assert len(ids) == 2 and ids[0][1] != ids[1][1]
    assert all(inner == f"{run}.tell" for run, inner in ids)  # each named after the run it belongs to


async def test_a_step_rerun_after_a_crash_still_replays(
    retail_db: Path, tmp_path: Path, mia: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = guard.content_text

    def die_after_the_write(content: Any) -> str:
        text = read(content)
        if "notification_id" in text:  # the server has committed the notification
            monkeypatch.setattr(guard, "content_text", read)
            raise ProcessKilled
        return text

    monkeypatch.setattr(guard, "content_text", die_after_the_write)
    model = ScriptedChatModel(
        steps=[route(NODE, "notify"), finish()], agents={"customer_service": [desk_clerk(mia.email, mia.user_id)] * 6}
    )
    before = notifications(retail_db, mia.user_id)
    config: Any = {"configurable": {"thread_id": "crash"}}
    async with notice_graph(tmp_path, model) as graph:
        with pytest.raises(ProcessKilled):
            await graph.ainvoke({"task": f"My parcel for {mia.email} is late"}, config)
    assert notifications(retail_db, mia.user_id) == before + 1  # the write landed before the crash

    async with notice_graph(tmp_path, model) as graph:  # a new graph on the same checkpoints
        final = await graph.ainvoke(None, config)
    assert final["outcome"] == "resolved"
    assert notifications(retail_db, mia.user_id) == before + 1  # the re-run step was answered from the record
    ((run, inner),) = step_ids(final["trail"])
    assert inner == f"{run}.tell"


async def test_a_standalone_run_names_its_steps_after_the_run_it_is_given() -> None:
    team, workflow = load_team(), load_workflow("retail_return")
    facts = {"identify": {"order_id": "#W1"}, "request_return": {"payment_method_id": "card_1"}}
    desk = Desk(facts=facts, status={"receive": "failed"})  # stops the workflow: the return request is undone
    graph = compile_workflow(workflow, desk.runners(team.names), team=team)
    given = await graph.ainvoke({"task": "return it", "run": "r1"})
    ids = [h["assignment"] for h in given["trail"]]
    assert ids[0] == "r1.identify" and ids[-1] == "r1.request_return.undo"
    alone = await graph.ainvoke({"task": "return it"})  # none given: a thread's first run is the workflow's
    assert alone["trail"][0]["assignment"] == "retail_return.identify"


async def test_two_standalone_runs_on_one_thread_key_their_steps_apart() -> None:
    """Review of this round: a standalone graph's second run on its thread reused every step id of the first."""
    from langgraph.checkpoint.memory import InMemorySaver

    team, workflow = load_team(), load_workflow("retail_return")
    desk = Desk(facts={"identify": {"order_id": "#W1"}, "request_return": {"payment_method_id": "card_1"}})
    graph = compile_workflow(workflow, desk.runners(team.names), team=team, checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    for turn in (1, 2):
        await graph.ainvoke({"task": f"return it, turn {turn}"}, config)
    ids = [request.assignment for request in desk.requests]
    assert len(ids) == 2 * len(workflow.steps) and len(set(ids)) == len(ids)
