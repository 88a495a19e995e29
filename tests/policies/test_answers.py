"""The approval round trip on the shipped policy: request, signed answer, check."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.errors import ApprovalRefused
from switchboard.policies import evaluate, load_policy
from switchboard.policies.answers import approval_request, check_answer, request_id, sign_answer
from switchboard.policies.loader import load_principals
from switchboard.policies.principals import Registry, generate_key, upsert_principal

ASKED = 1_800_000_000.0
ARGS = {"order_id": "#W0465291", "reason": "no longer needed"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    for name, role in [("alice", "finance_manager"), ("bob", "support_agent"), ("sam", "store_manager")]:
        upsert_principal(tmp_path / "principals.yaml", name, [role], generate_key(tmp_path / "keys" / f"{name}.pem"))
    return tmp_path


@pytest.fixture
def registry(home: Path) -> Registry:
    return load_principals(load_policy("retail.yaml"), {"SWITCHBOARD_HOME": str(home)})


@pytest.fixture
def request_() -> dict[str, object]:
    policy = load_policy("retail.yaml")
    decision = evaluate(policy, "cancel_pending_order", ARGS, {"large-cancel-refund": 1185.93})
    rid = request_id("t1", "finance:abc|tools:def", "call_1")
    return approval_request(decision, "cancel_pending_order", ARGS, agent="finance", interrupt_id=rid, asked_at=ASKED)


def answer(home: Path, registry: Registry, request: dict[str, object], name: str, at: float, **kw: object) -> object:
    return sign_answer(registry, home / "keys", name, request, thread_id="t1", now=at, **kw)  # type: ignore[arg-type]


def check(registry: Registry, request: dict[str, object], value: object, at: float) -> object:
    return check_answer(load_policy("retail.yaml"), registry, request, value, thread_id="t1", now=at)


def test_alice_approves_and_bob_is_refused(home: Path, registry: Registry, request_: dict[str, object]) -> None:
    verdict = check(registry, request_, answer(home, registry, request_, "alice", ASKED + 10), ASKED + 20)
    assert verdict.principal == "alice" and verdict.approved  # type: ignore[attr-defined]
    with pytest.raises(ApprovalRefused, match="needs role finance_manager"):
        answer(home, registry, request_, "bob", ASKED + 10)


def test_the_request_is_stable_and_carries_the_rule(request_: dict[str, object]) -> None:
    assert request_["roles"] == ["finance_manager"] and request_["escalation"] == "money"
    assert request_["interrupt_id"] == request_id("t1", "finance:abc|tools:def", "call_1")
    assert request_id("t1", "finance:abc|tools:def", "call_2") != request_["interrupt_id"]


def test_the_store_manager_may_answer_only_after_the_escalation(
    home: Path, registry: Registry, request_: dict[str, object]
) -> None:
    from switchboard.policies.approvals import sign_approval

    early = sign_approval("sam", home / "keys" / "sam.pem", "store_manager", "t1", str(request_["interrupt_id"]),
                          "cancel_pending_order", ARGS, now=ASKED + 60)  # fmt: skip
    with pytest.raises(ApprovalRefused) as refused:
        check(registry, request_, early.model_dump(), ASKED + 61)
    assert refused.value.reason == "wrong_role"
    late_at = ASKED + 5 * 3600
    late = sign_approval("sam", home / "keys" / "sam.pem", "store_manager", "t1", str(request_["interrupt_id"]),
                         "cancel_pending_order", ARGS, now=late_at)  # fmt: skip
    assert check(registry, request_, late.model_dump(), late_at + 1).principal == "sam"  # type: ignore[attr-defined]


def test_after_the_path_ends_the_question_is_rejected(
    home: Path, registry: Registry, request_: dict[str, object]
) -> None:
    at = ASKED + 30 * 3600
    with pytest.raises(ApprovalRefused) as refused:
        check(registry, request_, answer(home, registry, request_, "alice", at), at + 1)
    assert refused.value.reason == "timed_out"


def test_an_answer_to_one_request_does_not_answer_another(
    home: Path, registry: Registry, request_: dict[str, object]
) -> None:
    value = answer(home, registry, request_, "alice", ASKED + 10)
    other = {**request_, "args": {**ARGS, "order_id": "#W0627403"}}
    with pytest.raises(ApprovalRefused) as refused:
        check(registry, other, value, ASKED + 20)
    assert refused.value.reason == "wrong_call"
