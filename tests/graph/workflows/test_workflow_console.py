"""Workflow runs read like any other in the console: who made each call, and which workflows a team offers.

The live view credits a tool call inside a workflow to the agent of the step
that made it, not to the workflow's node; ``switchboard agents`` lists the
workflow cards the router is offered beside the agents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from switchboard.agents.card import TEAMS_DIR
from switchboard.cli import main
from switchboard.console import LiveView
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

NODE = "workflow_delay_notice"
NOTICE = """
name: delay_notice
team: retail
description: Tell the customer their parcel is delayed.
steps:
  - id: identify
    skill: identify_customer
    instruction: Find the customer.
  - id: tell
    agent: customer_service
    skill: notify_customer
    needs: [identify]
    instruction: Tell the customer their parcel is delayed.
"""


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped retail team with the notice workflow, as the configured team."""
    policy = (TEAMS_DIR / "../../policies/retail.yaml").resolve()
    shipped = (TEAMS_DIR / "retail.yaml").read_text()
    text = shipped.replace("policy: ../../policies/retail.yaml", f"policy: {policy}", 1)
    (tmp_path / "notice.yaml").write_text(NOTICE)
    (tmp_path / "team.yaml").write_text(text + "\nworkflows: [notice.yaml]\n")
    monkeypatch.setenv("SWITCHBOARD_TEAM", str(tmp_path / "team.yaml"))
    return tmp_path / "team.yaml"


async def test_calls_inside_a_workflow_are_credited_to_the_agent_that_made_them(
    team: Path, retail_db: Path, tmp_path: Path, mia: Any
) -> None:
    model = ScriptedChatModel(
        steps=[route(NODE, "notify"), finish()],
        agents={
            "customer_service": [
                call("find_user_id_by_email", email=mia.email),
                handoff("Found the customer.", user_id=mia.user_id),
                call("notify_customer", user_id=mia.user_id, message="Your parcel is late. Sorry!"),
                handoff("Told the customer."),
            ]
        },
    )
    out = Console(record=True, width=200, highlight=False)
    settings = Settings(checkpoint_db=str(tmp_path / "cp.sqlite"))
    result = await start_run(
        f"My parcel for {mia.email} is late", settings=settings, model=model, on_event=LiveView(out)
    )
    model.assert_complete()
    assert result.status == "completed"
    text = out.export_text()
    assert "customer_service ⚙ find_user_id_by_email" in text
    assert "customer_service ⚙ notify_customer" in text
    assert f"{NODE} ⚙" not in text


def test_a_step_without_a_known_agent_is_named_and_other_subgraphs_stay_their_agents() -> None:
    out = Console(record=True, width=200, highlight=False)
    view = LiveView(out, workflows={"workflow_flow": {"known": "finance"}})
    record = {"tool": "get_order_details", "args": {}, "outcome": "ok", "result": "{}", "policy": None}
    view(("workflow_flow:1", "known:2"), {"act": {"calls": [record]}})
    view(("workflow_flow:1", "other:3"), {"act": {"calls": [record]}})
    view(("brought:4", "inner:5"), {"act": {"calls": [record]}})  # a brought graph's own subgraph
    lines = [line.split(" ⚙")[0].strip() for line in out.export_text().splitlines() if "⚙" in line]
    assert lines == ["finance", "workflow_flow/other", "brought"]


def test_agents_lists_the_workflow_cards(team: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agents"]) == 0
    text = capsys.readouterr().out
    assert f"{NODE} (workflow):" in text and "identify → customer_service" in text and "tell → customer_service" in text

    assert main(["agents", "--json"]) == 0
    cards = {card["name"]: card for card in json.loads(capsys.readouterr().out)}
    assert "finance" in cards and "workflow" not in cards["finance"]
    assert cards[NODE]["workflow"] == {
        "name": "delay_notice",
        "steps": {"identify": "customer_service", "tell": "customer_service"},
    }
