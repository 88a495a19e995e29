"""A forger without the audit key cannot get the graph to sign their rows, nor to act on them.

The head records' HMAC is what a forger who can write ``audit.sqlite`` but
not read the key cannot make. An outside review found two ways around it:

- the log's next append extended whatever head it found and signed it, so a
  rewritten middle, a cut-off tail or an added row, with the heads pointed
  at it, verified clean after the graph's next entry ("laundered");
- the graph read its own decisions back (an approval that stands, the
  approvals already used up) from rows it had not checked, so one inserted
  ``approval`` row with a correct hash was taken as a signed approval.

Now an append first checks the heads it extends (their HMAC, and that each
ends where its scope's last entry does) and refuses on a mismatch, and the
entries the graph decides on are read through :meth:`AuditLog.trusted_entries`,
which verifies the thread first.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from switchboard.checkpoints.audit import AuditLog, entry_hash
from switchboard.errors import AuditError

KEY = b"k" * 32


def _log(path: Path) -> AuditLog:
    log = AuditLog(path, key=KEY)
    for i in range(1, 5):
        log.append(f"e{i}", "A" if i % 2 else "B", "tool_call", {"n": i})
    return log


def _forge_row(path: Path, thread: str, kind: str, payload: str, *, fix_heads: bool) -> None:
    """Append a row with a correct hash and links, as a forger with the schema and no key can."""
    with sqlite3.connect(path) as conn:
        seq, prev = conn.execute("select seq, hash from audit_log order by seq desc limit 1").fetchone()
        last = conn.execute(
            "select hash from audit_log where thread = ? order by seq desc limit 1", (thread,)
        ).fetchone()
        thread_prev = last[0] if last else "0" * 64
        at = "2026-01-01T00:00:00.000000+00:00"
        digest = entry_hash(seq + 1, "forged", thread, kind, at, payload, prev, thread_prev)
        conn.execute(
            "insert into audit_log values (?, 'forged', ?, ?, ?, ?, ?, ?, ?)",
            (seq + 1, thread, kind, at, payload, prev, thread_prev, digest),
        )
        if fix_heads:
            conn.execute("update audit_heads set seq = ?, hash = ?, count = count + 1 where scope in ('*', ?)",
                         (seq + 1, digest, thread))  # fmt: skip


@pytest.mark.parametrize("fix_heads", [False, True], ids=["heads-left", "heads-pointed-at-it"])
def test_an_append_after_a_forged_row_is_refused_and_the_forgery_stays_visible(tmp_path: Path, fix_heads: bool) -> None:
    path = tmp_path / "audit.sqlite"
    _log(path).close()
    _forge_row(path, "A", "approval", '{"approved":true,"interrupt_id":"q1","principal":"alice"}', fix_heads=fix_heads)
    log = AuditLog(path, key=KEY)
    with pytest.raises(AuditError, match=r"without the audit key|does not end where"):
        log.append("e5", "A", "tool_call", {"n": 5})
    assert not log.verify().ok  # nothing was signed over it


def test_a_cut_off_tail_is_not_laundered_by_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    _log(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("delete from audit_log where seq = 4")
    log = AuditLog(path, key=KEY)
    with pytest.raises(AuditError):
        log.append("e5", "A", "tool_call", {"n": 5})
    assert not log.verify().ok


def test_another_threads_head_is_checked_before_it_is_extended(tmp_path: Path) -> None:
    """A thread head rewritten (a smaller count) would be re-signed by that thread's next entry."""
    path = tmp_path / "audit.sqlite"
    _log(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("update audit_heads set count = 1 where scope = 'B'")
    log = AuditLog(path, key=KEY)
    log.append("e5", "A", "tool_call", {"n": 5})  # thread A's and the log's heads are sound
    with pytest.raises(AuditError, match="thread 'B'"):
        log.append("e6", "B", "tool_call", {"n": 6})


def test_trusted_entries_refuse_a_thread_with_a_forged_row(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    _log(path).close()
    log = AuditLog(path, key=KEY)
    assert [e.event_id for e in log.trusted_entries("A")] == ["e1", "e3"]
    _forge_row(path, "A", "approval_consumed", '{"token_id":"t"}', fix_heads=False)
    with pytest.raises(AuditError, match=r"entry 5|does not end where its head record says \(entry 4\)"):
        log.trusted_entries("A")
    with pytest.raises(AuditError):
        log.consumed_approvals("A")


def test_an_honest_log_keeps_appending(tmp_path: Path) -> None:
    log = _log(tmp_path / "audit.sqlite")
    log.append_many([("e5", "C", "tool_call", {"n": 5}), ("e6", "A", "tool_call", {"n": 6})])
    assert log.verify().ok and len(log.trusted_entries("A")) == 3


def _forge_under_id(path: Path, event: str, thread: str, kind: str, seq: int) -> None:
    """A row under an event id the graph will use next, outside the chain (seq < 1) or in another thread."""
    at, text = "2099-01-01T00:00:00.000000+00:00", '{"note":"forged"}'
    digest = entry_hash(seq, event, thread, kind, at, text, "0" * 64, "0" * 64)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "insert into audit_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, event, thread, kind, at, text, "0" * 64, "0" * 64, digest),
        )


@pytest.mark.parametrize(
    ("thread", "kind"), [("zz", "escalation"), ("A", "approval")], ids=["another-thread", "same-thread-and-kind"]
)
def test_an_event_id_taken_by_a_forged_row_is_refused_not_returned(tmp_path: Path, thread: str, kind: str) -> None:
    """Review of this round: a row under the graph's next event id (seq < 1) was returned as already recorded.

    Its time became the graph's clock for the event, and the real entry (a
    refund's tool call) was never written, while the thread still verified.
    """
    path = tmp_path / "audit.sqlite"
    _log(path).close()
    _forge_under_id(path, "answer-1", thread, kind, seq=0)
    log = AuditLog(path, key=KEY)
    with pytest.raises(AuditError):
        log.append("answer-1", "A", "approval", {"interrupt_id": "q1", "attempt": 1})
    with pytest.raises(AuditError):  # nor does any later append go on over it
        log.append("e9", "A", "tool_call", {"n": 9})
    assert "outside the log" in str(log.verify().first_bad.message)  # type: ignore[union-attr]


def test_a_thread_may_not_be_named_like_the_logs_head(tmp_path: Path) -> None:
    log = _log(tmp_path / "audit.sqlite")
    with pytest.raises(AuditError, match="names the whole log's head"):
        log.append("e9", "*", "tool_call", {"n": 9})
    assert log.verify().ok


def test_a_recorded_verdict_holds_only_for_the_call_it_approved(tmp_path: Path) -> None:
    """Red-team round 2: a paused checkpoint restored and its call edited ran under the old call's approval.

    The question's id comes from the step and the call id, so the edited call
    asked "the same" question; the verdict on record now names its call.
    """
    from switchboard.agents.interrupts import recorded_verdict

    log = AuditLog(tmp_path / "audit.sqlite", key=KEY)
    log.append("v1", "T", "approval", {"interrupt_id": "q1", "approved": True, "principal": "alice", "call": "A"})
    entries = log.trusted_entries("T")
    verdict = recorded_verdict(entries, "q1", call="A")
    assert verdict is not None and verdict.principal == "alice"
    assert recorded_verdict(entries, "q1", call="B") is None  # another call: asked again, not waved through


def test_a_thread_rolled_back_to_an_earlier_signed_head_is_caught(tmp_path: Path) -> None:
    """Red-team round 2: thread A's last entry deleted and A's earlier (validly signed) head put back.

    Another thread wrote after A, so the log's tail and head were untouched,
    and A's own chain verified: the graph decided on a trail missing the
    approval A had used up.
    """
    path = tmp_path / "audit.sqlite"
    log = AuditLog(path, key=KEY)
    log.append("a1", "A", "tool_call", {"n": 1})
    with sqlite3.connect(path) as conn:
        earlier_head = conn.execute("select seq, hash, count, mac from audit_heads where scope = 'A'").fetchone()
    log.append("a2", "A", "approval_consumed", {"token_id": "t1"})
    log.append("b1", "B", "tool_call", {"n": 2})
    log.close()
    with sqlite3.connect(path) as conn:
        conn.execute("delete from audit_log where event_id = 'a2'")
        conn.execute("update audit_heads set seq = ?, hash = ?, count = ?, mac = ? where scope = 'A'", earlier_head)
    log = AuditLog(path, key=KEY)
    with pytest.raises(AuditError, match="missing from the log"):
        log.consumed_approvals("A")
    assert not log.verify("A").ok and not log.verify().ok
