"""Token and cost budgets counted in the graph (issue 7, "Budgets per run: ... tokens and cost").

The scripted model reports ``usage_metadata`` on its replies, as providers
do; the graph sums every model call of the run (the supervisor's routing
calls and the agents' calls) into the trail, and at the policy's limit the
run pauses for a human (``on_exceeded: escalate``) or ends (``fail``).
Checkpoints are real SQLite files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from switchboard.agents.card import load_team
from switchboard.checkpoints.audit import open_audit
from switchboard.checkpoints.factory import open_checkpointer
from switchboard.graph import build_graph
from switchboard.policies.budgets import Budgets
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish, handoff, route

pytestmark = pytest.mark.usefixtures("principals")


def _used(message: AIMessage, tokens_in: int, tokens_out: int, model: str = "gpt-4.1") -> AIMessage:
    """A reply as a provider sends it: with its usage and model name."""
    usage = {"input_tokens": tokens_in, "output_tokens": tokens_out, "total_tokens": tokens_in + tokens_out}
    return message.model_copy(update={"usage_metadata": usage, "response_metadata": {"model_name": model}})


async def _run(tmp_path: Path, budgets: Budgets, model: ScriptedChatModel) -> tuple[Any, dict[str, Any]]:
    team = load_team()
    policy = team.load_policy().model_copy(update={"budgets": budgets})
    async with open_checkpointer(str(tmp_path / "budget.sqlite")) as saver:
        graph = build_graph(team=team, model=model, policy=policy, checkpointer=saver)
        config: Any = {"configurable": {"thread_id": "budget-1"}}
        await graph.ainvoke({"task": "How many espresso machines are in stock?"}, config)
        return await graph.aget_state(config), config


async def test_the_tokens_of_every_model_call_count_and_the_run_escalates_at_the_limit(tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[_used(route("inventory", "count the espresso machines", skill="product_lookup"), 500, 10),
               finish()],
        agents={"inventory": [_used(handoff("12 in stock."), 900, 300)]},
    )  # fmt: skip
    state, _ = await _run(tmp_path, Budgets(tokens=1000), model)
    [question] = [i.value for i in state.interrupts]
    assert question["kind"] == "escalation" and "tokens 1710 > 1000" in question["question"]
    trail = state.values["trail"]
    decision, step = trail[0], trail[1]
    assert decision["usage"]["tokens"] == 510 and step["usage"]["tokens"] == 1200
    assert step["usage"]["cost_usd"] == pytest.approx((900 * 2.0 + 300 * 8.0) / 1e6)  # prices.yaml: gpt-4.1
    assert not step["usage"]["estimated"]
    budget = [e.payload for e in open_audit(Settings().data_dir).entries("budget-1") if e.kind == "budget"]
    assert budget and budget[0]["exceeded"] == ["tokens"] and budget[0]["tokens"] == 1710


async def test_within_the_budget_the_run_finishes(tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[_used(route("inventory", "count the espresso machines", skill="product_lookup"), 500, 10),
               _used(finish(), 500, 10)],
        agents={"inventory": [_used(handoff("12 in stock."), 900, 300)]},
    )  # fmt: skip
    state, _ = await _run(tmp_path, Budgets(tokens=2000), model)
    model.assert_complete()
    assert not state.interrupts and state.values["outcome"] == "resolved"


async def test_over_the_cost_budget_a_failing_policy_ends_the_run(tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("inventory", "count the espresso machines", skill="product_lookup")],
        agents={"inventory": [_used(handoff("12 in stock."), 100_000, 5_000)]},  # $0.24 at gpt-4.1 prices
    )  # fmt: skip
    state, _ = await _run(tmp_path, Budgets(cost_usd=0.1, on_exceeded="fail"), model)
    model.assert_complete()  # no routing call after the limit
    assert not state.interrupts and state.values["outcome"] == "escalated"
    assert state.values["summary"].startswith("Stopped: the run is over budget: cost_usd 0.24 > 0.1.")


async def test_without_reported_usage_the_tokens_are_estimated(tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("inventory", "count the espresso machines", skill="product_lookup")],
        agents={"inventory": [handoff("12 in stock.")]},
    )  # fmt: skip
    state, _ = await _run(tmp_path, Budgets(tokens=1), model)
    step = state.values["trail"][1]
    assert step["usage"]["estimated"] and step["usage"]["tokens"] > 50  # the prompt alone is hundreds of characters
    assert "tokens" in state.interrupts[0].value["question"]
