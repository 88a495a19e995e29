"""A model's reported usage is untrusted input: it cannot lower the run's count or crash it.

Providers report tokens in ``usage_metadata``, and the token and cost
budgets add them up (:mod:`switchboard.graph.usage`). A model that reports
a negative count used to subtract it from the run, so one reply with
``input_tokens: -1000000000`` erased the budget; one that reported a
string, NaN or infinity crashed the count; and then one that reported -1e9
or 0 on every reply was counted as 0, so budgets never tripped. Now a count
that is negative, not a finite number, a bool, or past
``MAX_REPORTED_TOKENS`` makes the report unreported, so the call is
estimated like one that reported nothing; and a count far below what the
call's text implies (more than 16 characters a token) is estimated too,
while a plausible one is kept. Both paths are covered: an agent's model
(read from the step's messages) and the supervisor's routing model (counted
by a callback). Checkpoints are real SQLite files.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from switchboard.agents.card import load_team
from switchboard.checkpoints.factory import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph.usage import configured_name, messages_usage, run_usage
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

GARBAGE: list[Any] = [
    "a lot", math.nan, math.inf, -math.inf, -1, -(10**9), True, MAX_REPORTED_TOKENS + 1, None, [5],
]  # fmt: skip
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
    def replies(second: int | None) -> ScriptedChatModel:
        found = handoff("Found.")
        return ScriptedChatModel(
            steps=[route("finance", "look up the customer", skill="process_return"),
                   route("finance", "look up again", skill="process_return"), finish()],
            agents={"finance": [
                _used(call("find_user_id_by_email", email="mia.chen@example.com"), 900_000),
                _plain(found) if second is None else _used(found, second),
                call("find_user_id_by_email", email="mia.chen@example.com"), handoff("Found again."),
            ]},
        )  # fmt: skip

    async def step_usage(second: int | None) -> dict[str, Any]:
        run = await start_run("Mia Chen mia.chen@example.com", settings=settings, model=replies(second))
        assert run.status == "paused" and "over budget" in (run.pending or {})["question"]
        thread = await read_thread(run.thread_id, settings=settings)
        [step] = [e["usage"] for e in thread["trail"] if e["kind"] == "handoff"]
        return dict(step)

    lied, unreported = await step_usage(-(10**9)), await step_usage(None)
    assert lied == unreported  # the negative report is no report: the reply is estimated, not 0
    assert lied["estimated"] and lied["tokens"] > 900_000 + 10 + 50 and lied["cost_usd"] > 0


async def test_a_negative_count_from_the_supervisors_model_cannot_erase_the_token_budget(tmp_path: Path) -> None:
    def replies(decision: AIMessage) -> ScriptedChatModel:
        return ScriptedChatModel(
            steps=[decision, finish()], agents={"inventory": [_used(handoff("12 in stock."), 900, 300)]}
        )

    decide = route("inventory", "count the espresso machines", skill="product_lookup")
    state = await _run(tmp_path, "supervisor-negative", Budgets(tokens=1000), replies(_used(decide, -(10**9))))
    unreported = await _run(tmp_path, "supervisor-unreported", Budgets(tokens=1000), replies(_plain(decide)))
    decision, step = state.values["trail"][0], state.values["trail"][1]
    assert decision["usage"] == unreported.values["trail"][0]["usage"]  # estimated as if unreported, not 0
    assert decision["usage"]["estimated"] and decision["usage"]["tokens"] > 50  # the scripted model is free: cost 0
    assert step["usage"]["tokens"] == 1200 and not step["usage"]["estimated"]
    assert f"tokens {decision['usage']['tokens'] + 1200} > 1000" in _question(state)


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
def test_the_monitors_count_of_a_call_is_estimated_too(garbage: Any) -> None:
    # usage_of is what the supervisor's counter and the monitoring handler and tracer read.
    def result(tokens_in: Any) -> LLMResult:
        return LLMResult(generations=[[ChatGeneration(message=_used(AIMessage("hello"), tokens_in, 7))]])

    honest = usage_of(result(120), prompt_chars=400)
    assert (honest.tokens_in, honest.tokens_out, honest.estimated) == (120, 7, False)
    estimated = usage_of(result(garbage), prompt_chars=400)
    assert (estimated.tokens_in, estimated.tokens_out, estimated.estimated) == (100, 2, True)


PROMPT, REPLY = "x" * 40_000, "y" * 4_000
"""The review's call: unreported, it is estimated at 10,000 tokens in and 1,000 out (four characters a token)."""


