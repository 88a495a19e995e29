"""The thread's facts are a fold over its records; remembering prefixes must never change the answer."""

from __future__ import annotations

import json
from pathlib import Path

import switchboard.policies
from switchboard.agents.guard import thread_facts
from switchboard.agents.records import ToolCallRecord
from switchboard.policies import load_policy

POLICY = load_policy(Path(switchboard.policies.__file__).parent / "retail.yaml")


def record(tool: str, args: dict[str, object], result: object, outcome: str = "ok") -> ToolCallRecord:
    text = result if isinstance(result, str) else json.dumps(result)
    return ToolCallRecord(tool=tool, args=args, outcome=outcome, result=text, policy=None)  # type: ignore[typeddict-item]


def user(orders: list[str]) -> ToolCallRecord:
    return record("get_user_details", {"user_id": "mia"}, {"orders": orders, "payment_methods": [{"id": "gift_1"}]})


def test_facts_are_learnt_from_successful_teaching_calls_only() -> None:
    facts = thread_facts(POLICY, [
        record("find_user_id_by_email", {"email": "m@x"}, "mia"),
        user(["#W1"]),
        record("get_user_details", {"user_id": "omar"}, {"orders": ["#W9"]}, outcome="refused"),
        record("notify_customer", {"user_id": "mia", "message": "hi"}, {"sent": True}),
    ])  # fmt: skip
    assert facts.customer == "mia"
    assert facts.resource("order", "#W1").owner == "mia"  # type: ignore[union-attr]
    assert facts.resource("order", "#W9") is None and facts.resource("payment_method", "gift_1") is not None


def test_a_remembered_prefix_gives_the_same_facts_and_a_changed_record_does_not_reuse_it() -> None:
    first = [record("find_user_id_by_email", {"email": "m@x"}, "mia"), user(["#W1"])]
    assert thread_facts(POLICY, first) == thread_facts(POLICY, [dict(r) for r in first])  # copies, as checkpoints give

    changed = [first[0], user(["#W2"])]  # same tool and args, another result
    facts = thread_facts(POLICY, changed)
    assert facts.resource("order", "#W2") is not None and facts.resource("order", "#W1") is None

    longer = thread_facts(POLICY, [*first, record("find_user_id_by_email", {"email": "o@x"}, "omar")])
    assert longer.customers == ("mia", "omar") and longer.customer is None  # two customers: a conflict
