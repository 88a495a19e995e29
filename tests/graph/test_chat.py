"""Chat-compatible state: ``{"messages": [...]}`` in, an ``AIMessage`` report out."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from switchboard.errors import TaskError
from switchboard.graph import trail as query
from switchboard.graph.intake import MAX_TASK_CHARS, validate_task
from switchboard.testing import ScriptedChatModel, finish, handoff, route
from tests.graph.conftest import GraphFactory

CONFIG: Any = {"configurable": {"thread_id": "chat"}}


async def test_a_chat_message_runs_end_to_end_and_ends_with_the_report(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(steps=[route("alpha", "Say something about apples"), finish("answered")])
    model.agents["alpha"] = [handoff("Apples are red.")]
    graph = desk_graph(model)
    output = await graph.ainvoke({"messages": [{"role": "user", "content": "Tell me about apples"}]}, CONFIG)
    model.assert_complete()
    assert "<task>\nTell me about apples\n</task>" in model.calls[0].text
    human, report = output["messages"]
    assert isinstance(human, HumanMessage) and isinstance(report, AIMessage)
    assert report.content == output["summary"] and "alpha: Apples are red." in report.content
    assert output["outcome"] == "resolved" and output["task"] == "Tell me about apples"


async def test_a_task_run_shows_in_the_chat_too(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(steps=[finish("nothing to do")])
    output = await desk_graph(model).ainvoke({"task": "  say hi  "}, CONFIG)
    assert [type(m) for m in output["messages"]] == [HumanMessage, AIMessage]
    assert output["messages"][0].content == "say hi"


async def test_each_chat_turn_is_a_new_task_with_its_own_report(desk_graph: GraphFactory) -> None:
    model = ScriptedChatModel(
        steps=[route("alpha", "apples"), finish("first done"), route("beta", "bananas"), finish("second done")],
        agents={"alpha": [handoff("Apples are red.")], "beta": [handoff("Bananas are yellow.")]},
    )
    graph = desk_graph(model, max_hops=2)  # each turn gets its own hop budget
    await graph.ainvoke({"messages": [HumanMessage("apples?")]}, CONFIG)
    blocks = [{"type": "text", "text": "and bananas?"}]  # agent-chat-ui sends content blocks
    output = await graph.ainvoke({"messages": [HumanMessage(blocks)]}, CONFIG)
    model.assert_complete()
    assert output["task"] == "and bananas?"
    assert [type(m) for m in output["messages"]] == [HumanMessage, AIMessage, HumanMessage, AIMessage]
    second = output["messages"][-1].content
    assert "beta: Bananas are yellow." in second and "Apples" not in second  # the report covers its own turn
    assert len(query.handoffs(output["trail"])) == 2  # the trail keeps both turns


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"task": ""}, "the task is empty"),
        ({"task": "   "}, "the task is empty"),
        ({"task": 42}, "a task must be text, not int"),
        ({"task": "x" * (MAX_TASK_CHARS + 1)}, f"keep it under {MAX_TASK_CHARS}"),
        ({"task": "cancel order \udcff\udcfe please"}, "bytes that are not text"),  # argv that was not UTF-8
        ({"task": "cancel order \x1b[31m now\x07"}, "control characters"),  # a terminal escape for the operator
        ({"messages": [{"role": "user", "content": " "}]}, "the task is empty"),
        ({"messages": [{"role": "assistant", "content": "hello"}]}, "there is no task"),
        ({}, "there is no task"),
    ],
)
async def test_a_malformed_task_is_refused_inside_the_graph(
    desk_graph: GraphFactory, payload: dict[str, Any], error: str
) -> None:
    model = ScriptedChatModel(steps=[])
    with pytest.raises(TaskError, match=error):
        await desk_graph(model).ainvoke(payload, CONFIG)
    assert model.calls == []  # refused before anything ran


def test_pasted_page_and_line_breaks_are_line_breaks_not_refusals() -> None:
    assert validate_task("Order #W1\fpage 2\vline 3\twith a tab") == "Order #W1\npage 2\nline 3\twith a tab"


def test_input_and_output_schemas_fit_chat_clients(desk_graph: GraphFactory) -> None:
    graph = desk_graph(ScriptedChatModel(steps=[]))
    assert set(graph.get_input_jsonschema()["properties"]) == {"task", "messages"}
    assert {"messages", "summary", "outcome", "trail"} <= set(graph.get_output_jsonschema()["properties"])
