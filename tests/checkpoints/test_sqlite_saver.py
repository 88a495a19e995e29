"""The SQLite saver reads and writes the files LangGraph's ``AsyncSqliteSaver`` made.

Checkpoints written before Switchboard moved to one worker-thread hop per
operation (``checkpoints/sqlite_saver.py``) must still resume: same schema,
same serializer, the saver only runs LangGraph's own sync queries.
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Annotated, Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

from switchboard.checkpoints import open_checkpointer


class State(TypedDict, total=False):
    notes: Annotated[list[str], operator.add]


def _graph() -> StateGraph[Any]:
    def first(state: State) -> State:
        return {"notes": ["first"]}

    def ask(state: State) -> State:
        return {"notes": [str(interrupt("go on?"))]}

    builder: StateGraph[Any] = StateGraph(State)
    builder.add_node("first", first)
    builder.add_node("ask", ask)
    builder.add_edge(START, "first")
    builder.add_edge("first", "ask")
    return builder


async def test_a_thread_paused_under_the_aiosqlite_saver_resumes_under_ours(tmp_path: Path) -> None:
    target = tmp_path / "checkpoints.sqlite"
    config: Any = {"configurable": {"thread_id": "old"}}
    async with AsyncSqliteSaver.from_conn_string(str(target)) as old:
        paused = await _graph().compile(checkpointer=old).ainvoke({"notes": []}, config)
    assert paused["notes"] == ["first"] and paused["__interrupt__"]

    async with open_checkpointer(target) as saver:
        graph = _graph().compile(checkpointer=saver)
        done = await graph.ainvoke(Command(resume="yes"), config, durability="sync")
        history = [snapshot async for snapshot in graph.aget_state_history(config)]
    assert done["notes"] == ["first", "yes"]
    assert len(history) >= 4  # the old run's checkpoints and the new ones, in one chain
    async with AsyncSqliteSaver.from_conn_string(str(target)) as old:  # and the other way round
        state = await _graph().compile(checkpointer=old).aget_state(config)
    assert state.values["notes"] == ["first", "yes"] and not state.next
