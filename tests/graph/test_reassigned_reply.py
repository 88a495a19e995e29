"""A customer's reply travels with a reassigned step, so the fallback agent does not ask again.

An agent asks the customer, the customer answers, then the agent's model
fails and the supervisor hands the step to a fallback. The reply exists
only as the result of the first agent's ``ask_customer`` call; the fallback
reads what was tried from its instruction, so the reply must be there.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.tools import tool
from langgraph.types import Command

from switchboard.agents.card import Team, load_team
from switchboard.agents.questions import ASK_TOOL
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, call, fail, finish, handoff, route

TEAM = """
name: shop
agents:
  - name: finance
    description: Cancels orders and refunds them.
    skills: [{id: cancel_order, description: Cancel a pending order.}]
    fallbacks: {cancel_order: [finance_backup]}
    tools: [cancel_order, order_details]
  - name: finance_backup
    description: Second finance desk, used when finance is down.
    skills: [{id: cancel_order, description: Cancel a pending order.}]
    tools: [cancel_order, order_details]
"""
POLICY = PolicyFile.model_validate({"name": "shop"})
CONFIG: Any = {"configurable": {"thread_id": "lost-reply"}}
REPLY = "It is order #W0627403"
DETAILS = "order #W0627403: one kettle, pending, " + "x" * 2000
"""A long read result: results other than the customer's replies stay out of the instruction."""

Factory = Callable[[ScriptedChatModel], Any]


@tool
def cancel_order(order_id: str) -> str:
    """Cancel a pending order (a write)."""
    return f"cancelled {order_id}"


@tool
def order_details(email: str) -> str:
    """Read the customer's order (a read)."""
    return DETAILS


order_details.metadata = {"readOnlyHint": True}


@pytest.fixture
async def make(tmp_path: Path, principals: Path) -> AsyncIterator[Factory]:
    file = tmp_path / "shop.yaml"
    file.write_text(TEAM)
    team: Team = load_team(file)
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        yield lambda model: build_graph(
            team=team, model=model, toolbox=Toolbox.of([cancel_order, order_details]), policy=POLICY, checkpointer=saver
        )


def _asks_unless_told(messages: Sequence[BaseMessage], tools: list[str]) -> AIMessage:
    """The fallback's first move, as a model would make it: ask, unless its prompt holds the reply."""
    if REPLY in "\n".join(str(m.content) for m in messages):
        return call("cancel_order", order_id="#W0627403")
    return call(ASK_TOOL, question="Which order do you mean?")


def _script() -> ScriptedChatModel:
    """finance reads, asks, gets the reply, then its model fails; finance_backup must act on the reply."""
    return ScriptedChatModel(
        steps=[route("finance", "Cancel the order the customer ordered by mistake", skill="cancel_order"), finish()],
        agents={
            "finance": [
                call("order_details", email="mia.chen@example.com"),
                call(ASK_TOOL, question="Which order do you mean?"),
                fail("upstream overloaded"),
            ],
            "finance_backup": [
                _asks_unless_told,
                handoff("Cancelled order #W0627403."),
            ],
        },
    )


async def test_the_customers_reply_goes_with_the_step_to_the_fallback(make: Factory) -> None:
    model = _script()
    graph = make(model)
    await graph.ainvoke({"task": "Please cancel my order, I ordered it by mistake."}, CONFIG)
    (question,) = (await graph.aget_state(CONFIG)).interrupts
    await graph.ainvoke(Command(resume={question.id: {"reply": REPLY}}), CONFIG)
    state = await graph.aget_state(CONFIG)

    assert not state.interrupts, "finance_backup asked the customer the same question again"
    assert state.values["outcome"] == "resolved"
    model.assert_complete()
    first, second = query.handoffs(state.values["trail"])
    assert (first["agent"], first["status"], second["agent"]) == ("finance", "failed", "finance_backup")
    assert [c["tool"] for c in second["tool_calls"]] == ["cancel_order"]
    instruction = next(c for c in model.calls if c.agent == "finance_backup").text
    tried = json.loads(instruction[instruction.index("[{") :].split("\n")[0])
    asked = next(c for c in tried if c["tool"] == ASK_TOOL)
    assert asked["customer_reply"] == REPLY
    read = next(c for c in tried if c["tool"] == "order_details")
    assert "x" * 100 not in json.dumps(read)  # other results stay out: the instruction rides on every model call
