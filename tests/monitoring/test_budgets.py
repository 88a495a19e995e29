"""The policy file's budgets feed the budget detector: a run near or over its limit raises an alert.

The graph enforces the policy's run budgets (``budgets: {tokens, cost_usd}``);
the monitor watches the same limits while the run goes on, so an operator is
told a run is close before the graph stops it. Thread and agent limits come
from the monitoring configuration, whose explicit values win.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from switchboard.monitoring import Budget, MonitoringConfig, recording
from switchboard.policies import Budgets
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

REPO = Path(__file__).resolve().parents[2]


def test_policy_budgets_become_run_budgets_under_explicit_overrides() -> None:
    policy = Budgets(tokens=1000, cost_usd=2.0, hops=5)
    assert Budget.from_policy(policy) == Budget(run_tokens=1000, run_cost=2.0)
    overrides = Budget(run_tokens=50, thread_cost=1.0, warn_at=0.5)
    merged = Budget.from_policy(policy, overrides)
    assert (merged.run_tokens, merged.run_cost, merged.thread_cost, merged.warn_at) == (50, 2.0, 1.0, 0.5)
    assert Budget.from_policy(Budgets()) == Budget()  # a policy without budgets watches nothing


@pytest.fixture
def tight_team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The retail team with a policy whose run token budget is 1,000."""
    policies = tmp_path / "policies"
    policies.mkdir()
    shutil.copy(REPO / "policies" / "principals.yaml", policies / "principals.yaml")
    text = (REPO / "policies" / "retail.yaml").read_text("utf-8")
    text, count = re.subn(r"(?m)^(\s+tokens:)\s*\d+", r"\1 1000", text)
    assert count == 1, "the shipped policy names a token budget"
    (policies / "retail.yaml").write_text(text, "utf-8")
    team = (REPO / "agents" / "teams" / "retail.yaml").read_text("utf-8")
    team = re.sub(r"(?m)^policy:.*$", f"policy: {policies / 'retail.yaml'}", team)
    (tmp_path / "team.yaml").write_text(team, "utf-8")
    monkeypatch.setenv("SWITCHBOARD_TEAM", str(tmp_path / "team.yaml"))
    monkeypatch.setenv("SWITCHBOARD_TELEMETRY_DB", str(tmp_path / "telemetry.sqlite"))
    return tmp_path / "team.yaml"


def test_the_team_policy_budget_is_watched_by_default(tight_team: Path) -> None:
    config = MonitoringConfig.for_runs()
    assert (config.budgets.run_tokens, config.budgets.run_cost) == (1000, 5.0)


async def test_a_run_near_then_over_its_policy_budget_raises_alerts(tight_team: Path, settings: Settings) -> None:
    model = ScriptedChatModel(
        steps=[
            route("customer_service", "look her up", skill="identify_customer"),
            call("find_user_id_by_email", email="mia.chen@example.com"),
            handoff("found"),
            finish("found"),
        ]
    )
    with recording() as monitor:  # no configuration given: the monitoring defaults and the team's policy
        assert monitor is not None
        await start_run("who is mia?", thread_id="budget-1", settings=settings, model=model)
        budget_alerts = [a for a in monitor.alerts if a.detector == "budget"]
    assert budget_alerts, "the run spent more than its 1,000-token policy budget"
    spent = budget_alerts[-1]
    assert spent.details["limit"] == "run_tokens" and spent.details["cap"] == 1000
    assert spent.severity == "critical" and spent.message.startswith("budget run_tokens spent")


async def test_a_run_within_its_policy_budget_raises_none(settings: Settings, tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("customer_service", "look her up", skill="identify_customer"), handoff("found"), finish("found")]
    )
    config = MonitoringConfig.for_runs().model_copy(update={"telemetry_db": tmp_path / "t.sqlite", "sinks": ()})
    assert config.budgets.run_tokens == 400_000  # the shipped retail policy
    with recording(config=config) as monitor:
        assert monitor is not None
        await start_run("who is mia?", thread_id="budget-2", settings=settings, model=model)
        assert [a for a in monitor.alerts if a.detector == "budget"] == []


def test_the_policy_is_parsed_once_per_version_of_its_file(tight_team: Path) -> None:
    # Every run asks for its monitoring configuration; parsing the policy each
    # time was a third of the CPU behind concurrent runs (issue 8).
    from switchboard.monitoring import config as monitoring_config

    policy = Path(re.search(r"(?m)^policy: (.*)$", tight_team.read_text("utf-8")).group(1))  # type: ignore[union-attr]
    MonitoringConfig.for_runs()
    before = monitoring_config._parsed_budgets.cache_info()
    assert MonitoringConfig.for_runs().budgets.run_tokens == 1000
    after = monitoring_config._parsed_budgets.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    policy.write_text(policy.read_text("utf-8").replace("tokens: 1000", "tokens: 2000"), "utf-8")
    stat = policy.stat()
    os.utime(policy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert MonitoringConfig.for_runs().budgets.run_tokens == 2000  # an edited policy is read again
