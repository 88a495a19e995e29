"""Walking the audit chain: what each kind of tampering looks like.

- a changed entry no longer hashes to its stored hash (``changed``);
- a changed entry whose hash was recomputed no longer matches the ``prev``
  the next entry recorded (``reordered``: the entry there is not the one
  that followed);
- a deleted entry leaves a gap in the sequence numbers, or a broken
  ``thread_prev`` link inside its thread (``missing``);
- entries moved to other positions hash differently, since the position is
  hashed (``changed``);
- a cut-off tail leaves the head record pointing past the last entry
  (``truncated``); a head record rewritten to match fails its HMAC (``head``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from switchboard.checkpoints.audit import ALL, GENESIS, AuditProblem, entry_hash

Mac = Callable[[str, int, str, int], str]


def verify_rows(
    rows: Sequence[Mapping[str, Any]],
    heads: Mapping[str, Mapping[str, Any]],
    *,
    thread: str | None,
    mac: Mac | None,
    anchor: tuple[int, str] | None,
) -> AuditProblem | None:
    """The first problem in ``rows`` (ordered by seq) and their heads, or ``None``."""
    last_in_thread: dict[str, str] = {}
    counts: dict[str, int] = {}
    previous: Mapping[str, Any] | None = None
    for row in rows:
        problem = _check_row(row, previous, last_in_thread, whole_log=thread is None)
        if problem is not None:
            return problem
        last_in_thread[row["thread"]] = row["hash"]
        counts[row["thread"]] = counts.get(row["thread"], 0) + 1
        previous = row
    scopes = [thread] if thread is not None else [ALL, *sorted(set(counts) | (set(heads) - {ALL}))]
    for scope in scopes:
        problem = _check_head(scope, heads.get(scope), rows, counts, mac)
        if problem is not None:
            return problem
    if anchor is not None:
        return _check_anchor(anchor, rows)
    return None


def _bad(problem: Any, row: Mapping[str, Any] | None, message: str) -> AuditProblem:
    seq = None if row is None else row["seq"]
    return AuditProblem(problem, seq, None if row is None else row["event_id"], message)


def _check_row(
    row: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    last_in_thread: Mapping[str, str],
    *,
    whole_log: bool,
) -> AuditProblem | None:
    seq = row["seq"]
    expected = 1 if previous is None else previous["seq"] + 1
    if seq < 1:
        return _bad("changed", row, f"entry {seq} is outside the log (entries are numbered from 1): it was added")
    if whole_log and seq != expected:
        return _bad("missing", row, f"entries {expected}..{seq - 1} are missing before entry {seq}")
    recomputed = entry_hash(
        seq, row["event_id"], row["thread"], row["kind"], row["at"], row["payload"], row["prev"], row["thread_prev"]
    )
    if recomputed != row["hash"]:
        return _bad("changed", row, f"entry {seq} was changed: its content no longer matches its hash")
    if whole_log:
        want = GENESIS if previous is None else previous["hash"]
        if row["prev"] != want:
            culprit = previous or row
            return _bad(
                "reordered",
                culprit,
                f"entry {culprit['seq']} is not the entry that entry {seq} followed: it was replaced, "
                "rewritten or moved",
            )
    want_thread = last_in_thread.get(row["thread"], GENESIS)
    if row["thread_prev"] != want_thread:
        return _bad(
            "missing",
            row,
            f"an entry of thread {row['thread']!r} before entry {seq} was deleted, replaced or moved",
        )
    return None


def _check_head(
    scope: str,
    head: Mapping[str, Any] | None,
    rows: Sequence[Mapping[str, Any]],
    counts: Mapping[str, int],
    mac: Mac | None,
) -> AuditProblem | None:
    mine = list(rows) if scope == ALL else [r for r in rows if r["thread"] == scope]
    last = mine[-1] if mine else None
    count = len(rows) if scope == ALL else counts.get(scope, 0)
    name = "the log" if scope == ALL else f"thread {scope!r}"
    if head is None:
        if last is None:
            return None
        return _bad("head", last, f"the head record of {name} is missing; entries cannot be shown complete")
    if mac is not None and head["mac"] != mac(scope, head["seq"], head["hash"], head["count"]):
        return _bad("head", last, f"the head record of {name} was rewritten without the audit key")
    if last is None or head["seq"] > last["seq"] or head["count"] > count:
        after = 0 if last is None else last["seq"]
        return AuditProblem(
            "truncated",
            after + 1 if scope == ALL else None,
            None,
            f"{name} was truncated: its head record names entry {head['seq']} ({head['count']} entries), "
            f"but the last entry present is {after or 'none'} ({count} entries)",
        )
    if head["seq"] != last["seq"] or head["hash"] != last["hash"] or head["count"] != count:
        return _bad("head", last, f"{name} does not end where its head record says (entry {head['seq']})")
    return None


def _check_anchor(anchor: tuple[int, str], rows: Sequence[Mapping[str, Any]]) -> AuditProblem | None:
    seq, digest = anchor
    match = next((r for r in rows if r["seq"] == seq), None)
    if match is None:
        return AuditProblem("anchor", seq, None, f"the anchored entry {seq} is gone")
    if match["hash"] != digest:
        return _bad("anchor", match, f"entry {seq} is not the one anchored (hash {digest[:12]}…)")
    return None
