"""Signed approvals: every way an answer can fail to approve a call."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from switchboard.errors import ApprovalRefused, ConfigError
from switchboard.policies.approvals import (
    Approval,
    call_hash,
    choose_role,
    parse_approval,
    sign_approval,
    verify_approval,
)
from switchboard.policies.principals import Registry, generate_key, load_registry, upsert_principal

NOW = 1_800_000_000.0
ARGS = {"order_id": "#W0000417", "item_ids": ["1000000101", "1000000102"], "payment_method_id": "gift_card_1"}


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    folder = tmp_path / "keys"
    file = tmp_path / "principals.yaml"
    for name, role in [("alice", "finance_manager"), ("bob", "support_agent"), ("mallory", "finance_manager")]:
        public = generate_key(folder / f"{name}.pem")
        if name != "mallory":  # mallory has a key but is no principal
            upsert_principal(file, name, [role], public)
    return tmp_path


@pytest.fixture
def registry(keys: Path) -> Registry:
    return load_registry([keys / "principals.yaml"])


def sign(keys: Path, name: str = "alice", role: str = "finance_manager", **overrides: object) -> Approval:
    fields: dict[str, object] = {
        "thread_id": "t1",
        "interrupt_id": "i1",
        "tool": "return_delivered_order_items",
        "args": ARGS,
        "now": NOW,
    }
    fields.update(overrides)
    return sign_approval(name, keys / "keys" / f"{name}.pem", role, **fields)  # type: ignore[arg-type]


def check(value: object, registry: Registry, **overrides: object) -> object:
    fields: dict[str, object] = {
        "registry": registry,
        "roles": ("finance_manager",),
        "thread_id": "t1",
        "interrupt_id": "i1",
        "tool": "return_delivered_order_items",
        "args": ARGS,
        "now": NOW + 5,
    }
    fields.update(overrides)
    return verify_approval(value, **fields)  # type: ignore[arg-type]


def refused(reason: str, value: object, registry: Registry, **overrides: object) -> ApprovalRefused:
    with pytest.raises(ApprovalRefused) as caught:
        check(value, registry, **overrides)
    assert caught.value.reason == reason, str(caught.value)
    return caught.value


def test_alice_approval_verifies_and_names_her_role(keys: Path, registry: Registry) -> None:
    approval = sign(keys, note="photos checked")
    verdict = check(approval.model_dump(), registry)
    assert verdict.principal == "alice" and verdict.role == "finance_manager"  # type: ignore[attr-defined]
    assert verdict.approved and verdict.note == "photos checked"  # type: ignore[attr-defined]
    assert verdict.token_id == approval.token_id  # type: ignore[attr-defined]


def test_a_wrapped_resume_value_is_read(keys: Path, registry: Registry) -> None:
    approval = sign(keys)
    assert check({"approved": True, "approval": approval.model_dump()}, registry).principal == "alice"  # type: ignore[attr-defined]


def test_private_key_is_written_owner_only(keys: Path) -> None:
    mode = stat.S_IMODE((keys / "keys" / "alice.pem").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize("value", [True, {"approved": True, "approver": "alice"}, {"approved": True}])
def test_anonymous_or_unsigned_answers_are_refused(value: object, registry: Registry) -> None:
    refused("unsigned", value, registry)


def test_approval_without_signature_is_refused(keys: Path, registry: Registry) -> None:
    unsigned = sign(keys).model_copy(update={"signature": None})
    refused("unsigned", unsigned.model_dump(), registry)
    refused("bad_signature", sign(keys).model_copy(update={"signature": "bm90IGEgc2lnbmF0dXJl"}).model_dump(), registry)


def test_malformed_approval_is_refused(registry: Registry) -> None:
    refused("malformed", {"principal": "alice", "signature": "x"}, registry)


def test_unknown_principal_is_refused_even_with_a_valid_key(keys: Path, registry: Registry) -> None:
    error = refused("unknown_principal", sign(keys, "mallory").model_dump(), registry)
    assert error.principal == "mallory"


def test_wrong_role_for_the_rule_is_refused(keys: Path, registry: Registry) -> None:
    refused("wrong_role", sign(keys, "bob", "support_agent").model_dump(), registry)


def test_claiming_a_role_not_held_is_refused(keys: Path, registry: Registry) -> None:
    refused("wrong_role", sign(keys, "bob", "finance_manager").model_dump(), registry)


def test_signature_by_another_key_is_refused(keys: Path, registry: Registry) -> None:
    forged = sign(keys, "mallory").model_copy(update={"principal": "alice"})
    refused("bad_signature", forged.model_dump(), registry)


def test_any_edited_field_breaks_the_signature(keys: Path, registry: Registry) -> None:
    approval = sign(keys)
    refused("bad_signature", approval.model_copy(update={"expires_at": approval.expires_at + 10**6}).model_dump(),
            registry)
    refused("bad_signature", approval.model_copy(update={"approved": False}).model_dump(), registry)


def test_other_thread_or_interrupt_is_refused(keys: Path, registry: Registry) -> None:
    refused("wrong_thread", sign(keys, thread_id="t2").model_dump(), registry)
    refused("wrong_interrupt", sign(keys, interrupt_id="i2").model_dump(), registry)


def test_never_covers_different_arguments(keys: Path, registry: Registry) -> None:
    approval = sign(keys).model_dump()
    refused("wrong_call", approval, registry, args={**ARGS, "payment_method_id": "gift_card_9"})
    refused("wrong_call", approval, registry, args={**ARGS, "item_ids": [*ARGS["item_ids"], "1"]})
    refused("wrong_call", approval, registry, tool="cancel_pending_order")


def test_look_alike_arguments_hash_differently() -> None:
    assert call_hash("t", {"order_id": "#W1"}) != call_hash("t", {"order_id": "#W\uff11"})
    assert call_hash("t", {"a": 1, "b": 2}) == call_hash("t", {"b": 2, "a": 1})


def test_expired_and_future_approvals_are_refused(keys: Path, registry: Registry) -> None:
    approval = sign(keys, ttl=60).model_dump()
    refused("expired", approval, registry, now=NOW + 60)
    refused("not_yet_valid", approval, registry, now=NOW - 3600)
    refused("ttl_too_long", sign(keys, ttl=86400).model_dump(), registry, max_ttl_s=3600)


def test_a_consumed_approval_cannot_be_reused(keys: Path, registry: Registry) -> None:
    approval = sign(keys)
    refused("reused", approval.model_dump(), registry, consumed={approval.token_id})


def test_a_signed_rejection_verifies_as_not_approved(keys: Path, registry: Registry) -> None:
    assert check(sign(keys, approved=False).model_dump(), registry).approved is False  # type: ignore[attr-defined]


def test_two_approvals_of_the_same_call_are_distinct(keys: Path) -> None:
    assert sign(keys).token_id != sign(keys).token_id


def test_choose_role_narrows_and_refuses(registry: Registry) -> None:
    alice, bob = registry.get("alice"), registry.get("bob")
    assert alice is not None and bob is not None
    assert choose_role(alice, ["finance_manager"]) == "finance_manager"
    with pytest.raises(ApprovalRefused, match="needs role finance_manager"):
        choose_role(bob, ["finance_manager"])
    with pytest.raises(ApprovalRefused):
        choose_role(alice, ["finance_manager"], requested="support_agent")


def test_parse_rejects_plain_text() -> None:
    with pytest.raises(ApprovalRefused):
        parse_approval("yes")


def test_a_principal_defined_in_two_files_is_refused(tmp_path: Path, keys: Path) -> None:
    other = tmp_path / "other.yaml"
    upsert_principal(other, "alice", ["finance_manager"], generate_key(tmp_path / "k.pem"))
    with pytest.raises(ConfigError, match="defined in both"):
        load_registry([keys / "principals.yaml", other])


def test_undeclared_role_and_bad_key_give_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "p.yaml"
    file.write_text("roles:\n  finance_manager: refunds\nprincipals:\n  - name: eve\n    roles: [boss]\n")
    with pytest.raises(ConfigError, match="undeclared role"):
        load_registry([file])
    file.write_text("principals:\n  - name: eve\n    roles: [boss]\n    public_key: nope\n")
    with pytest.raises(ConfigError, match=r"p\.yaml:4: principals\.0\.public_key"):
        load_registry([file])


def test_missing_optional_file_is_empty_but_a_required_one_is_an_error(tmp_path: Path) -> None:
    assert load_registry([tmp_path / "none.yaml"]).principals == {}
    with pytest.raises(ConfigError, match="does not exist"):
        load_registry([tmp_path / "none.yaml"], required=[tmp_path / "none.yaml"])


def test_keygen_again_rekeys_and_old_signatures_fail(keys: Path) -> None:
    old = sign(keys)
    upsert_principal(keys / "principals.yaml", "alice", ["finance_manager"], generate_key(keys / "keys" / "alice.pem"))
    registry = load_registry([keys / "principals.yaml"])
    refused("bad_signature", old.model_dump(), registry)
    assert check(sign(keys).model_dump(), registry).principal == "alice"  # type: ignore[attr-defined]