@pytest.mark.parametrize(
    ("reported", "counted"),
    [
        ((0, 0), (10_000, 1_000, True)),  # the review's liar: 0 for 11,000 tokens' worth of text
        ((1, 1), (10_000, 1_000, True)),
        ((2_499, 249), (10_000, 1_000, True)),  # just over 16 characters a token
        ((2_499, 1_000), (10_000, 1_000, True)),  # each count is held to its own text
        ((10_000, 10), (10_000, 1_000, True)),
        ((2_500, 250), (2_500, 250, False)),  # 16 characters a token: the floor, kept
        ((10_000, 1_000), (10_000, 1_000, False)),
        ((9_000, 1_300), (9_000, 1_300, False)),  # a real tokenizer's count, near four characters a token
        ((30_000, 4_000), (30_000, 4_000, False)),  # more than the estimate: kept
    ],
    ids=repr,
)
def test_a_count_far_below_the_calls_text_is_estimated_in_both_paths(
    reported: tuple[int, int], counted: tuple[int, int, bool]
) -> None:
    reply = _used(AIMessage(REPLY), *reported)
    # The supervisor's counter and the monitoring handler and tracer:
    monitored = usage_of(LLMResult(generations=[[ChatGeneration(message=reply)]]), prompt_chars=len(PROMPT))
    assert (monitored.tokens_in, monitored.tokens_out, monitored.estimated) == counted
    # An agent's step, read from its messages:
    messages: list[BaseMessage] = [HumanMessage(PROMPT), reply]
    step = messages_usage(messages)
    assert (step["tokens"], step["calls"], step["estimated"]) == (counted[0] + counted[1], 1, counted[2])
    assert step["cost_usd"] == pytest.approx((counted[0] * 2.0 + counted[1] * 8.0) / 1e6)  # prices.yaml: gpt-4.1


@pytest.mark.parametrize("liar", ["supervisor", "agent", "both"])
@pytest.mark.parametrize("tiny", [0, 1])
async def test_a_model_reporting_next_to_nothing_is_counted_as_if_unreported(
    tmp_path: Path, tiny: int, liar: str
) -> None:
    # 0 (or 1) tokens in and out for every reply: without the floor the run counted 0 and no budget tripped.
    def replies(hostile: bool) -> ScriptedChatModel:
        def mark(message: AIMessage, who: str) -> AIMessage:
            return _used(message, tiny, tiny) if hostile and liar in (who, "both") else _plain(message)

        return ScriptedChatModel(
            steps=[mark(route("inventory", "count the espresso machines", skill="product_lookup"), "supervisor"),
                   mark(finish(), "supervisor")],
            agents={"inventory": [mark(handoff("12 in stock."), "agent")]},
        )  # fmt: skip

    budget = Budgets(tokens=300)
    unreported = await _run(tmp_path, "unreported", budget, replies(hostile=False))
    lied = await _run(tmp_path, "tiny", budget, replies(hostile=True))
    assert "tokens" in _question(lied) and _question(lied) == _question(unreported)  # the budget still trips
    for want, got in zip(unreported.values["trail"][:2], lied.values["trail"][:2], strict=True):
        assert got["usage"] == want["usage"]
        assert got["usage"]["estimated"] and got["usage"]["tokens"] > 50


class NamedChat(ScriptedChatModel):
    """A scripted model configured as a priced one (``gpt-4.1``), as a provider's class names its model."""

    model_name: str = "gpt-4.1"


async def test_an_agents_calls_are_priced_by_the_configured_model_not_the_name_its_reply_claims(
    tmp_path: Path,
) -> None:
    # Closing note, round 4: an agent's cost was priced by the model name its reply reported, so a model
    # (or a proxy in front of it) claiming a cheaper one ("gpt-4.1-nano": 20x cheaper) lowered the cost
    # budget's count. The supervisor's calls were already priced by the configured name.
    def replies(claimed: str) -> ScriptedChatModel:
        reply = handoff("12 in stock.")
        usage = {"input_tokens": 90_000, "output_tokens": 30_000, "total_tokens": 120_000}
        named = reply.model_copy(update={"usage_metadata": usage, "response_metadata": {"model_name": claimed}})
        return NamedChat(
            steps=[route("inventory", "count the espresso machines", skill="product_lookup"), finish()],
            agents={"inventory": [named]},
        )

    generous = Budgets(tokens=10**9, cost_usd=10**6)
    honest = await _run(tmp_path, "honest", generous, replies("gpt-4.1-2025-04-14"))
    cheaper = await _run(tmp_path, "cheaper", generous, replies("gpt-4.1-nano"))
    [priced] = [e["usage"] for e in honest.values["trail"] if e["kind"] == "handoff"]
    [claimed] = [e["usage"] for e in cheaper.values["trail"] if e["kind"] == "handoff"]
    assert priced["cost_usd"] == pytest.approx((90_000 * 2.0 + 30_000 * 8.0) / 1e6)  # gpt-4.1's price
    assert claimed == priced  # the claim changes nothing


def test_a_model_that_names_none_is_priced_by_what_its_replies_report() -> None:
    # A model class with no name to configure (a home-grown one) still has its calls priced, as before.
    reply = AIMessage("done", usage_metadata={"input_tokens": 1000, "output_tokens": 1000, "total_tokens": 2000})
    reply = reply.model_copy(update={"response_metadata": {"model_name": "gpt-4.1"}})
    prompt: list[BaseMessage] = [HumanMessage("x" * 4000)]
    assert messages_usage([*prompt, reply])["cost_usd"] == pytest.approx(0.01)
    assert messages_usage([*prompt, reply], model="named:gpt-4.1-nano")["cost_usd"] == pytest.approx(0.0005)
    assert configured_name(NamedChat(steps=[])) == "named:gpt-4.1"
    assert configured_name(ScriptedChatModel(steps=[])) is None
