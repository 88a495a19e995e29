"""The CLI contract: commands, exit codes (0 completed, 3 paused, 1 failed) and --json.

Each test runs the real console entry point in a subprocess, with the real
MCP server, the embedded engine and SQLite checkpoints in a temp folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from switchboard.domains.retail import RetailStore

pytestmark = pytest.mark.usefixtures("principals")  # alice, bob, sam and their keys (tests/conftest.py)

RETURN_OVER_LIMIT = (
    "Hi, this is Mia Chen (mia.chen@example.com). The espresso machine and the headphones from my "
    "last delivered order arrived damaged. I want to return both and get my money back."
)


@pytest.fixture
def cli(retail_db: Path, tmp_path: Path) -> Any:
    env = {
        **os.environ,
        "SWITCHBOARD_RETAIL_DB": str(retail_db),
        "SWITCHBOARD_CHECKPOINT_DB": str(tmp_path / "cp.sqlite"),
    }

    def run(*args: str, extra_env: dict[str, str] | None = None) -> tuple[int, Any]:
        proc = subprocess.run(
            [sys.executable, "-m", "switchboard.cli", *args],
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if "--json" in args:
            return proc.returncode, json.loads(proc.stdout)
        return proc.returncode, proc.stdout + proc.stderr

    return run


def test_paused_run_then_approve_completes_with_all_five_agents(cli: Any, retail_db: Path, mia: Any) -> None:
    code, out = cli("run", RETURN_OVER_LIMIT, "--thread", "t-approve", "--json")
    assert code == 3, out
    assert out["status"] == "paused" and out["thread_id"] == "t-approve"
    assert "$500" in out["pending"]["question"]
    assert out["agents"] == ["finance"]  # the owner went first and is waiting mid-step
    code, text = cli("show", "t-approve")
    assert code == 0 and "finance is mid-step" in text and "quote_return_refund" in text

    code, out = cli("resume", "t-approve", "--approve", "--note", "photos checked", "--as", "alice", "--json")
    assert code == 0, out
    assert out["status"] == "completed" and out["outcome"] == "resolved"
    assert set(out["agents"]) == {"customer_service", "logistics", "inventory", "finance", "analytics"}
    assert out["summary"]
    with RetailStore.open(retail_db) as store:
        order = store.get_order(mia.orders["delivered_over_500"])
    assert order is not None and order["status"] == "returned"

    code, thread = cli("show", "t-approve", "--json")
    assert code == 0
    kinds = {event["kind"] for event in thread["trail"]}
    assert kinds == {"decision", "handoff", "escalation", "report"}
    tools = [call["tool"] for e in thread["trail"] if e["kind"] == "handoff" for call in e["tool_calls"]]
    assert "return_delivered_order_items" in tools and "issue_return_refund" in tools
    code, text = cli("show", "t-approve")
    assert code == 0 and "approved by alice" in text and "return_delivered_order_items" in text


def test_rejection_ends_cleanly_and_changes_nothing(cli: Any, retail_db: Path, mia: Any) -> None:
    with RetailStore.open(retail_db) as store:
        before = store.get_order(mia.orders["delivered_over_500"])
    assert cli("run", RETURN_OVER_LIMIT, "--thread", "t-reject", "--json")[0] == 3
    code, out = cli(
        "resume", "t-reject", "--reject", "--note", "outside the return window", "--as", "finance-lead", "--json"
    )
    assert code == 0, out
    assert out["status"] == "completed" and out["outcome"] == "rejected"
    with RetailStore.open(retail_db) as store:
        assert store.get_order(mia.orders["delivered_over_500"]) == before


def test_resume_of_a_thread_that_is_not_paused_fails(cli: Any) -> None:
    code, out = cli("resume", "no-such-thread", "--approve", "--json")
    assert code == 1 and out["status"] == "failed" and "no thread" in out["error"]


@pytest.mark.parametrize("task", ["", "   "])
def test_malformed_task_is_a_clear_failure(cli: Any, task: str) -> None:
    code, out = cli("run", task, "--json")
    assert code == 1 and out["status"] == "failed" and "empty" in out["error"]


def test_unknown_model_provider_is_a_clear_failure(cli: Any) -> None:
    code, out = cli("run", "hello", "--model", "nonsense", "--json")
    assert code == 1 and "provider:model" in out["error"]


def test_an_invalid_setting_names_its_variable(cli: Any) -> None:
    code, out = cli("run", "hello", "--json", extra_env={"SWITCHBOARD_MCP_KEEPALIVE": "-1"})
    assert code == 1 and out["status"] == "failed"
    assert "SWITCHBOARD_MCP_KEEPALIVE='-1'" in out["error"] and "greater than or equal to 0" in out["error"]
    assert "checkpointed" not in out["error"]  # nothing ran, so no thread state to speak of
    code, out = cli("run", "hello", "--json", extra_env={"SWITCHBOARD_MAX_HOPS": "-3"})  # paused every run before
    assert code == 1 and "SWITCHBOARD_MAX_HOPS='-3'" in out["error"]


def test_a_damaged_database_is_named_not_called_checkpointed(cli: Any, tmp_path: Path) -> None:
    """'file is not a database; the thread's state is checkpointed up to its last step' named no file, and was false."""
    (tmp_path / "cp.sqlite").write_bytes(b"not a database, just garbage" * 100)
    code, out = cli("threads", "--json")
    assert code == 1 and "checkpointed" not in out["error"]
    assert "file is not a database" in out["error"] and "is damaged" in out["error"]
    assert str(tmp_path / "cp.sqlite") in out["error"]


