"""A model's reported usage is untrusted input: it cannot lower the run's count or crash it.

Providers report tokens in ``usage_metadata``, and the token and cost
budgets add them up (:mod:`switchboard.graph.usage`). A model that reports
a negative count used to subtract it from the run, so one reply with
``input_tokens: -1000000000`` erased the budget; one that reported a
string, NaN or infinity crashed the count. Now a negative count is 0, and a
count that is not a finite number, is a bool, or is past
``MAX_REPORTED_TOKENS`` makes the report unreported, so the call is
estimated like one that reported nothing. Both paths are covered: an
agent's model (read from the step's messages) and the supervisor's routing
model (counted by a callback). Checkpoints are real SQLite files.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from switchboard.agents.card import load_team
from switchboard.checkpoints.factory import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph.usage import run_usage
from switchboard.monitoring.costs import MAX_REPORTED_TOKENS, usage_of
from switchboard.policies.budgets import Budgets
from switchboard.runs import read_thread, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

pytestmark = [
    pytest.mark.usefixtures("principals"),
    # The hostile replies are built unvalidated on purpose; pydantic warns when it serialises them.
    pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning"),
]

GARBAGE: list[Any] = ["a lot", math.nan, math.inf, -math.inf, True, MAX_REPORTED_TOKENS + 1, None, [5]]
"""Counts no provider can mean: they must be estimated, never counted or crash."""


def _used(message: AIMessage, tokens_in: Any, tokens_out: Any = 10) -> AIMessage:
    """A reply with the usage its model claims, unvalidated, as a hostile or broken provider may send it."""
    usage = {"input_tokens": tokens_in, "output_tokens": tokens_out, "total_tokens": 0}
    return message.model_copy(update={"usage_metadata": usage, "response_metadata": {"model_name": "gpt-4.1"}})


def _plain(message: AIMessage) -> AIMessage:
    """The same reply with no usage reported, so the graph estimates it."""
    return message.model_copy(update={"response_metadata": {"model_name": "gpt-4.1"}})


async def _run(tmp_path: Path, name: str, budgets: Budgets, model: ScriptedChatModel) -> Any:
    team = load_team()
    policy = team.load_policy().model_copy(update={"budgets": budgets})
    async with open_checkpointer(str(tmp_path / f"{name}.sqlite")) as saver:
        graph = build_graph(team=team, model=model, policy=policy, checkpointer=saver)
        config: Any = {"configurable": {"thread_id": name}}
        await graph.ainvoke({"task": "How many espresso machines are in stock?"}, config)
        return await graph.aget_state(config)


def _question(state: Any) -> str:
    [interrupt] = state.interrupts
    return str(interrupt.value["question"])


async def test_a_negative_count_from_an_agents_model_cannot_erase_the_token_budget(
    settings: Settings, retail_db: Path
) -> None:
    # The review's proof of concept, asserting the right outcome: 900k tokens were used,
    # then the agent's model claimed -1e9; the policy's 400k budget still trips.
    def replies(second: int) -> ScriptedChatModel:
        return ScriptedChatModel(
            steps=[route("finance", "look up the customer", skill="process_return"),
                   route("finance", "look up again", skill="process_return"), finish()],
            agents={"finance": [
                _used(call("find_user_id_by_email", email="mia.chen@example.com"), 900_000),
                _used(handoff("Found."), second),
                call("find_user_id_by_email", email="mia.chen@example.com"), handoff("Found again."),
            ]},
        )  # fmt: skip

    run = await start_run("Mia Chen mia.chen@example.com", settings=settings, model=replies(-(10**9)))
    assert run.status == "paused" and "over budget" in (run.pending or {})["question"]
    thread = await read_thread(run.thread_id, settings=settings)
    [step] = [e["usage"] for e in thread["trail"] if e["kind"] == "handoff"]
    assert step["tokens"] == 900_000 + 10 + 0 + 10  # the negative count is 0, not -1e9
    assert step["tokens"] > 0 and step["cost_usd"] >= 0


async def test_a_negative_count_from_the_supervisors_model_cannot_erase_the_token_budget(tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[_used(route("inventory", "count the espresso machines", skill="product_lookup"), -(10**9)),
               finish()],
        agents={"inventory": [_used(handoff("12 in stock."), 900, 300)]},
    )  # fmt: skip
    state = await _run(tmp_path, "supervisor-negative", Budgets(tokens=1000), model)
    assert "tokens 1210 > 1000" in _question(state)
    decision, step = state.values["trail"][0], state.values["trail"][1]
    assert decision["usage"]["tokens"] == 10 and step["usage"]["tokens"] == 1200
    assert decision["usage"]["cost_usd"] >= 0


@pytest.mark.parametrize("liar", ["supervisor", "agent", "both"])
@pytest.mark.parametrize("garbage", GARBAGE, ids=repr)
async def test_garbage_counts_are_estimated_as_if_unreported(tmp_path: Path, garbage: Any, liar: str) -> None:
    def replies(hostile: bool) -> ScriptedChatModel:
        def mark(message: AIMessage, who: str) -> AIMessage:
            return _used(message, garbage) if hostile and liar in (who, "both") else _plain(message)

        return ScriptedChatModel(
            steps=[mark(route("inventory", "count the espresso machines", skill="product_lookup"), "supervisor"),
                   finish()],
            agents={"inventory": [mark(handoff("12 in stock."), "agent")]},
        )  # fmt: skip

    generous = Budgets(tokens=10**9, cost_usd=10**6)
    estimated = await _run(tmp_path, "unreported", generous, replies(hostile=False))
    hostile = await _run(tmp_path, "garbage", generous, replies(hostile=True))
    assert not hostile.interrupts and hostile.values["outcome"] == "resolved"
    for want, got in zip(estimated.values["trail"][:2], hostile.values["trail"][:2], strict=True):
        assert got["kind"] in ("decision", "handoff")
        assert got["usage"] == want["usage"]  # the supervisor's call and the agent's: as if unreported
        assert got["usage"]["estimated"] and got["usage"]["tokens"] > 50


@pytest.mark.parametrize("garbage", ["a lot", math.nan, True], ids=repr)
async def test_garbage_output_counts_are_estimated_too(tmp_path: Path, garbage: Any) -> None:
    model = ScriptedChatModel(
        steps=[route("inventory", "count the espresso machines", skill="product_lookup")],
        agents={"inventory": [_used(handoff("12 in stock."), 900, garbage)]},
    )
    state = await _run(tmp_path, "garbage-out", Budgets(tokens=1), model)
    step = state.values["trail"][1]
    assert step["usage"]["estimated"] and step["usage"]["tokens"] > 50
    assert "tokens" in _question(state)


def test_recorded_usage_read_back_cannot_lower_the_total_or_make_it_nan() -> None:
    events = [
        {"kind": "handoff", "usage": {"tokens": 500, "cost_usd": 0.5, "calls": 1, "estimated": False}},
        {"kind": "handoff", "usage": {"tokens": -(10**9), "cost_usd": -9.0, "calls": -3, "estimated": False}},
        {"kind": "decision", "usage": {"tokens": "x", "cost_usd": math.nan, "calls": math.inf, "estimated": True}},
    ]
    total = run_usage(events)
    assert total == {"tokens": 500, "cost_usd": 0.5, "calls": 1, "estimated": True}


@pytest.mark.parametrize("garbage", GARBAGE, ids=repr)
def test_the_monitors_count_of_a_call_is_clamped_or_estimated_too(garbage: Any) -> None:
    # usage_of is what the supervisor's counter and the monitoring handler and tracer read.
    def result(tokens_in: Any) -> LLMResult:
        return LLMResult(generations=[[ChatGeneration(message=_used(AIMessage("hello"), tokens_in, 7))]])

    negative = usage_of(result(-(10**9)), prompt_chars=400)
    assert (negative.tokens_in, negative.tokens_out, negative.estimated) == (0, 7, False)
    estimated = usage_of(result(garbage), prompt_chars=400)
    assert (estimated.tokens_in, estimated.tokens_out, estimated.estimated) == (100, 2, True)
