"""With ``durability="sync"``, a step's turns are checkpointed in the background unless ``sync_turns`` is set.

The supervisor's checkpoints are waited for either way. A step's own
checkpoints (after each think and act) are all still written; by default the
next turn does not wait for the disk, which is where a step's time went.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from switchboard.agents.spec import AgentSpec
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route


class SlowDisk(InMemorySaver):
    """An in-memory saver whose step-level checkpoints take 50 ms to write, logged."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        if config["configurable"].get("checkpoint_ns"):  # a step's own checkpoint, not the supervisor's
            self.events.append("saving")
            await asyncio.sleep(0.05)
            self.events.append("saved")
        return await super().aput(config, checkpoint, metadata, new_versions)


def count(item: str) -> str:
    """Count ``item`` in stock."""
    return f"{item}: 3 in stock"


def _logged(events: list[str], reply: AIMessage) -> Any:
    def step(messages: Any, tools: Any) -> AIMessage:
        events.append("think")
        return reply

    return step


async def _run(sync_turns: bool) -> tuple[list[str], Any]:
    events: list[str] = []
    model = ScriptedChatModel(
        steps=[route("stock", "Count the mugs"), finish()],
        agents={"stock": [_logged(events, call("count", item="mug")), _logged(events, handoff("3 mugs."))]},
    )
    spec = AgentSpec(name="stock", description="Counts stock.", tools=[count])
    graph = build_graph([spec], model=model, checkpointer=SlowDisk(events), sync_turns=sync_turns)
    config: Any = {"configurable": {"thread_id": "t"}}
    await graph.ainvoke({"task": "count the mugs"}, config, durability="sync")
    model.assert_complete()
    return events, (await graph.aget_state(config)).values


def _overlapped(events: list[str]) -> bool:
    """Whether a turn started while a step checkpoint was still being written."""
    writing = 0
    for event in events:
        writing += {"saving": 1, "saved": -1}.get(event, 0)
        if event == "think" and writing:
            return True
    return False


@pytest.mark.parametrize("sync_turns", [False, True])
async def test_a_step_waits_for_its_turn_checkpoints_only_when_asked(sync_turns: bool) -> None:
    events, values = await _run(sync_turns)
    (step,) = query.handoffs(values["trail"])
    assert step["status"] == "done" and [c["tool"] for c in step["tool_calls"]] == ["count"]
    assert events.count("saving") == events.count("saved") >= 3  # every turn's checkpoint was written
    assert _overlapped(events) is not sync_turns
