"""A tool call whose arguments are not valid JSON is answered, never run, and the model tries again.

LangChain's OpenAI client puts such a call in ``AIMessage.invalid_tool_calls``
(with the parse error), not in ``tool_calls``. The provider still sees it in
the history it is sent back, and refuses the next request with a 400 unless
a tool message answers every call id. The scripted model plays the replies
as ``langchain-openai`` parses them (:func:`_bad`), and each test checks the
history the model is sent as the provider would (:func:`_assert_answered`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, InvalidToolCall, ToolCall, ToolMessage
from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call
from langgraph.types import Command

from switchboard.agents.questions import ASK_TOOL
from switchboard.agents.spec import AgentSpec
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.testing import RecordedCall, ScriptedChatModel, call, finish, handoff, route

CONFIG: Any = {"configurable": {"thread_id": "t"}}
STOCK: dict[str, int] = {}


def restock(item: str, count: int) -> str:
    """Put ``count`` units of ``item`` back into stock."""
    STOCK[item] = STOCK.get(item, 0) + count
    return f"{item}: {STOCK[item]} in stock"


def count_stock(item: str) -> str:
    """How many units of ``item`` are in stock."""
    return f"{item}: {STOCK.get(item, 0)} in stock"


def _bad(name: str, arguments: str, call_id: str | None) -> InvalidToolCall:
    """The call as ``langchain-openai`` parses a tool call whose arguments are not valid JSON."""
    raw = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    try:
        parse_tool_call(raw, return_id=True)
    except Exception as exc:  # what langchain-openai catches
        return make_invalid_tool_call(raw, str(exc))
    raise AssertionError(f"{arguments!r} is valid JSON")


def _good(name: str, call_id: str, **args: Any) -> ToolCall:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def _assert_answered(calls: list[RecordedCall]) -> None:
    """Every call id of every model message is answered by the tool messages right after it, as OpenAI demands."""
    for recorded in calls:
        messages = recorded.messages
        for index, message in enumerate(messages):
            if not isinstance(message, AIMessage):
                continue
            asked = [c["id"] for c in message.tool_calls] + [c["id"] for c in message.invalid_tool_calls]
            answers: list[str] = []
            for later in messages[index + 1 :]:
                if not isinstance(later, ToolMessage):
                    break
                answers.append(later.tool_call_id)
            assert all(asked), f"a call without an id: {message}"
            assert sorted(answers) == sorted(asked), f"calls {asked} answered by {answers}"


def _reply(messages: Any, call_id: str) -> str:
    """The customer's reply to the question asked in call ``call_id``."""
    (answer,) = [m for m in messages if isinstance(m, ToolMessage) and m.tool_call_id == call_id]
    return str(json.loads(answer.text)["customer_reply"])


def _errors(messages: list[BaseMessage]) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage) and m.status == "error"]


async def _run(model: ScriptedChatModel, tmp_path: Path) -> Any:
    spec = AgentSpec(name="stock", description="The stock room.", tools=[restock, count_stock])
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph([spec], model=model, checkpointer=saver)
        await graph.ainvoke({"task": "restock one mug"}, CONFIG)
        return (await graph.aget_state(CONFIG)).values


def _script(*agent: AIMessage) -> ScriptedChatModel:
    return ScriptedChatModel(steps=[route("stock", "Restock one mug"), finish()], agents={"stock": list(agent)})


async def test_a_call_with_invalid_json_is_answered_and_the_model_calls_again(tmp_path: Path) -> None:
    """The reported case: the step failed with a 400 after being told it "answered in text"."""
    STOCK.clear()
    broken = AIMessage("", invalid_tool_calls=[_bad("restock", '{"item": "mug", "count": 1', "call_bad")])
    model = _script(broken, call("restock", item="mug", count=1), handoff("One mug restocked."))
    values = await _run(model, tmp_path)
    model.assert_complete()
    assert STOCK == {"mug": 1}  # run once: the broken call ran nothing
    (step,) = query.handoffs(values["trail"])
    assert step["status"] == "done"
    retry = [c for c in model.calls if c.agent == "stock"][1]
    _assert_answered([retry])
    (answer,) = _errors(retry.messages)
    assert answer.tool_call_id == "call_bad" and answer.name == "restock"
    assert "not valid JSON" in answer.text and "Expecting ',' delimiter" in answer.text
    assert "call restock again" in answer.text
    assert "answered in text" not in retry.text  # it did call a tool
    malformed, ran = step["tool_calls"]
    assert (malformed["tool"], malformed["outcome"], malformed["args"]) == ("restock", "refused", {})
    assert (ran["tool"], ran["outcome"]) == ("restock", "ok")


