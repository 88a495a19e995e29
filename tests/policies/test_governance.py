"""Grants, data scopes and argument constraints of the shipped retail policy.

Facts are learned from the real retail operations' results, the way the guard
will feed them, so these tests break if the policy's paths stop matching what
the tools return.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.domains.retail import DEMO_PERSONAS, RetailOperations, RetailStore
from switchboard.policies import PolicyFile, load_policy
from switchboard.policies.engine import check_call, check_handoff, check_scope, measure_calls, missing_facts
from switchboard.policies.scopes import Facts, learn

MIA, OMAR = DEMO_PERSONAS["mia_chen"], DEMO_PERSONAS["omar_haddad"]


@pytest.fixture(scope="module")
def policy() -> PolicyFile:
    return load_policy("retail.yaml")


@pytest.fixture
def ops(pristine_db: Path) -> Iterator[RetailOperations]:
    with RetailStore.open(pristine_db) as store:
        yield RetailOperations(store)


def run(ops: RetailOperations, policy: PolicyFile, facts: Facts, tool: str, **args: Any) -> tuple[Facts, Any]:
    """Call a read tool as the guard would, and learn from its JSON result."""
    result = json.loads(json.dumps(getattr(ops, tool)(**args)))
    return learn(policy.scopes, facts, tool, args, result), result


def mia_facts(ops: RetailOperations, policy: PolicyFile) -> Facts:
    facts, _ = run(ops, policy, Facts(), "find_user_id_by_email", email=MIA.email)
    facts, _ = run(ops, policy, facts, "get_user_details", user_id=MIA.user_id)
    for order_id in MIA.orders.values():
        facts, _ = run(ops, policy, facts, "get_order_details", order_id=order_id)
    return facts


def quotes_for(ops: RetailOperations, policy: PolicyFile, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    return {call.key: getattr(ops, call.tool)(**call.args) for call in measure_calls(policy, tool, args)}


def decide(ops: RetailOperations, policy: PolicyFile, facts: Facts, agent: str, tool: str, **args: Any) -> Any:
    try:
        quotes = quotes_for(ops, policy, tool, args)
    except Exception:  # a quote the server refuses: the call is refused for that reason by the guard
        quotes = {}
    return check_call(policy, agent, tool, args, quotes=quotes, facts=facts)


def return_args(ops: RetailOperations, **overrides: Any) -> dict[str, Any]:
    order_id = MIA.orders["delivered_over_500"]
    items = [i["item_id"] for i in ops.get_order_details(order_id)["items"]][:2]
    return {"order_id": order_id, "item_ids": items, "payment_method_id": MIA.payment_methods["credit_card"],
            **overrides}  # fmt: skip


def test_learned_facts_name_the_customer_and_owners(ops: RetailOperations, policy: PolicyFile) -> None:
    facts = mia_facts(ops, policy)
    assert facts.customer == MIA.user_id
    order = facts.resource("order", MIA.orders["delivered_over_500"])
    assert order is not None and order.owner == MIA.user_id
    assert order.attrs["original_method"] == MIA.payment_methods["credit_card"]
    assert len(order.attrs["items"]) == 3
    card = facts.resource("payment_method", MIA.payment_methods["gift_card"])
    assert card is not None and card.attrs["source"] == "gift_card" and card.owner == MIA.user_id


def test_the_customers_own_return_is_allowed(ops: RetailOperations, policy: PolicyFile) -> None:
    facts = mia_facts(ops, policy)
    decision = decide(ops, policy, facts, "finance", "return_delivered_order_items", **return_args(ops))
    assert decision.effect == "allow", decision.reason


def test_refund_to_another_users_payment_method_is_refused(ops: RetailOperations, policy: PolicyFile) -> None:
    facts = mia_facts(ops, policy)
    facts, _ = run(ops, policy, facts, "get_user_details", user_id=OMAR.user_id)  # injected look-up
    args = return_args(ops, payment_method_id=OMAR.payment_methods["gift_card"])
    decision = decide(ops, policy, facts, "finance", "return_delivered_order_items", **args)
    assert decision.effect == "deny" and decision.rule_id == "scope"
    assert "does not belong" in decision.reason


def test_refund_to_a_card_that_did_not_pay_is_refused(ops: RetailOperations, policy: PolicyFile) -> None:
    args = return_args(ops, payment_method_id=MIA.payment_methods["paypal"])
    decision = decide(ops, policy, mia_facts(ops, policy), "finance", "return_delivered_order_items", **args)
    assert (decision.effect, decision.rule_id) == ("deny", "refund-destination")
    args = return_args(ops, payment_method_id=MIA.payment_methods["gift_card"])
    assert decide(ops, policy, mia_facts(ops, policy), "finance", "return_delivered_order_items", **args).effect == (
        "allow"
    )


def test_action_on_another_users_order_is_refused(ops: RetailOperations, policy: PolicyFile) -> None:
    facts = mia_facts(ops, policy)
    facts, _ = run(ops, policy, facts, "get_order_details", order_id=OMAR.orders["pending_paypal"])
    decision = decide(ops, policy, facts, "finance", "cancel_pending_order",
                      order_id=OMAR.orders["pending_paypal"], reason="no longer needed")  # fmt: skip
    assert decision.effect == "deny" and "does not belong" in decision.reason


def test_a_second_customer_in_one_thread_blocks_scoped_calls(ops: RetailOperations, policy: PolicyFile) -> None:
    facts = mia_facts(ops, policy)
    facts, _ = run(ops, policy, facts, "find_user_id_by_email", email=OMAR.email)
    decision = check_scope(policy, "cancel_pending_order", {"order_id": MIA.orders["pending"]}, facts)
    assert decision.effect == "deny" and "several customers" in decision.reason


def test_no_customer_no_action(policy: PolicyFile) -> None:
    decision = check_scope(policy, "cancel_pending_order", {"order_id": "#W0627403"}, Facts())
    assert decision.effect == "deny" and "identify the customer" in decision.reason


def test_unknown_owner_is_refused_and_the_read_that_settles_it_is_named(
    ops: RetailOperations, policy: PolicyFile
) -> None:
    facts, _ = run(ops, policy, Facts(), "find_user_id_by_email", email=MIA.email)
    decision = check_scope(policy, "cancel_pending_order", {"order_id": MIA.orders["pending"]}, facts)
    assert decision.effect == "deny"
    (call,) = missing_facts(policy, decision, facts)
    assert (call.tool, dict(call.args)) == ("get_order_details", {"order_id": MIA.orders["pending"]})
    facts, _ = run(ops, policy, facts, call.tool, **call.args)
    assert check_scope(policy, "cancel_pending_order", {"order_id": MIA.orders["pending"]}, facts).effect == "allow"


def test_a_tool_outside_the_grants_is_refused(ops: RetailOperations, policy: PolicyFile) -> None:
    facts = mia_facts(ops, policy)
    decision = decide(ops, policy, facts, "customer_service", "return_delivered_order_items", **return_args(ops))
    assert (decision.effect, decision.rule_id) == ("deny", "grants")
    assert decide(ops, policy, facts, "intruder", "get_order_details", order_id="#W0627403").effect == "deny"


def test_handoffs_follow_the_grants(policy: PolicyFile) -> None:
    assert check_handoff(policy, "customer_service", "finance").effect == "allow"
    assert check_handoff(policy, "analytics", "finance").effect == "deny"
    assert check_handoff(policy, "supervisor", "analytics").effect == "allow"


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("order_id", "#W\uff10465291", "plain-ids"),  # fullwidth digit
        ("payment_method_id", "credit_card_\uff10420357", "plain-ids"),
        ("payment_method_id", "gift_\u0441ard_0583021", "plain-ids"),  # Cyrillic es
        ("order_id", "#W0465291 ", "plain-ids"),
        ("order_id", "#W0465291\u200b", "plain-ids"),  # zero-width space
        ("payment_method_id", "gift_card_0583021; refund 5000", "plain-ids"),
        ("order_id", "W0465291", "id-shapes"),
    ],
)
def test_look_alike_and_malformed_ids_are_refused(
    ops: RetailOperations, policy: PolicyFile, field: str, value: str, rule: str
) -> None:
    decision = decide(ops, policy, mia_facts(ops, policy), "finance", "return_delivered_order_items",
                      **return_args(ops, **{field: value}))  # fmt: skip
    assert (decision.effect, decision.rule_id) == ("deny", rule), decision.reason


def test_duplicated_item_ids_beyond_the_units_held_are_refused(ops: RetailOperations, policy: PolicyFile) -> None:
    from switchboard.policies.constraints import check_constraints

    item = return_args(ops)["item_ids"][0]
    args = return_args(ops, item_ids=[item, item])
    facts = mia_facts(ops, policy)
    assert decide(ops, policy, facts, "finance", "return_delivered_order_items", **args).effect == "deny"
    # Even with a quote that (wrongly) priced it, the units held bound the ids.
    quotes = {"refund-within-paid": {"amount": 10.0, "paid": 941.83}}
    decision = check_constraints(policy.constraints, "return_delivered_order_items", args, quotes, facts)
    assert decision is not None and decision.rule_id == "items-in-order" and "holds it 1" in decision.reason
    args = return_args(ops, item_ids=[item])
    assert check_constraints(policy.constraints, "return_delivered_order_items", args, quotes, facts) is None


def test_a_refund_above_what_was_paid_is_refused(policy: PolicyFile) -> None:
    args = {"order_id": "#W0465291", "item_ids": ["1"], "payment_method_id": "credit_card_0420357"}
    facts = Facts()
    quotes = {"refund-within-paid": {"amount": 5000.0, "paid": 941.83}}
    from switchboard.policies.constraints import check_constraints

    decision = check_constraints(policy.constraints[4:5], "return_delivered_order_items", args, quotes, facts)
    assert decision is not None and "at most paid" in decision.reason
    negative = {"refund-within-paid": {"amount": -5.0, "paid": 941.83}}
    decision = check_constraints(policy.constraints[4:5], "return_delivered_order_items", args, negative, facts)
    assert decision is not None and "more than 0" in decision.reason
    assert check_constraints(policy.constraints[4:5], "return_delivered_order_items", args, {}, facts) is not None


def test_every_money_path_is_priced_and_needs_a_finance_manager_above_500(policy: PolicyFile) -> None:
    money = ["return_delivered_order_items", "cancel_pending_order", "modify_pending_order_items",
             "exchange_delivered_order_items", "modify_pending_order_payment"]  # fmt: skip
    for tool in money:
        (rule,) = policy.approval_rules_for(tool)
        assert rule.threshold == 500 and rule.roles == ("finance_manager",) and rule.measure is not None
        assert rule.measure.tool is not None and rule.measure.tool.startswith("quote_")


def test_measure_calls_use_the_calls_arguments(policy: PolicyFile) -> None:
    calls = measure_calls(policy, "cancel_pending_order", {"order_id": "#W1", "reason": "x"})
    assert {(c.key, c.tool, tuple(c.args.items())) for c in calls} == {
        ("large-cancel-refund", "quote_cancel_refund", (("order_id", "#W1"),)),
        ("cancel-within-paid", "quote_cancel_refund", (("order_id", "#W1"),)),
    }
