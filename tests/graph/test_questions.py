"""An agent asks the customer a question: a pause of its own kind, answered with a reply (issue 11).

The first tests resume the compiled graph directly with ``Command(resume=...)``,
as a LangGraph server client would, so the checks they show live in the
graph; the last ones go through ``reply_run`` and ``resume_run``, on the
retail team with its real MCP server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import tool
from langgraph.types import Command

from switchboard.agents.card import Team, load_team
from switchboard.agents.questions import ASK_TOOL, CustomerQuestion, read_reply
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.checkpoints.audit import open_audit
from switchboard.engine import ASK_CUSTOMER
from switchboard.errors import ReplyRefused, ThreadError
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.policies import PolicyFile
from switchboard.replies import reply_run
from switchboard.runs import read_thread, resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

TEAM = """
name: shop
agents:
  - name: till
    description: Takes payments and refunds.
    skills: [{id: refunds, description: Refunds.}]
    tools: [refund]
"""
POLICY = PolicyFile.model_validate(
    {
        "name": "shop",
        "approvals": [
            {"id": "large-refund", "tools": ["refund"], "measure": {"field": "amount"}, "threshold": 500,
             "roles": ["finance_manager"], "question": "Refund ${value:.2f}?"}
        ],
    }
)  # fmt: skip
CONFIG: Any = {"configurable": {"thread_id": "q"}}
refunds: list[float] = []


@tool
def refund(amount: float) -> str:
    """Refund an amount (a write)."""
    refunds.append(amount)
    return f"refunded {amount}"


Factory = Callable[[ScriptedChatModel], Any]


@pytest.fixture
async def make(tmp_path: Path, principals: Path) -> AsyncIterator[Factory]:
    refunds.clear()
    file = tmp_path / "shop.yaml"
    file.write_text(TEAM)
    team: Team = load_team(file)
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        yield lambda model: build_graph(
            team=team, model=model, toolbox=Toolbox.of([refund]), policy=POLICY, checkpointer=saver
        )


def _asking_script() -> ScriptedChatModel:
    return ScriptedChatModel(
        steps=[route("till", "refund the customer's order", skill="refunds"), finish("refunded")],
        agents={
            "till": [
                call(ASK_TOOL, question="How much was the order?"),
                lambda messages, tools: call(
                    "refund", amount=float(json.loads(messages[-1].content)["customer_reply"])
                ),
                handoff("Refunded what the customer paid."),
            ]
        },
    )


async def _resume(graph: Any, value: Any) -> Any:
    await graph.ainvoke(Command(resume=value), CONFIG)
    return await graph.aget_state(CONFIG)


async def test_a_question_pauses_and_the_reply_goes_back_to_the_agent_that_asked(make: Factory) -> None:
    model = _asking_script()
    graph = make(model)
    await graph.ainvoke({"task": "refund my order"}, CONFIG)
    state = await graph.aget_state(CONFIG)
    (pending,) = state.interrupts
    question = CustomerQuestion.model_validate(pending.value)  # the documented payload
    assert (question.kind, question.agent, question.question) == ("question", "till", "How much was the order?")
    assert set(question.resume.example) == {"reply"} and "INTERRUPT_ID" in question.resume.how  # keyed by id
    assert refunds == []

    state = await _resume(graph, {pending.id: {"reply": "42"}})
    model.assert_complete()
    assert not state.interrupts and state.values["outcome"] == "resolved"
    assert refunds == [42.0]
    till = [c for c in model.calls if c.agent == "till"]
    answer = till[1].messages[-1]
    assert isinstance(answer, ToolMessage) and json.loads(str(answer.content)) == {"customer_reply": "42"}
    assert "ask_customer" in till[0].tools  # offered to every agent, beside its own tools and handoff
    (step,) = query.handoffs(state.values["trail"])
    asked, refunded = step["tool_calls"]
    assert (asked["tool"], asked["args"], asked["result"]) == (ASK_TOOL, {"question": "How much was the order?"}, "42")
    assert refunded["tool"] == "refund" and refunded["outcome"] == "ok"
    kinds = [e.payload.get("kind") for e in open_audit(Settings().data_dir).entries("q") if e.kind == "escalation"]
    assert kinds.count("question") == 1 and kinds.count("reply") == 1  # recorded once, across the resume


async def test_an_approval_sent_to_a_question_and_an_empty_reply_are_refused_in_the_graph(make: Factory) -> None:
    model = _asking_script()
    graph = make(model)
    await graph.ainvoke({"task": "refund my order"}, CONFIG)
    asked = (await graph.aget_state(CONFIG)).interrupts[0].value
    for wrong, why in [
        ({"approved": True, "approver": "alice"}, "not for an approval"),
        ({"reply": "   "}, "the reply is empty"),
        ({"reply": 42}, "it is not text"),
    ]:
        state = await _resume(graph, wrong)
        (pending,) = state.interrupts
        assert pending.value["interrupt_id"] == asked["interrupt_id"] and why in pending.value["error"]
        assert refunds == []  # still paused on the same question; nothing ran
    state = await _resume(graph, "500")  # a plain string is a reply too
    assert not state.interrupts and refunds == [500.0]
    refused = [e for e in open_audit(Settings().data_dir).entries("q") if e.payload.get("kind") == "reply_refused"]
    assert len(refused) == 3


async def test_a_reply_sent_to_an_approval_is_refused_in_the_graph(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route("till", "refund 900", skill="refunds")], agents={"till": [call("refund", amount=900)]}
    )
    graph = make(model)
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    state = await _resume(graph, {"reply": "yes please"})
    (pending,) = state.interrupts
    assert pending.value["kind"] == "approval" and "refused answer" in pending.value["error"]
    assert refunds == []


@pytest.mark.parametrize(("value", "text"), [("  #W0000123 ", "#W0000123"), ({"reply": "the kettle"}, "the kettle")])
def test_read_reply_takes_text_or_the_documented_shape(value: Any, text: str) -> None:
    assert read_reply(value) == text


def test_a_reply_with_control_characters_is_refused_as_a_task_would_be() -> None:
    """A reply carried terminal escapes to the agent and to `show`, where a task is refused (A2A review)."""
    with pytest.raises(ReplyRefused, match=r"control characters \(U\+001B\)"):
        read_reply("\x1b[2JBergen")
    assert read_reply("Bergen,\nplease") == "Bergen,\nplease"


def test_the_engine_and_the_graph_name_the_tool_alike() -> None:
    assert ASK_CUSTOMER == ASK_TOOL


WHICH_ORDER = (
    "Hi, I'm Mia Chen, mia.chen@example.com. I want to return my delivered order, it arrived damaged. "
    "Refund the payment method I used."
)


async def test_the_embedded_engine_asks_which_order_and_reply_run_answers(settings: Settings, mia: Any) -> None:
    """Mia has two delivered orders and names neither: the agent asks which one, and the reply picks it."""
    result = await start_run(WHICH_ORDER, thread_id="which", settings=settings)
    assert result.status == "paused" and result.pending is not None
    assert result.pending["kind"] == "question" and result.pending["agent"] == "finance"
    question = result.pending["question"]
    under, over = mia.orders["delivered_under_500"], mia.orders["delivered_over_500"]
    assert question.startswith("Which order do you mean?") and under in question and over in question

    with pytest.raises(ThreadError, match='switchboard reply which "TEXT"'):
        await resume_run("which", approved=True, approver="alice", settings=settings)
    with pytest.raises(ReplyRefused, match="empty"):
        await reply_run("which", " ", settings=settings)

    result = await reply_run("which", f"The one with the water bottle, {under}.", settings=settings)
    assert result.status == "completed" and result.outcome == "resolved", result
    first = query.handoffs((await read_thread("which", settings=settings))["trail"])[0]
    assert first["agent"] == "finance" and first["facts"]["order_id"] == under
    assert [c["tool"] for c in first["tool_calls"]][-2:] == ["quote_return_refund", "return_delivered_order_items"]


async def test_reply_refuses_a_thread_paused_for_an_approval(settings: Settings, principals: Path, mia: Any) -> None:
    task = (
        "Hi, this is Mia Chen (mia.chen@example.com). The espresso machine and the headphones from my "
        "last delivered order arrived damaged. I want to return both and get my money back."
    )
    result = await start_run(task, thread_id="approval", settings=settings)
    assert result.status == "paused" and result.pending and result.pending["kind"] == "approval"
    with pytest.raises(ThreadError, match=r"waits for an approval .*switchboard resume approval --approve"):
        await reply_run("approval", "yes, go ahead", settings=settings)
    with pytest.raises(ThreadError, match="no thread 'nope'"):
        await reply_run("nope", "hello", settings=settings)
