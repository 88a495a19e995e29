"""Guardian checks over agent results, on real tool results from the retail store."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import ValidationError

from switchboard.agents.card import Team
from switchboard.domains.retail import DEMO_PERSONAS, RetailOperations, RetailStore
from switchboard.domains.retail.guardians import refund_amounts
from switchboard.graph import build_graph
from switchboard.policies import PolicyFile, load_policy
from switchboard.policies.guardians import GuardianContext, claimed_actions, llm_judge, run_guardians
from switchboard.testing import ScriptedChatModel, escalate, route
from switchboard.testing import handoff as step_handoff

MIA = DEMO_PERSONAS["mia_chen"]
CONTEXT = GuardianContext()
RETAIL = load_policy("retail.yaml").guardians
"""The shipped retail policy's guardians: its amount check and its claims."""


def retail_claims(report: dict[str, Any]) -> Any:
    return claimed_actions(
        report, CONTEXT, claims=[(c.says, c.tools) for c in RETAIL.claims], read_only=RETAIL.read_only
    )


def record(tool: str, result: Any, ok: bool = True) -> dict[str, Any]:
    outcome = "ok" if ok else "refused"
    return {"tool": tool, "args": {}, "outcome": outcome, "result": json.dumps(result), "policy": None}


def handoff(summary: str, facts: dict[str, Any], calls: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "handoff", "agent": "finance", "status": "done", "summary": summary, "facts": facts,
            "tool_calls": calls}  # fmt: skip


@pytest.fixture
def returned(pristine_db: Path, tmp_path: Path) -> list[dict[str, Any]]:
    """The tool calls of a real return of two items of Mia's big order."""
    db = tmp_path / "r.sqlite"
    db.write_bytes(pristine_db.read_bytes())
    with RetailStore.open(db) as store:
        ops = RetailOperations(store)
        order_id = MIA.orders["delivered_over_500"]
        items = [i["item_id"] for i in ops.get_order_details(order_id)["items"]][:2]
        quote = ops.quote_return_refund(order_id, items)
        result = ops.return_delivered_order_items(order_id, items, MIA.payment_methods["credit_card"])
    return [record("quote_return_refund", quote), record("return_delivered_order_items", result)]


def amount(calls: list[dict[str, Any]]) -> float:
    return float(json.loads(calls[0]["result"])["amount"])


def test_a_truthful_report_passes_every_guardian(returned: list[dict[str, Any]]) -> None:
    value = amount(returned)
    report = handoff(f"Requested the return for a refund of ${value:,.2f}.", {"refund_amount": value}, returned)
    assert all(v.ok for v in run_guardians(RETAIL.in_force, report, CONTEXT))


def test_an_inflated_refund_is_blocked(returned: list[dict[str, Any]]) -> None:
    report = handoff("Requested the return.", {"refund_amount": 5000.0}, returned)
    verdict = refund_amounts(report, CONTEXT)
    assert verdict.action == "block" and "5000.00" in verdict.reason


def test_an_amount_only_in_the_summary_is_checked_too(returned: list[dict[str, Any]]) -> None:
    report = handoff("Requested the return for a refund of $1,185.93.", {}, returned)
    assert refund_amounts(report, CONTEXT).action == "block"


def test_a_refund_above_the_payments_is_blocked() -> None:
    order = {"items": [], "payment_history": [{"transaction_type": "payment", "amount": 100.0}]}
    report = handoff("Issued the refund.", {"refund_amount": 150.0},
                     [record("get_order_details", order), record("calculate", 150.0)])  # fmt: skip
    verdict = refund_amounts(report, CONTEXT)
    assert verdict.action == "block" and "more than the order's payments" in verdict.reason


def test_a_failed_step_mentions_amounts_without_reporting_them() -> None:
    failed = {**handoff("The refund of $75.00 was refused: the order is pending.", {"refund_amount": 75.0}, []),
              "status": "failed"}  # fmt: skip
    assert refund_amounts(failed, CONTEXT).ok
    assert refund_amounts({**failed, "status": "done"}, CONTEXT).action == "block"


def test_negative_amounts_are_blocked() -> None:
    report = handoff("x", {"refund_amount": -5}, [record("calculate", -5)])
    assert refund_amounts(report, CONTEXT).action == "block"


def test_an_action_no_tool_performed_is_blocked(returned: list[dict[str, Any]]) -> None:
    report = handoff("I cancelled the order and refunded the customer.", {}, returned[:1])
    verdict = retail_claims(report)
    assert verdict.action == "block" and "cancelled" in verdict.reason


