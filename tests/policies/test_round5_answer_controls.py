"""Round 5, F7: answers carry no control characters, and ``show`` never prints raw ones.

A rejection needs no signature, so anyone could send one with a ``note`` and
an ``approver`` holding escape sequences; ``switchboard show`` printed them
raw, hiding the "(unsigned)" mark and painting "approved by alice" on the
operator's terminal (red team, round 5). Tasks and customer replies were
already refused for this. The graph, the retail database and the shipped
policy are real; the models are scripted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from switchboard.console import print_trail
from switchboard.errors import ApprovalError, ApprovalRefused
from switchboard.policies.answers import read_answer, sign_answer, timeout_claim
from switchboard.policies.approvals import parse_approval
from switchboard.policies.principals import load_registry
from switchboard.runs import read_thread, resume_run, start_run
from switchboard.settings import Settings
from tests.policies.helpers import large_refund_model

ESC = "\x1b"
FAKE = f"{ESC}[2K{ESC}[1G{ESC}[32mapproved by alice (finance_manager){ESC}[0m"


@pytest.mark.parametrize(
    "value",
    [
        {"approved": False, "note": FAKE},
        {"approved": False, "note": "ok\rapproved"},
        {"approved": False, "note": "bell\x07"},
        {"approved": False, "note": "csi\x9b2K"},  # a C1 control: CSI on 8-bit terminals
        {"approved": False, "approver": f"alice{ESC}[8m"},
        {"approved": False, "approver": "alice\n"},
        {"approved": False, "approver": "alice\t"},
    ],
)
def test_an_answer_with_control_characters_is_refused(value: dict[str, Any]) -> None:
    with pytest.raises(ApprovalRefused, match="control characters") as refused:
        read_answer(value)
    assert refused.value.reason == "malformed" and ESC not in str(refused.value)


def test_a_note_may_have_lines_and_tabs() -> None:
    answer = read_answer({"approved": False, "note": "line one\n\tline two", "approver": "bob"})
    assert answer.note == "line one\n\tline two" and answer.approver == "bob"


def test_a_signed_approval_with_control_characters_is_refused(principals: Path) -> None:
    registry = load_registry([principals / "principals.yaml"])
    request = {"interrupt_id": "i" * 32, "tool": "refund", "args": {"amount": 900}, "roles": ["finance_manager"]}
    with pytest.raises(ApprovalRefused, match="control characters"):
        sign_answer(registry, principals / "keys", "alice", request, thread_id="t", note=FAKE, now=1000.0)
    good = sign_answer(registry, principals / "keys", "alice", request, thread_id="t", note="ok", now=1000.0)
    with pytest.raises(ApprovalRefused) as refused:
        parse_approval({**good["approval"], "principal": f"alice{ESC}[8m"})
    assert refused.value.reason == "malformed"
    with pytest.raises(ApprovalRefused):
        parse_approval({**good["approval"], "note": FAKE})


def test_a_timeout_claim_by_a_name_with_control_characters_is_no_claim() -> None:
    assert timeout_claim({"timed_out": True, "by": "sweeper"}) is not None
    assert timeout_claim({"timed_out": True, "by": f"sweeper{ESC}[8m"}) is None


async def test_an_unsigned_rejection_with_escapes_is_refused_and_the_thread_stays_paused(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    model = large_refund_model(retail_db, mia)
    paused = await start_run("refund Mia's order", settings=settings, model=model)
    assert paused.status == "paused" and paused.pending is not None
    with pytest.raises(ApprovalError, match="control characters"):
        await resume_run(paused.thread_id, approved=False, note=FAKE, approver=f"alice{ESC}[8m", settings=settings,
                         model=model)  # fmt: skip
    thread = await read_thread(paused.thread_id, settings=settings)
    assert thread["status"] == "paused" and "control characters" in thread["pending"]["error"]
    console = Console(record=True, width=200)
    print_trail(thread, console)
    assert ESC not in console.export_text(styles=False)
    done = await resume_run(paused.thread_id, approved=False, note="not now", approver="bob", settings=settings,
                            model=model)  # fmt: skip
    assert done.status == "completed" and done.outcome == "rejected"


def test_show_writes_out_control_characters_from_old_entries() -> None:
    """Defence in depth: an audit entry written before the check must not paint the terminal either."""
    event = {"kind": "escalation", "source": "supervisor", "approved": False, "approver": f"alice{ESC}[8m (unsigned)",
             "question": "Go on?", "note": FAKE}  # fmt: skip
    thread = {"thread_id": f"t{ESC}]0;owned{ESC}\\", "status": "completed", "task": f"task{ESC}[8m", "trail": [event]}
    console = Console(record=True, width=300)
    print_trail(thread, console)
    shown = console.export_text(styles=False)
    assert ESC not in shown
    assert "rejected by alice\\x1b[8m (unsigned)" in shown and "\\x1b[32mapproved by alice" in shown
