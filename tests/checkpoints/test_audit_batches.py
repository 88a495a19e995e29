"""Appending in batches: one transaction, the same chain, and the keys the guard looks up."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.checkpoints.audit import AuditLog
from switchboard.errors import AuditError

KEY = b"k" * 32
AT = datetime(2026, 1, 1, tzinfo=UTC)
EVENTS = [
    ("e1", "A", "policy", {"tool": "refund", "key": "sb1-one"}),
    ("e2", "B", "tool_call", {"tool": "refund", "n": 2}),
    ("e3", "A", "tool_call", {"tool": "refund", "n": 3}),
]


def chain(log: AuditLog) -> list[tuple[object, ...]]:
    return [(e.seq, e.event_id, e.thread, e.kind, e.prev, e.thread_prev, e.hash) for e in log.entries()]


def test_a_batch_writes_the_same_chain_and_heads_as_appending_one_by_one(tmp_path: Path) -> None:
    one_by_one, batched = AuditLog(tmp_path / "a.sqlite", key=KEY), AuditLog(tmp_path / "b.sqlite", key=KEY)
    for event in EVENTS:
        one_by_one.append(*event, at=AT)  # type: ignore[arg-type]
    written = batched.append_many(EVENTS, at=AT)  # type: ignore[arg-type]

    assert chain(batched) == chain(one_by_one)
    assert [e.seq for e in written] == [1, 2, 3]
    assert batched.head() == one_by_one.head() and batched.head("A") == one_by_one.head("A")
    assert batched.verify().ok and batched.verify("B").ok


def test_a_batch_appended_again_writes_nothing_and_returns_the_first_entries(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.sqlite", key=KEY)
    first = log.append_many(EVENTS)  # type: ignore[arg-type]
    again = log.append_many([*EVENTS, ("e4", "A", "handoff", {"n": 4})])  # type: ignore[list-item]

    assert again[:3] == first and again[3].seq == 4
    assert len(log.entries()) == 4 and log.verify().ok


def test_a_batch_with_a_bad_event_writes_none_of_it(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.sqlite", key=KEY)
    with pytest.raises(AuditError, match="unknown audit kind"):
        log.append_many([EVENTS[0], ("e9", "A", "gossip", {})])  # type: ignore[list-item]
    with sqlite3.connect(tmp_path / "a.sqlite") as conn:  # the second insert fails, as a full disk would
        conn.execute("create trigger boom before insert on audit_log when new.event_id = 'e2' "
                     "begin select raise(abort, 'disk full'); end")  # fmt: skip
    with pytest.raises(AuditError, match="disk full"):
        log.append_many(EVENTS)  # type: ignore[arg-type]
    assert log.entries() == [] and log.head() is None and log.head("A") is None


def test_seen_keys_names_only_keys_of_recorded_decisions(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.sqlite", key=KEY)
    assert log.seen_keys(["sb1-one"]) == frozenset()
    log.append_many(EVENTS)  # type: ignore[arg-type]
    log.append("e5", "A", "tool_call", {"key": "sb1-two"})  # a key outside a decision says nothing

    assert log.seen_keys(["sb1-one", "sb1-two", "sb1-three"]) == {"sb1-one"}
    assert log.seen_keys([]) == frozenset()


def test_seen_keys_sees_what_another_connection_wrote(tmp_path: Path) -> None:
    path = tmp_path / "a dir #1?" / "audit log.sqlite"  # the read connection opens it by URI
    reader, writer = AuditLog(path, key=KEY), AuditLog(path, key=KEY)
    assert reader.seen_keys(["sb1-one"]) == frozenset()
    writer.append(*EVENTS[0])  # type: ignore[arg-type]
    assert reader.seen_keys(["sb1-one"]) == {"sb1-one"}  # another process's decision, e.g. before a crash
    reader.close()
    writer.close()


def test_a_log_made_by_the_earlier_release_opens_and_gets_the_key_index(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    log = AuditLog(path, key=KEY)
    log.append(*EVENTS[0])  # type: ignore[arg-type]
    log.close()
    with sqlite3.connect(path) as conn:
        conn.execute("drop index idx_audit_log_policy_key")
    reopened = AuditLog(path, key=KEY)
    assert reopened.seen_keys(["sb1-one"]) == {"sb1-one"} and reopened.verify().ok
    with sqlite3.connect(path) as conn:
        names = {row[0] for row in conn.execute("select name from sqlite_master where type = 'index'")}
    assert "idx_audit_log_policy_key" in names
