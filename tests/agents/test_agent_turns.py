"""An agent step spends as few model calls as it can: handoff with the last tools, tools bound once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import ToolException
from pydantic import ValidationError

from switchboard.agents.card import AgentCard, Skill
from switchboard.agents.spec import AgentSpec
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.testing import ScriptedChatModel, escalate, finish, handoff, route

CONFIG: Any = {"configurable": {"thread_id": "t"}}
STOCK: dict[str, int] = {}


def restock(item: str, count: int) -> str:
    """Put ``count`` units of ``item`` back into stock."""
    if count <= 0:
        raise ToolException("count must be positive")  # the tool's refusal: nothing was stocked
    STOCK[item] = STOCK.get(item, 0) + count
    return f"{item}: {STOCK[item]} in stock"


def _call_and_handoff(count: int) -> AIMessage:
    """One turn: the restock call and the handoff together."""
    done = handoff("One mug counted.", item="mug").tool_calls[0]
    call = {"name": "restock", "args": {"item": "mug", "count": count}, "id": f"call_restock_{count}"}
    return AIMessage("", tool_calls=[{**call, "type": "tool_call"}, done])


class CountingModel(ScriptedChatModel):
    """The scripted model, counting how often an agent's tools are bound to it."""

    binds: int = 0

    def bind_tools(self, tools: Any, *, tool_choice: Any = None, **kwargs: Any) -> Runnable[Any, Any]:
        self.binds += any(getattr(t, "name", None) == "restock" for t in tools)
        return super().bind_tools(tools, tool_choice=tool_choice, **kwargs)


async def _run(model: ScriptedChatModel, tmp_path: Path) -> Any:
    spec = AgentSpec(name="stock", description="Puts returned items back into stock.", tools=[restock])
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph([spec], model=model, checkpointer=saver)
        await graph.ainvoke({"task": "restock one mug"}, CONFIG)
        return (await graph.aget_state(CONFIG)).values


async def test_a_handoff_with_the_last_tool_call_ends_the_step_in_one_model_call(tmp_path: Path) -> None:
    STOCK.clear()
    model = ScriptedChatModel(
        steps=[route("stock", "Restock one mug"), finish()], agents={"stock": [_call_and_handoff(1)]}
    )
    values = await _run(model, tmp_path)
    model.assert_complete()
    assert STOCK == {"mug": 1}
    (step,) = query.handoffs(values["trail"])
    assert step["status"] == "done" and step["facts"] == {"item": "mug"}
    assert [(c["tool"], c["outcome"]) for c in step["tool_calls"]] == [("restock", "ok")]
    assert sum(1 for c in model.calls if c.agent == "stock") == 1


async def test_a_handoff_next_to_a_failed_call_is_not_taken(tmp_path: Path) -> None:
    STOCK.clear()
    model = ScriptedChatModel(
        steps=[route("stock", "Restock one mug"), escalate("The restock was refused.")],
        agents={"stock": [_call_and_handoff(0), handoff("Could not restock.", status="failed")]},
    )
    values = await _run(model, tmp_path)
    model.assert_complete()
    (step,) = query.handoffs(values["trail"])
    assert step["status"] == "failed" and STOCK == {} and values["pending"]
    assert [(c["tool"], c["outcome"]) for c in step["tool_calls"]] == [("restock", "refused")]
    second = [c for c in model.calls if c.agent == "stock"][1]
    assert "did not succeed" in second.text  # the model was told why its handoff did not count


async def test_an_agent_binds_its_tools_once_across_turns_and_steps(tmp_path: Path) -> None:
    STOCK.clear()
    model = CountingModel(
        steps=[route("stock", "Restock one mug"), route("stock", "Restock two more"), finish()],
        agents={"stock": [_call_and_handoff(1), _call_and_handoff(2)]},
    )
    await _run(model, tmp_path)
    model.assert_complete()
    assert STOCK == {"mug": 3}
    assert model.binds == 1


def count_stock(item: str) -> str:
    """How many units of ``item`` are in stock."""
    return f"{item}: {STOCK.get(item, 0)} in stock"


async def test_a_step_is_shown_only_its_skills_tools(tmp_path: Path) -> None:
    STOCK.clear()
    skills = (
        Skill(id="restock", description="Put items back into stock.", tools=("restock",)),
        Skill(id="count", description="Count what is in stock."),
    )
    spec = AgentSpec(name="stock", description="The stock room.", tools=[restock, count_stock], skills=skills)
    model = ScriptedChatModel(
        steps=[route("stock", "Restock one mug", skill="restock"), route("stock", "Count", skill="count"), finish()],
        agents={"stock": [_call_and_handoff(1), handoff("One mug counted.")]},
    )
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph([spec], model=model, checkpointer=saver)
        await graph.ainvoke({"task": "restock one mug"}, CONFIG)
    model.assert_complete()
    shown = [c.tools for c in model.calls if c.agent == "stock"]
    # handoff is every step's own; a skill that lists its tools shows ask_customer only if it names it,
    # and one that lists none shows the whole card and ask_customer
    assert shown == [["restock", "handoff"], ["restock", "count_stock", "ask_customer", "handoff"]]


async def test_a_skill_that_names_ask_customer_is_shown_it(tmp_path: Path) -> None:
    STOCK.clear()
    skills = (Skill(id="restock", description="Put items back into stock.", tools=("restock", "ask_customer")),)
    spec = AgentSpec(name="stock", description="The stock room.", tools=[restock], skills=skills)
    model = ScriptedChatModel(
        steps=[route("stock", "Restock one mug", skill="restock"), finish()],
        agents={"stock": [_call_and_handoff(1)]},
    )
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph([spec], model=model, checkpointer=saver)
        await graph.ainvoke({"task": "restock one mug"}, CONFIG)
    model.assert_complete()
    assert [c.tools for c in model.calls if c.agent == "stock"] == [["restock", "ask_customer", "handoff"]]


def test_a_skill_may_list_only_tools_on_its_card() -> None:
    skill = Skill(id="restock", description="Put items back.", tools=("restock", "sell"))
    with pytest.raises(ValidationError, match="sell"):
        AgentCard(name="stock", description="The stock room.", skills=(skill,), tools=("restock",))
