"""A refund that failed is never announced to the customer as done.

The operator review's finding 4: in the shipped ``retail_return`` workflow,
the ``refund`` step failed (``issue_return_refund`` returned an error), the
workflow compensated ``receive`` with "tell the customer their items arrived
but the refund is delayed", and the customer was sent "A refund of $923.23
goes to your credit card. A courier will collect the items on …". The
message followed the quoted amount in the facts, not the thread's records,
and ignored the compensation's instruction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph.state import CompiledStateGraph

from switchboard.agents.card import load_team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.interrupts import Governance
from switchboard.agents.subgraph import build_agent_graph
from switchboard.agents.toolbox import Toolbox
from switchboard.domains.retail import RetailStore
from switchboard.domains.retail.guardians import refund_promise, unissued_refund_promise
from switchboard.domains.retail.playbook_customer import _message
from switchboard.engine import Turn
from switchboard.graph.agent_node import agent_node
from switchboard.graph.workflows import Workflow, compile_workflow, from_agent_node, load_workflow, outcome_of
from switchboard.models import resolve_model
from switchboard.runs import prepare_team

CONFIG: Any = {"configurable": {"thread_id": "return"}}
WORKFLOW = load_workflow("retail_return")
DELAYED = next(s for s in WORKFLOW.steps if s.id == "receive").compensate
"""The shipped compensation of ``receive``: tell the customer the refund is delayed."""
NOTIFY = next(s for s in WORKFLOW.steps if s.id == "notify")
"""The shipped last step, after a refund that went through."""
assert DELAYED is not None


def _failing(tool: BaseTool) -> BaseTool:
    """``tool`` as a backend that is down: every call is the tool's own error."""

    async def down(**_: Any) -> str:
        raise ToolException("backend unavailable (injected)")

    return StructuredTool.from_function(
        coroutine=down,
        name=tool.name,
        description=tool.description,
        args_schema=tool.args_schema,
        metadata=tool.metadata,
    )


@asynccontextmanager
async def returns_with_refunds_down(
    checkpoints: Path,
) -> AsyncIterator[tuple[Workflow, CompiledStateGraph[Any, Any, Any, Any]]]:
    """The shipped return workflow on the embedded engine and the real MCP server, ``issue_return_refund`` failing."""
    team = load_team()
    model, gov, health = resolve_model(None, team), Governance.of(team.load_policy()), HealthRegistry()
    async with (
        Toolbox.for_team(team, prepare_team(team)) as served,
        AsyncSqliteSaver.from_conn_string(str(checkpoints)) as saver,
    ):
        tools = [served.get(name) for name in sorted(served.names)]
        toolbox = Toolbox.of(_failing(t) if t.name == "issue_return_refund" else t for t in tools if t is not None)
        runners = {
            card.name: from_agent_node(
                agent_node(card, build_agent_graph(card, model=model, toolbox=toolbox, gov=gov), health)
            )
            for card in team.agents
        }
        yield WORKFLOW, compile_workflow(WORKFLOW, runners, team=team, checkpointer=saver)


async def test_a_failed_refund_is_announced_as_delayed_not_as_paid(retail_db: Path, tmp_path: Path, mia: Any) -> None:
    order_id = mia.orders["delivered_under_500"]
    with RetailStore.open(retail_db) as store:
        user_id = store.get_order(order_id)["user_id"]  # type: ignore[index]
        before = len(store.notifications(user_id))
    task = (
        f"Hi, this is Mia Chen (mia.chen@example.com). Everything in order {order_id} arrived damaged. "
        "I want to return it and get my money back."
    )
    async with returns_with_refunds_down(tmp_path / "cp.sqlite") as (workflow, graph):
        final = await graph.ainvoke({"task": task}, CONFIG)
    outcome = outcome_of(workflow, final)
    assert outcome.failed_step == "refund" and "receive" in outcome.compensated, outcome.summary
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
        sent = [n["message"] for n in store.notifications(user_id)][before:]
    assert order is not None and order["status"] == "return received"
    assert not [p for p in order["payment_history"] if p["transaction_type"] == "refund"]  # nothing was refunded
    (message,) = sent
    assert refund_promise(message) is None, message
    assert "refund is delayed" in message and "colleague will finish" in message, message
    assert "courier will collect" not in message, message  # the items were received already


def turn(instruction: str, **context: Any) -> Turn:
    return Turn(
        task="I want to return the headphones from my delivered order and get my money back.",
        instruction=instruction,
        skill="notify_customer",
        intent="return",
        context={"customer_name": "Mia Chen", "user_id": "mia_chen_1", "order_id": "#W0465291", **context},
        slots={},
        history=(),
        tools=frozenset({"notify_customer"}),
    )


QUOTED = {"refund_amount": 923.23, "payment_method_id": "credit_card_1111111", "pickup_date": "2026-12-03"}
"""The facts of a requested return: the quote, the method it goes to, the pickup."""


def test_the_compensation_follows_its_instruction_and_claims_no_refund() -> None:
    message = _message(turn(DELAYED.instruction, order_status="return received", **QUOTED))
    assert message.startswith("Hello Mia,")
    assert "refund is delayed" in message and "colleague will finish it" in message
    assert "$923.23" not in message and refund_promise(message) is None
    assert "courier" not in message


