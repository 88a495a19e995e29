"""The governance commands: principals keygen/list, audit verify/show/head, escalations."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from switchboard.checkpoints.audit import open_audit
from switchboard.cli import main
from switchboard.runs import start_run
from switchboard.settings import Settings

RETURN_OVER_LIMIT = (
    "Hi, this is Mia Chen (mia.chen@example.com). The espresso machine and the headphones from my "
    "last delivered order arrived damaged. I want to return both and get my money back."
)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def home() -> Path:
    return Settings().data_dir


def test_keygen_sets_up_the_demo_principals_in_the_data_dir(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    assert cli(capsys, "principals", "keygen", "alice", "--role", "finance_manager")[0] == 0
    assert cli(capsys, "principals", "keygen", "bob", "--role", "support_agent")[0] == 0
    assert stat.S_IMODE((home / "keys" / "alice.pem").stat().st_mode) == 0o600
    code, out = cli(capsys, "principals", "list", "--json")
    listed = {p["name"]: p for p in json.loads(out)["principals"]}
    assert code == 0 and listed["alice"]["roles"] == ["finance_manager"] and listed["bob"]["private_key_here"]
    assert str(home / "principals.yaml") in json.loads(out)["files"]


def test_keygen_if_missing_keeps_the_key(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    cli(capsys, "principals", "keygen", "alice", "--role", "finance_manager")
    key = (home / "keys" / "alice.pem").read_bytes()
    code, out = cli(capsys, "principals", "keygen", "alice", "--role", "finance_manager", "--if-missing")
    assert code == 0 and "already" in out and (home / "keys" / "alice.pem").read_bytes() == key
    cli(capsys, "principals", "keygen", "alice", "--role", "finance_manager")
    assert (home / "keys" / "alice.pem").read_bytes() != key


def test_keygen_refuses_an_undeclared_role(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    code, out = cli(capsys, "principals", "keygen", "eve", "--role", "root")
    assert code == 1 and "not declared" in out and not (home / "keys" / "eve.pem").exists()


def test_audit_verify_exits_1_naming_the_first_bad_entry(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    log = open_audit(home)
    for i in range(3):
        log.append(f"e{i}", "t1", "tool_call", {"i": i})
    log.append("x", "t2", "routing", {"agent": "finance"})
    code, out = cli(capsys, "audit", "verify")
    assert code == 0 and "4 entries" in out
    code, out = cli(capsys, "audit", "head")
    assert out.startswith("4:")
    code, out = cli(capsys, "audit", "show", "--thread", "t1", "--json")
    assert [e["seq"] for e in json.loads(out)] == [1, 2, 3]
    with sqlite3.connect(home / "audit.sqlite") as conn:
        conn.execute("update audit_log set payload = '{\"i\":7}' where seq = 2")
    code, out = cli(capsys, "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["first_bad"]["seq"] == 2 and report["first_bad"]["problem"] == "changed"
    assert cli(capsys, "audit", "verify", "--thread", "t2")[0] == 0
    assert cli(capsys, "audit", "verify", "--thread", "t1")[0] == 1


def test_audit_show_marks_what_it_cannot_vouch_for(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    """``show`` printed a forged row like any other, exit 0 (outside review): it now says so, and exits 1."""
    log = open_audit(home)
    for i in range(3):
        log.append(f"e{i}", "t1", "tool_call", {"outcome": "refused", "i": i})
    assert cli(capsys, "audit", "show", "--thread", "t1")[0] == 0
    with sqlite3.connect(home / "audit.sqlite") as conn:
        conn.execute('update audit_log set payload = \'{"outcome":"ok","i":1}\' where seq = 2')
    code, out = cli(capsys, "audit", "show", "--thread", "t1")
    lines = [line for line in out.splitlines() if "tool_call" in line]
    assert code == 1 and "tampered at entry 2 (changed)" in out
    assert [line.startswith("!") for line in lines] == [False, True, True]
    code, out = cli(capsys, "audit", "show", "--thread", "t1", "--json")
    assert code == 1 and "tampered at entry 2" in out


def test_audit_verify_checks_an_anchor(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    open_audit(home).append("e", "t", "routing", {})
    assert cli(capsys, "audit", "verify", "--anchor", "1:" + "0" * 64)[0] == 1
    assert cli(capsys, "audit", "verify", "--anchor", "nonsense")[0] == 1


def test_escalations_lists_a_paused_question_for_its_role(
    capsys: pytest.CaptureFixture[str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_CHECKPOINT_DB", str(settings.checkpoint_target))
    assert cli(capsys, "escalations")[1].startswith("nothing is waiting")
    result: Any = asyncio.run(start_run(RETURN_OVER_LIMIT, thread_id="t-wait", settings=settings))
    assert result.status == "paused"
    code, out = cli(capsys, "escalations", "--json")
    (row,) = json.loads(out)
    assert code == 0 and row["thread"] == "t-wait" and row["rule"] == "large-refund"
    assert row["roles"] == ["finance_manager"] and row["state"] == "waiting" and row["interrupt_id"]
    assert "$923.23" in row["question"]
    code, out = cli(capsys, "escalations", "--sweep")  # 4 hours have not passed: nothing to do
    assert code == 0 and "no escalation timeout has expired" in out
    (again,) = json.loads(cli(capsys, "escalations", "--json")[1])
    assert again["interrupt_id"] == row["interrupt_id"] and again["step"] == 0
    assert again["deadline"] == row["deadline"] and row["deadline"] > time.time() + 3 * 3600
