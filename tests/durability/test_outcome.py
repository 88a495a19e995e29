"""A run is reported resolved only when every step it started finished.

Issue 9: a refused write on resume asked a human; approving ended the thread
"completed / resolved" with exit code 0, though the remaining steps never ran.
"""

from __future__ import annotations

from typing import Any

from langgraph.types import Command

from switchboard.graph import trail as query
from switchboard.runs import RunResult
from switchboard.testing import ScriptedChatModel, escalate, finish, handoff, route
from tests.graph.conftest import GraphFactory

CONFIG: Any = {"configurable": {"thread_id": "t"}}


async def test_approving_past_a_failed_step_hands_it_over(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(
        steps=[
            route("alpha", "Ship the apples", skill="apples"),
            handoff("The warehouse refused the shipment.", status="failed"),
            escalate("alpha failed to ship; go on without it?"),
            finish("nothing more to do"),
        ]
    )
    graph = desk_graph(model)
    await graph.ainvoke({"task": "ship apples"}, CONFIG)
    await graph.ainvoke(Command(resume={"approved": True, "note": "I'll ship them by hand"}), CONFIG)
    model.assert_complete()
    values = (await graph.aget_state(CONFIG)).values
    assert values["outcome"] == "handed_over"
    assert values["summary"].startswith("Handed over: step 'apples' did not finish")
    assert query.finished(values["trail"]) and values["trail"][-1]["outcome"] == "handed_over"
    result = RunResult("t", "completed", values["summary"], values["outcome"])
    assert result.exit_code == 4  # the CLI does not exit 0 for work left to a human


async def test_a_new_step_does_not_finish_the_failed_one(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(
        steps=[
            route("alpha", "Count the apples", skill="apples"),
            handoff("The scale is broken.", status="unable"),
            # no other agent has the skill: the supervisor asks, the human says go, beta is routed
            route("beta", "Count the apples", skill="bananas"),
            handoff("12 apples."),
            finish("counted"),
        ]
    )
    graph = desk_graph(model)
    await graph.ainvoke({"task": "count apples"}, CONFIG)
    await graph.ainvoke(Command(resume={"approved": True}), CONFIG)
    values = (await graph.aget_state(CONFIG)).values
    # alpha's step is still unfinished: a new step by beta does not finish it
    assert values["outcome"] == "handed_over"


async def test_every_step_done_is_resolved(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(steps=[route("alpha", "Apples?", skill="apples"), handoff("Red."), finish("answered")])
    graph = desk_graph(model)
    await graph.ainvoke({"task": "apples?"}, CONFIG)
    values = (await graph.aget_state(CONFIG)).values
    assert values["outcome"] == "resolved" and values["summary"].startswith("Done")
    assert RunResult("t", "completed", outcome="resolved").exit_code == 0