def test_a_failed_write_does_not_back_a_claim(returned: list[dict[str, Any]]) -> None:
    failed = [returned[0], {**returned[1], "outcome": "refused"}]
    assert retail_claims(handoff("Requested the return of both items.", {}, failed)).action == "block"
    assert retail_claims(handoff("Requested the return of both items.", {}, returned)).ok


def test_negated_claims_are_not_claims() -> None:
    assert retail_claims(handoff("The order could not be cancelled: it shipped.", {}, [])).ok
    assert retail_claims(handoff("Checked the order; nothing was refunded.", {}, [])).ok
    assert not retail_claims(handoff("Nothing to worry about: I refunded the order.", {}, [])).ok  # its own clause


def test_a_policy_runs_the_guardians_it_names_and_no_others() -> None:
    """The core assumed retail: "Messaged Ann" was blocked for a clinic whose SMS tool is not notify_customer."""
    sent = {"tool": "send_sms", "args": {}, "outcome": "ok", "result": "sent", "policy": None}
    report = handoff("Messaged Ann about her appointment. Refunded 20 EUR.", {"refund_amount": 20}, [sent])
    assert PolicyFile.model_validate({"name": "clinic"}).guardians.in_force == ()
    clinic = PolicyFile.model_validate(
        {"name": "clinic", "guardians": {"claims": [{"says": r"\bmessaged\b", "tools": ["send_*"]}]}}
    ).guardians
    assert all(v.ok for v in run_guardians(clinic.in_force, report, CONTEXT))
    (verdict,) = run_guardians(clinic.in_force, handoff("Messaged Ann.", {}, []), CONTEXT)
    assert verdict.action == "block" and "'Messaged'" in verdict.reason


def test_a_guardian_a_policy_cannot_load_is_refused_with_the_reason() -> None:
    for guardians, problem in [
        ({"checks": ["clinic.checks:nope"]}, "cannot import 'clinic.checks:nope'"),
        ({"checks": ["refund_amounts"]}, "is not 'module:function'"),
        ({"claims": [{"says": "(unclosed", "tools": ["x"]}]}, "is not a valid regular expression"),
        ({"claims": [{"says": "sent", "tools": []}]}, "at least 1 item"),
    ]:
        with pytest.raises(ValidationError, match=re.escape(problem)):
            PolicyFile.model_validate({"name": "clinic", "guardians": guardians})


async def test_llm_judge_takes_the_model_and_reads_its_verdict() -> None:
    model = ScriptedChatModel(steps=[
        AIMessage('{"action": "block", "reason": "claims a refund the tools do not show"}'),
        AIMessage("I think it is fine!"),
    ])  # fmt: skip
    judge = llm_judge(model)
    report = handoff("Refunded $5,000.", {}, [])
    first = await judge(report, GuardianContext(task="refund my order"))
    assert (first.action, first.reason) == ("block", "claims a refund the tools do not show")
    assert (await judge(report, CONTEXT)).action == "flag"
    assert "refund my order" in model.calls[0].text
    model.assert_complete()


@pytest.mark.parametrize("status", ["failed", "done"])
async def test_guardians_read_finished_steps_not_the_reasons_a_step_failed(status: str) -> None:
    """A step that failed because the order 'is already cancelled' was paused as if it claimed to cancel it."""
    team = Team.model_validate(
        {"name": "shop", "agents": [{"name": "desk", "description": "Orders.",
                                     "skills": [{"id": "cancel", "description": "Cancel an order."}]}]}
    )  # fmt: skip
    policy = PolicyFile.model_validate(
        {"name": "shop", "guardians": {"claims": [{"says": r"\bcancell?ed\b", "tools": ["cancel_*"]}]}}
    )
    supervisor = [route("desk", "cancel #1", skill="cancel")]
    if status == "failed":  # the supervisor reads the failure and asks a human itself
        supervisor.append(escalate("desk could not cancel order #1: it is cancelled already. Close the request?"))
    model = ScriptedChatModel(
        steps=supervisor,
        agents={"desk": [step_handoff("Order #1 is 'cancelled' already; nothing was changed.", status=status)]},
    )
    graph = build_graph(team=team, model=model, policy=policy, checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": status}}
    await graph.ainvoke({"task": "cancel order #1"}, config)
    model.assert_complete()
    (pending,) = (await graph.aget_state(config)).interrupts
    checked = "A check on desk's result failed (claimed_actions)" in pending.value["question"]
    assert checked == (status == "done")  # a finished step's claim is checked; a failed step's reason is not