def test_agents_lists_the_cards(cli: Any) -> None:
    code, out = cli("agents", "--json")
    assert code == 0
    assert {"customer_service", "logistics", "inventory", "finance", "analytics"} <= {a["name"] for a in out}


def test_retail_load_replaces_the_database_and_rejects_bad_dirs(cli: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli("retail", "generate", str(data))[0] == 0
    db = tmp_path / "loaded.sqlite"
    db.write_text("not a database")
    code, text = cli("retail", "load", str(data), "--db", str(db))
    assert code == 0, text
    with RetailStore.open(db) as store:
        assert store.counts()["users"] > 100
    code, text = cli("retail", "load", str(tmp_path / "missing"), "--db", str(db))
    assert code == 1 and "error" in text.lower()


def test_saturated_finance_hands_the_return_to_its_backup(cli: Any, retail_db: Path, tmp_path: Path) -> None:
    from switchboard.agents.health import HealthRegistry

    busy = HealthRegistry(tmp_path / "health.sqlite")  # another process holds every finance slot
    for _ in range(4):
        busy.acquire("finance")
    task = "I'm Mia Chen, mia.chen@example.com. Please return the yoga mat from order #W0372018, it's too thin."
    code, out = cli("run", task, "--thread", "t-busy", "--json")
    assert code == 0, out
    assert "finance_backup" in out["agents"] and "finance" not in out["agents"]
    code, text = cli("show", "t-busy")
    assert "finance not offered: at capacity (4/4 steps in flight)" in text


def test_only_a_finance_managers_signed_approval_runs_the_refund(cli: Any, retail_db: Path, mia: Any) -> None:
    """Hole 1 of issue 7 through the CLI: --as is a principal whose key signs, and whose role the rule allows."""
    assert cli("run", RETURN_OVER_LIMIT, "--thread", "t-auth", "--json")[0] == 3
    code, out = cli("resume", "t-auth", "--approve", "--as", "bob", "--json")
    assert code == 1 and "needs role finance_manager" in out["error"], out
    code, out = cli("resume", "t-auth", "--approve", "--as", "bob", "--role", "finance_manager", "--json")
    assert code == 1 and "finance_manager" in out["error"], out
    code, out = cli("resume", "t-auth", "--approve", "--as", "random-intern", "--json")
    assert code == 1 and "not a principal" in out["error"], out
    code, out = cli("resume", "t-auth", "--approve", "--json")  # anonymous
    assert code == 1 and "unsigned" in out["error"] and "still paused" in out["error"], out
    code, thread = cli("show", "t-auth", "--json")
    assert thread["status"] == "paused"
    with RetailStore.open(retail_db) as store:
        order = store.get_order(mia.orders["delivered_over_500"])
    assert order is not None and order["status"] == "delivered"
    code, out = cli("resume", "t-auth", "--approve", "--as", "alice", "--role", "finance_manager", "--json")
    assert code == 0 and out["status"] == "completed", out
    code, text = cli("audit", "verify", "--thread", "t-auth")
    assert code == 0, text
