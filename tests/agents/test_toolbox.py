"""The toolbox keeps one MCP session (one server process) per server for a whole run."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.card import load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.errors import ConfigError

LAUNCHER = """
import runpy, sys
log, db = sys.argv[1], sys.argv[2]
open(log, "a").write("start\\n")
sys.argv = ["server", "--db", db]
try:
    runpy.run_module("switchboard.domains.retail.server", run_name="__main__")
finally:
    open(log, "a").write("stop\\n")  # reached when the client closes the session, not when killed
"""


def _launched(starts: Path, retail_db: Path) -> dict[str, Any]:
    return {"transport": "stdio", "command": sys.executable, "args": ["-c", LAUNCHER, str(starts), str(retail_db)]}


async def test_many_tool_calls_share_one_server_process(retail_db: Path, tmp_path: Path, mia: object) -> None:
    starts = tmp_path / "starts.log"
    async with Toolbox({"retail": _launched(starts, retail_db)}) as box:
        find, details = box.get("find_user_id_by_email"), box.get("get_user_details")
        assert find is not None and details is not None
        for _ in range(5):
            user_id = await find.ainvoke({"email": "mia.chen@example.com"})
            text = user_id if isinstance(user_id, str) else user_id[0]["text"]
            user = await details.ainvoke({"user_id": text})
            payload = user if isinstance(user, str) else user[0]["text"]
            assert json.loads(payload)["email"] == "mia.chen@example.com"
    assert starts.read_text().count("start") == 1


async def test_the_cli_serves_the_retail_server_over_stdio(retail_db: Path) -> None:
    conn = {
        "transport": "stdio",
        "command": sys.executable,
        "args": ["-m", "switchboard.cli", "mcp", "retail", "--db", str(retail_db)],
    }
    async with Toolbox({"retail": conn}) as box:
        team = load_team("retail")
        box.check(team)  # every card's tools are served
        assert "quote_return_refund" in box.names


async def test_a_card_naming_a_missing_tool_fails_when_the_graph_is_built(retail_db: Path, tmp_path: Path) -> None:
    from switchboard.graph import build_graph
    from switchboard.testing import ScriptedChatModel

    team = load_team("retail")
    broken = team.model_copy(
        update={
            "agents": tuple(
                c.model_copy(update={"tools": (*c.tools, "teleport_parcel")}) if c.name == "logistics" else c
                for c in team.agents
            )
        }
    )
    async with Toolbox.for_team(team, {"SWITCHBOARD_RETAIL_DB": str(retail_db)}) as box:
        with pytest.raises(ConfigError, match="'logistics' lists tools no MCP server provides: teleport_parcel"):
            build_graph(team=broken, model=ScriptedChatModel(steps=[]), toolbox=box)


async def test_sessions_opened_by_one_task_are_closed_by_another(retail_db: Path, tmp_path: Path) -> None:
    """A server opens the toolbox in its first request and closes it at shutdown."""
    log = tmp_path / "starts.log"
    box = Toolbox({"retail": _launched(log, retail_db)})
    await asyncio.create_task(box.open())  # a request
    find = box.get("find_user_id_by_email")
    assert find is not None
    assert "mia_chen" in str(await find.ainvoke({"email": "mia.chen@example.com"}))
    await asyncio.create_task(box.aclose())  # the shutdown
    assert log.read_text().split() == ["start", "stop"]
    assert box.get("find_user_id_by_email") is None


async def test_concurrent_opens_share_one_server_and_a_closed_toolbox_reopens(retail_db: Path, tmp_path: Path) -> None:
    log = tmp_path / "starts.log"
    box = Toolbox({"retail": _launched(log, retail_db)})
    await asyncio.gather(box.open(), box.open(), box.open())
    assert log.read_text().split() == ["start"]
    await box.open()  # already open: nothing starts
    await box.aclose()
    await box.open()
    assert "quote_return_refund" in box.names
    await box.aclose()
    assert log.read_text().split() == ["start", "stop", "start", "stop"]


async def test_a_server_that_fails_to_start_raises_and_the_next_open_tries_again(tmp_path: Path) -> None:
    log = tmp_path / "starts.log"
    broken = f"open({str(log)!r}, 'a').write('start\\n'); raise SystemExit(3)"
    box = Toolbox({"broken": {"transport": "stdio", "command": sys.executable, "args": ["-c", broken]}})
    for attempt in (1, 2):
        with pytest.raises(Exception):  # noqa: B017 - whatever the MCP client raises for a dead server
            await asyncio.wait_for(box.open(), 20)
        assert log.read_text().split() == ["start"] * attempt
        assert not box.names
    await box.aclose()
