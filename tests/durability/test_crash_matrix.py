"""The crash matrix, small: the demo return killed by SIGKILL once at each kind of boundary.

``make bench`` runs the full matrix (20 windows per boundary on SQLite, 3 on
Postgres; ``benchmarks/crash_matrix.py``). Here, one window of each kind,
chosen where issue 9 found failures:

- ``effect-after:1``: the approved refund request landed, the approval's
  progress did not; resuming re-decided the write against an order it had
  already changed, refused it, and the run ended "handed over" half done;
- ``checkpoint-after:2``: killed just after the first saves, the thread could
  not be resumed at all;
- ``effect-before:4`` and a checkpoint write in the middle of the run.
"""

from __future__ import annotations

from benchmarks.crash_matrix import failures, matrix


def test_a_crash_at_each_boundary_loses_and_duplicates_nothing() -> None:
    clean, trials = matrix(
        1,
        windows_at=[("effect-after", 1), ("checkpoint-after", 2), ("effect-before", 4), ("checkpoint-before", 60)],
    )
    assert clean.status == "completed" and clean.outcome == "resolved" and clean.notifications == 1
    assert "return_delivered_order_items" in clean.writes and "issue_return_refund" in clean.writes
    assert failures(clean, trials) == []
    assert all(t.killed for t in trials)
    assert all(t.recovery for t in trials)  # each was recovered through the CLI
