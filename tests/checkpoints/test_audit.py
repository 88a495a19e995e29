"""The audit trail: every kind of tampering, done to the SQLite file directly."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from switchboard.checkpoints.audit import AuditLog, audit_key, entry_hash, event_id, open_audit
from switchboard.errors import AuditError

KEY = b"k" * 32


def fill(path: Path, key: bytes | None = KEY) -> AuditLog:
    log = AuditLog(path, key=key)
    for i in range(1, 7):
        thread = "A" if i % 2 else "B"
        log.append(f"e{i}", thread, "tool_call", {"tool": "get_order_details", "n": i})
    return log


def sql(path: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(statement, params)


def rehash(path: Path, seq: int) -> None:
    """What a careful forger does after editing: recompute the entry's own hash."""
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "select seq, event_id, thread, kind, at, payload, prev, thread_prev from audit_log where seq = ?", (seq,)
        ).fetchone()
        conn.execute("update audit_log set hash = ? where seq = ?", (entry_hash(*row), seq))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    fill(tmp_path / "audit.sqlite").close()
    return tmp_path / "audit.sqlite"


def verify(path: Path, thread: str | None = None, key: bytes | None = KEY):  # type: ignore[no-untyped-def]
    return AuditLog(path, key=key).verify(thread)


def test_an_untouched_log_verifies(db: Path) -> None:
    report = verify(db)
    assert report.ok and report.checked == 6 and report.keyed
    assert verify(db, "A").ok and verify(db, "A").checked == 3


def test_appending_an_event_again_writes_nothing(tmp_path: Path) -> None:
    log = fill(tmp_path / "a.sqlite")
    again = log.append("e3", "A", "tool_call", {"different": True})
    assert again.seq == 3 and again.payload == {"tool": "get_order_details", "n": 3}
    assert len(log.entries()) == 6 and log.verify().ok


def test_a_changed_payload_is_named(db: Path) -> None:
    sql(db, "update audit_log set payload = replace(payload, '\"n\":3', '\"n\":9') where seq = 3")
    report = verify(db)
    assert not report.ok and report.first_bad is not None
    assert (report.first_bad.problem, report.first_bad.seq, report.first_bad.event_id) == ("changed", 3, "e3")
    assert verify(db, "A").first_bad.seq == 3  # type: ignore[union-attr]
    assert verify(db, "B").ok


@pytest.mark.parametrize("column", ["kind", "thread", "at", "event_id"])
def test_any_changed_field_is_caught(db: Path, column: str) -> None:
    sql(db, f"update audit_log set {column} = 'x' || {column} where seq = 2")
    assert verify(db).first_bad.seq == 2  # type: ignore[union-attr]


def test_a_changed_and_rehashed_entry_breaks_the_next_link(db: Path) -> None:
    sql(db, "update audit_log set payload = '{}' where seq = 2")
    rehash(db, 2)
    bad = verify(db).first_bad
    assert bad is not None and bad.seq == 2 and bad.problem == "reordered"


def test_a_rehashed_last_entry_disagrees_with_the_head(db: Path) -> None:
    sql(db, "update audit_log set payload = '{}' where seq = 6")
    rehash(db, 6)
    bad = verify(db).first_bad
    assert bad is not None and bad.seq == 6 and bad.problem == "head"


def test_a_deleted_entry_is_named(db: Path) -> None:
    sql(db, "delete from audit_log where seq = 3")
    bad = verify(db).first_bad
    assert bad is not None and bad.problem == "missing" and "3..3" in bad.message
    thread_bad = verify(db, "A").first_bad
    assert thread_bad is not None and thread_bad.problem == "missing" and thread_bad.seq == 5


def test_reordered_entries_are_caught(db: Path) -> None:
    sql(db, "update audit_log set seq = 100 where seq = 2")
    sql(db, "update audit_log set seq = 2 where seq = 4")
    sql(db, "update audit_log set seq = 4 where seq = 100")
    bad = verify(db).first_bad
    assert bad is not None and bad.seq == 2 and bad.problem == "changed"


