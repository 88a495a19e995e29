"""A process that lost its thread lock writes no more of the thread's checkpoints.

A holder stopped past its lock's time-to-live (``SIGSTOP``, a suspended
machine) is taken over; woken up, it used to go on writing checkpoints after
the new holder's, forking the history and overwriting a finished thread with
a stale pause. Here the takeover is the row another process would write,
made while the first holder's graph is between two steps.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict

from switchboard.checkpoints import hold_thread, open_checkpointer
from switchboard.errors import ThreadError

CONFIG: Any = {"configurable": {"thread_id": "t-1"}}


class State(TypedDict):
    steps: list[str]


def _graph(db: Path, *, take_over: bool) -> StateGraph[State]:
    def first(state: State) -> State:
        if take_over:  # another process, seeing this one's claim expired, takes the thread
            with sqlite3.connect(db) as conn:
                conn.execute("UPDATE switchboard_thread_locks SET owner = 'another' WHERE thread_id = 't-1'")
        return {"steps": [*state["steps"], "first"]}

    def second(state: State) -> State:
        return {"steps": [*state["steps"], "second"]}

    graph = StateGraph(State)
    graph.add_node("first", first)
    graph.add_node("second", second)
    graph.add_edge(START, "first")
    graph.add_edge("first", "second")
    return graph


@pytest.mark.parametrize("take_over", [False, True])
async def test_a_holder_that_lost_its_lock_writes_nothing_more(tmp_path: Path, take_over: bool) -> None:
    db = tmp_path / "checkpoints.sqlite"
    async with open_checkpointer(db) as saver:
        graph = _graph(db, take_over=take_over).compile(checkpointer=saver)
        async with hold_thread(db, "t-1"):
            if take_over:
                with pytest.raises(ThreadError, match="lost thread 't-1' to another"):
                    await graph.ainvoke({"steps": []}, CONFIG, durability="sync")
            else:
                assert (await graph.ainvoke({"steps": []}, CONFIG, durability="sync"))["steps"] == ["first", "second"]
        history = [c async for c in saver.alist(CONFIG)]
    steps = [c.checkpoint["channel_values"].get("steps") for c in history]
    if take_over:  # the input's checkpoints, then nothing: not first's writes, not second's
        assert steps == [[], None]
        with sqlite3.connect(db) as conn:  # the input's pending writes only; none of a node's
            assert {row[0] for row in conn.execute("SELECT task_path FROM writes")} <= {"~__pregel_pull, __start__"}
    else:
        assert steps[0] == ["first", "second"]
