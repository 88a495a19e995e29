"""Fresh copies, the replay of reference actions, and the canonical diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.errors import DataError
from switchboard.evaluation import GeneratedTask, TauAction, diff_states, read_state, replay
from switchboard.evaluation.state import fresh_copy, load_pristine


@pytest.fixture
def pristine(tau_data: Path, tmp_path: Path) -> Path:
    return load_pristine(tau_data, tmp_path)


def test_replaying_the_reference_changes_only_what_the_actions_change(
    pristine: Path, tmp_path: Path, generated: list[GeneratedTask]
) -> None:
    cancel = generated[0].task
    order_id = cancel.actions[-1].kwargs["order_id"]
    db = fresh_copy(pristine, tmp_path / "expected.sqlite")
    steps = replay(db, cancel.actions)
    assert [s.ok for s in steps] == [True, True, True]
    diff = diff_states(read_state(pristine), read_state(db))
    changed = {(d.table, d.key) for d in diff}
    assert ("orders", order_id) in changed
    assert {d.table for d in diff} <= {"orders", "users"}  # a gift card refund changes the user too
    order = next(d for d in diff if d.key == order_id)
    assert "status" in order.fields and "cancel_reason" in order.fields
    assert read_state(pristine) == read_state(fresh_copy(pristine, tmp_path / "other.sqlite"))


def test_a_refused_reference_action_is_recorded_and_changes_nothing(pristine: Path, tmp_path: Path) -> None:
    db = fresh_copy(pristine, tmp_path / "expected.sqlite")
    steps = replay(db, [TauAction(name="cancel_pending_order", kwargs={"order_id": "#W9999999", "reason": "x"})])
    assert not steps[0].ok and "not found" in (steps[0].error or "")
    assert diff_states(read_state(pristine), read_state(db)) == []


def test_an_unknown_operation_or_argument_is_a_data_error(pristine: Path, tmp_path: Path) -> None:
    db = fresh_copy(pristine, tmp_path / "expected.sqlite")
    with pytest.raises(DataError, match="not a retail operation"):
        replay(db, [TauAction(name="launch_rocket")])
    with pytest.raises(DataError, match="arguments it does not take"):
        replay(db, [TauAction(name="get_order_details", kwargs={"order": "#W1"})])
    assert replay(db, [TauAction(name="think", kwargs={"thought": "hm"})]) == []


def test_the_diff_names_missing_unexpected_and_changed_records() -> None:
    expected = {"users": {"u1": {"a": 1}, "u2": {"a": 1}}, "orders": {"o1": {"items": [{"p": 1}, {"p": 2}]}}}
    actual = {"users": {"u1": {"a": 1}, "u3": {"a": 1}}, "orders": {"o1": {"items": [{"p": 1}, {"p": 3}]}}}
    assert [str(d) for d in diff_states(expected, actual)] == [
        "users[u2] missing",
        "users[u3] unexpected",
        "orders[o1] changed (items[1].p)",
    ]