async def test_a_valid_and_an_invalid_call_in_one_turn_are_both_answered(tmp_path: Path) -> None:
    STOCK.clear()
    both = AIMessage(
        "",
        tool_calls=[_good("restock", "call_ok", item="mug", count=1)],
        invalid_tool_calls=[_bad("count_stock", '{"item": "mug"', "call_bad")],
    )
    model = _script(both, call("count_stock", item="mug"), handoff("One mug restocked."))
    values = await _run(model, tmp_path)
    model.assert_complete()
    assert STOCK == {"mug": 1}
    (step,) = query.handoffs(values["trail"])
    assert step["status"] == "done"
    calls = [c for c in model.calls if c.agent == "stock"]
    _assert_answered(calls)
    (answer,) = _errors(calls[1].messages)
    assert answer.tool_call_id == "call_bad" and "not valid JSON" in answer.text
    assert [(c["tool"], c["outcome"]) for c in step["tool_calls"]] == [
        ("restock", "ok"),
        ("count_stock", "refused"),
        ("count_stock", "ok"),
    ]


async def test_a_handoff_next_to_an_invalid_call_is_not_taken(tmp_path: Path) -> None:
    STOCK.clear()
    done = handoff("One mug restocked.").tool_calls[0]
    hasty = AIMessage("", tool_calls=[done], invalid_tool_calls=[_bad("restock", '{"item": "mug", "count":', "c9")])
    model = _script(hasty, call("restock", item="mug", count=1), handoff("One mug restocked."))
    values = await _run(model, tmp_path)
    model.assert_complete()
    assert STOCK == {"mug": 1}
    (step,) = query.handoffs(values["trail"])
    assert step["status"] == "done" and [c["outcome"] for c in step["tool_calls"]] == ["refused", "ok"]
    calls = [c for c in model.calls if c.agent == "stock"]
    _assert_answered(calls)
    texts = {m.tool_call_id: m.text for m in _errors(calls[1].messages)}
    assert "not valid JSON" in texts["c9"] and "did not succeed" in texts[done["id"]]


async def test_an_invalid_handoff_is_answered_and_handed_off_again(tmp_path: Path) -> None:
    STOCK.clear()
    broken = AIMessage("", invalid_tool_calls=[_bad("handoff", '{"status": "done", "summary": "Nothing to do', "h1")])
    model = _script(broken, handoff("Nothing to do."))
    values = await _run(model, tmp_path)
    model.assert_complete()
    (step,) = query.handoffs(values["trail"])
    assert step["status"] == "done" and step["summary"] == "Nothing to do."
    calls = [c for c in model.calls if c.agent == "stock"]
    _assert_answered(calls)
    (answer,) = _errors(calls[1].messages)
    assert answer.tool_call_id == "h1" and "call handoff again" in answer.text


async def test_invalid_calls_without_or_with_a_repeated_id_get_ids_of_their_own(tmp_path: Path) -> None:
    """Local servers send calls without ids, or one id per turn; each answer must still match one call."""
    STOCK.clear()
    messy = AIMessage(
        "",
        tool_calls=[_good("restock", "call_0", item="mug", count=1)],
        invalid_tool_calls=[_bad("count_stock", "{", None), _bad("count_stock", "{'item'", "call_0")],
    )
    model = _script(messy, handoff("One mug restocked."))
    await _run(model, tmp_path)
    model.assert_complete()
    calls = [c for c in model.calls if c.agent == "stock"]
    _assert_answered(calls)
    (sent,) = [m for m in calls[1].messages if isinstance(m, AIMessage)]
    ids = [c["id"] for c in sent.tool_calls] + [c["id"] for c in sent.invalid_tool_calls]
    assert len(set(ids)) == 3 and ids[0] == "call_0"


async def test_an_invalid_call_next_to_a_question_is_answered_too(tmp_path: Path) -> None:
    STOCK.clear()
    asking = AIMessage(
        "",
        tool_calls=[_good(ASK_TOOL, "ask1", question="Which item?")],
        invalid_tool_calls=[_bad("restock", '{"item": ', "bad1")],
    )
    model = _script(
        asking,
        lambda messages, tools: call("restock", item=_reply(messages, "ask1"), count=1),
        handoff("One mug restocked."),
    )
    spec = AgentSpec(name="stock", description="The stock room.", tools=[restock, count_stock])
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph([spec], model=model, checkpointer=saver)
        await graph.ainvoke({"task": "restock one mug"}, CONFIG)
        assert (await graph.aget_state(CONFIG)).interrupts  # the question waits for the customer
        await graph.ainvoke(Command(resume="mug"), CONFIG)
    model.assert_complete()
    assert STOCK == {"mug": 1}
    calls = [c for c in model.calls if c.agent == "stock"]
    _assert_answered(calls)
    (answer,) = _errors(calls[1].messages)
    assert answer.tool_call_id == "bad1" and "not valid JSON" in answer.text


async def test_a_call_cut_off_at_the_token_cap_is_asked_again_shorter(tmp_path: Path) -> None:
    STOCK.clear()
    cut = AIMessage(
        "",
        invalid_tool_calls=[_bad("restock", '{"item": "mu', "cut1")],
        response_metadata={"finish_reason": "length"},
    )
    model = _script(cut, handoff("Nothing restocked."))
    await _run(model, tmp_path)
    model.assert_complete()
    calls = [c for c in model.calls if c.agent == "stock"]
    _assert_answered(calls)
    (answer,) = _errors(calls[1].messages)
    assert "cut off at the token cap" in answer.text and "shorter JSON object" in answer.text
