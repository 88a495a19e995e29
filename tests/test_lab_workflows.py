"""The routing lab runs the router a run uses: workflow cards offered, live health read.

``switchboard route`` and ``eval-routing`` promise the exact decision a run
would make first. A run offers the team's workflows as cards and skips an
agent whose circuit is open, so the lab must too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard.agents.card import TEAMS_DIR
from switchboard.agents.health import HealthRegistry
from switchboard.lab import evaluate_routing, make_router, route_once
from switchboard.runs import health_path
from switchboard.settings import Settings

POLICIES = (TEAMS_DIR / "../../policies").resolve()
NODE = "workflow_retail_return"
PINNED = f"""  rules:
    - id: wf
      pattern: 'WFTEST'
      agent: {NODE}
      instruction: "{{task}}"
"""
RETURN = (
    "Hi, this is Mia Chen (mia.chen@example.com). My headphones arrived damaged; I want to return them for a refund."
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shipped retail team with its return workflow, and a routing rule that pins tasks to it."""
    policy = (POLICIES / "retail.yaml").read_text()
    policy = policy.replace("  - principals.yaml\n", f"  - {POLICIES / 'principals.yaml'}\n", 1)
    policy = policy.replace("  rules:\n", PINNED, 1)
    (tmp_path / "policy.yaml").write_text(policy)
    team = (TEAMS_DIR / "retail.yaml").read_text()
    team = (
        team.replace("policy: ../../policies/retail.yaml", "policy: policy.yaml", 1) + "\nworkflows: [retail_return]\n"
    )
    (tmp_path / "team.yaml").write_text(team)
    return Settings(team=str(tmp_path / "team.yaml"))


async def test_a_rule_naming_a_workflow_routes_to_it(settings: Settings) -> None:
    decision = await route_once(f"WFTEST {RETURN}", make_router(settings))
    assert (decision["action"], decision["agent"], decision["rule"]) == ("route", NODE, "wf")


async def test_eval_routing_accepts_workflow_labels(settings: Settings, tmp_path: Path) -> None:
    file = tmp_path / "tasks.jsonl"
    file.write_text(json.dumps({"task": f"WFTEST {RETURN}", "agent": NODE}) + "\n")
    report = await evaluate_routing(file, make_router(settings))
    assert report.accuracy == 1.0 and report.confusion == {NODE: {NODE: 1}}


async def test_an_open_circuit_is_not_offered() -> None:
    settings = Settings()  # the shipped team, on the test's own data directory
    health = HealthRegistry(health_path(settings))  # the data directory's registry, which runs share
    for _ in range(health.failure_threshold):
        health.record("finance", ok=False, latency=0.1)
    health.close()
    decision = await route_once(RETURN, make_router(settings))
    assert decision["agent"] == "finance_backup"  # what a run would be given
    assert "circuit open" in decision["unavailable"]["finance"]


async def test_without_a_health_file_every_agent_is_idle_and_none_is_made() -> None:
    settings = Settings()
    decision = await route_once(RETURN, make_router(settings))
    assert decision["agent"] == "finance" and decision["unavailable"] == {}
    assert not health_path(settings).exists()  # the lab runs nothing, so it leaves no data behind


def test_route_prints_whom_it_skipped_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    from switchboard.cli import _print_route

    decision = {"action": "route", "agent": "finance_backup", "skill": "process_return", "confidence": 0.9,
                "source": "model", "reason": "returns", "instruction": "", "shortlist": ["finance_backup"],
                "unavailable": {"finance": "circuit open"}}  # fmt: skip
    _print_route(decision, False, Console(width=200))
    assert "skipped: finance (circuit open)" in capsys.readouterr().out