def test_a_truncated_tail_is_caught(db: Path) -> None:
    sql(db, "delete from audit_log where seq >= 5")
    bad = verify(db).first_bad
    assert bad is not None and bad.problem == "truncated" and bad.seq == 5
    assert verify(db, "A").first_bad.problem == "truncated"  # type: ignore[union-attr]


def test_an_emptied_log_is_caught_by_its_head(db: Path) -> None:
    sql(db, "delete from audit_log")
    assert verify(db).first_bad.problem == "truncated"  # type: ignore[union-attr]


def test_a_deleted_head_record_is_caught(db: Path) -> None:
    sql(db, "delete from audit_heads where scope = '*'")
    assert verify(db).first_bad.problem == "head"  # type: ignore[union-attr]


def _truncate_and_fix_heads(db: Path) -> None:
    sql(db, "delete from audit_log where seq >= 5")
    with sqlite3.connect(db) as conn:
        last = conn.execute("select seq, hash from audit_log where seq = 4").fetchone()
        conn.execute("update audit_heads set seq = ?, hash = ?, count = 4 where scope = '*'", last)
        for thread in ("A", "B"):
            seq, digest = conn.execute(
                "select seq, hash from audit_log where thread = ? order by seq desc", (thread,)
            ).fetchone()
            conn.execute("update audit_heads set seq = ?, hash = ?, count = 2 where scope = ?", (seq, digest, thread))


def test_a_truncation_with_forged_heads_fails_the_hmac(db: Path) -> None:
    _truncate_and_fix_heads(db)
    bad = verify(db).first_bad
    assert bad is not None and bad.problem == "head" and "audit key" in bad.message


def test_without_a_key_a_consistent_rewrite_is_not_detectable(db: Path) -> None:
    """The documented limit: without the key (or an anchor) a forger who fixes the heads wins."""
    _truncate_and_fix_heads(db)
    assert verify(db, key=None).ok
    assert not verify(db, key=KEY).ok


def test_an_anchor_catches_a_rolled_back_copy(tmp_path: Path) -> None:
    log = fill(tmp_path / "audit.sqlite")
    shutil.copy(tmp_path / "audit.sqlite", tmp_path / "old.sqlite")
    log.append("e7", "A", "approval", {"principal": "alice"})
    anchor = log.head()
    assert anchor is not None and anchor[0] == 7
    log.close()
    shutil.copy(tmp_path / "old.sqlite", tmp_path / "audit.sqlite")
    rolled = AuditLog(tmp_path / "audit.sqlite", key=KEY)
    assert rolled.verify().ok
    bad = rolled.verify(anchor=anchor).first_bad
    assert bad is not None and bad.problem == "anchor"


def test_consumed_approvals_are_read_per_thread(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.sqlite")
    log.append("c1", "t1", "approval_consumed", {"token_id": "abc"})
    log.append("c2", "t2", "approval_consumed", {"token_id": "def"})
    assert log.consumed_approvals("t1") == frozenset({"abc"})


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="unknown audit kind"):
        AuditLog(tmp_path / "a.sqlite").append("x", "t", "gossip", {})  # type: ignore[arg-type]


def test_audit_key_is_made_once_owner_only(tmp_path: Path) -> None:
    key = audit_key(tmp_path)
    assert len(key) == 32 and audit_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "keys" / "audit.key").stat().st_mode) == 0o600
    log = open_audit(tmp_path)
    log.append("x", "t", "routing", {"agent": "finance"})
    assert log.verify().keyed and log.verify().ok


def test_a_rerun_gets_back_the_first_time_an_event_happened(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    log = AuditLog(tmp_path / "a.sqlite")
    rid = event_id("t1", "finance:task", "call_1", "ask")
    assert rid == event_id("t1", "finance:task", "call_1", "ask") != event_id("t1", "finance:task", "call_2", "ask")
    first = log.append(rid, "t1", "escalation", {"q": 1}, at=datetime(2026, 1, 1, tzinfo=UTC))
    again = log.append(rid, "t1", "escalation", {"q": 1}, at=datetime(2026, 6, 1, tzinfo=UTC))
    assert again.timestamp == first.timestamp == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