def test_a_refund_that_went_through_is_still_announced() -> None:
    message = _message(turn(NOTIFY.instruction, order_status="returned", **QUOTED))
    assert "A refund of $923.23 goes to your credit card." in message
    assert "courier" not in message  # a completed return was collected long ago
    assert refund_promise(message) is not None  # and the guardian backs it with the refund call below
    issued = [{"tool": "issue_return_refund", "args": {"order_id": "#W0465291"}, "outcome": "ok", "result": "{}"}]
    assert unissued_refund_promise(_notified(message), issued) is None


def test_a_requested_return_announces_the_pickup_but_no_refund_yet() -> None:
    message = _message(turn("Notify.", order_status="return requested", **QUOTED))
    assert "return of your items from order #W0465291 has been requested" in message
    assert "A courier will collect the items on 2026-12-03." in message
    assert "$923.23" not in message and refund_promise(message) is None


def test_an_instruction_that_promises_a_refund_nobody_issued_is_not_relayed() -> None:
    message = _message(turn(NOTIFY.instruction, order_status="return received", **QUOTED))
    assert refund_promise(message) is None and "$923.23" not in message
    assert "we received the items you returned from order #W0465291" in message


@pytest.mark.parametrize(
    "text",
    [
        "A refund of $923.23 goes to your credit card.",
        "You will be refunded within five days.",
        "Your refund is on its way.",
        "We have issued a refund of $12.00 to your gift card.",
        "We've refunded your order.",
        "You will receive a full refund.",
        "You'll get your money back on your card.",
        "The refund has been processed.",
        # a negation elsewhere in the clause does not undo the promise
        "No worries, a refund of $20 goes to your card.",
        "No problem, we've refunded your order.",
        "Not to worry — your refund is on its way.",
        # a refund already made is claimed, whatever follows it
        "We've refunded your order after we received the items.",
        "Your refund has been processed and will show once your bank posts it.",
    ],
)
def test_a_promised_refund_is_recognised(text: str) -> None:
    assert refund_promise(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "Your items arrived but the refund is delayed, and a colleague will finish it.",
        "No refund has been issued yet.",
        "We could not refund the order: a colleague will look at it.",
        "The return of your items from order #W1 has been requested.",
        "Your order #W1 has been cancelled.",
        # a negation that governs the refund
        "Your refund is delayed and will be processed next week.",
        "Your order was not refunded.",
        "Sorry, your order cannot be refunded.",
        # a refund that waits on a condition is not one that was made
        "You will receive a refund once we receive the items.",
        "Your refund will be issued within 5 days.",
        "Your refund will be processed within 3-5 business days.",
        "A refund of $20 goes to your card after we receive the items.",
        "You'll be refunded as soon as the courier collects the items.",
        "Hi Mia, if the items arrive undamaged, you will get a full refund.",
        "When your items arrive, we will refund your card.",
        "Upon receipt of the items, a refund of $20 is sent to your card.",
    ],
)
def test_no_promise_is_read_into_a_delay_or_a_refusal(text: str) -> None:
    assert refund_promise(text) is None


def _notified(message: str, outcome: str = "ok") -> dict[str, Any]:
    call = {"tool": "notify_customer", "args": {"user_id": "mia_chen_1", "message": message}, "outcome": outcome}
    return {"kind": "handoff", "agent": "customer_service", "status": "done", "summary": "Sent.", "facts": {},
            "tool_calls": [{**call, "result": "{}", "policy": None}]}  # fmt: skip


def test_the_guardian_check_blocks_a_message_promising_a_refund_nobody_issued() -> None:
    told = _notified("Hello Mia, we received the items. A refund of $923.23 goes to your credit card.")
    failed = [{"tool": "issue_return_refund", "args": {}, "outcome": "refused", "result": "backend unavailable"}]
    reason = unissued_refund_promise(told, failed)
    assert reason is not None and "refund of $923.23 goes" in reason
    quoted = [{"tool": "quote_return_refund", "args": {}, "outcome": "ok", "result": '{"amount": 923.23}'}]
    assert unissued_refund_promise(told, quoted) is not None  # a quote is no refund
    observed = [{"tool": "issue_return_refund", "args": {}, "outcome": "ok", "result": "{}", "observed": True}]
    assert unissued_refund_promise(told, observed) is not None  # a brought agent's word is no record
    assert unissued_refund_promise(_notified("Your refund is delayed."), failed) is None
    assert unissued_refund_promise(_notified("A refund of $1 goes to you.", "refused"), failed) is None  # never sent


async def test_the_retail_policy_stops_a_thread_whose_message_promises_an_unissued_refund(
    settings: Any, mia: Any
) -> None:
    from switchboard.runs import start_run
    from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

    promise = "Hello Mia, a refund of $923.23 goes to your credit card."
    model = ScriptedChatModel(
        steps=[route("customer_service", "tell Mia about her refund", skill="notify_customer"), finish()],
        agents={
            "customer_service": [
                call("find_user_id_by_email", email=mia.email),
                call("notify_customer", user_id=mia.user_id, message=promise),
                handoff("Told her."),
            ]
        },
    )
    result = await start_run("tell Mia her refund is done", thread_id="promise", settings=settings, model=model)
    assert result.status == "paused" and result.pending is not None  # before a human: no refund was issued
    assert "refund_promises" in str(result.pending) and "923.23" in str(result.pending)
