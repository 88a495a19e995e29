"""The toolbox keeps one MCP session (one server process) per server for a whole run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from switchboard.agents.card import load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.errors import ConfigError

LAUNCHER = (
    "import runpy, sys; open(sys.argv[1], 'a').write('start\\n'); "
    "sys.argv = ['server', '--db', sys.argv[2]]; "
    "runpy.run_module('switchboard.domains.retail.server', run_name='__main__')"
)


async def test_many_tool_calls_share_one_server_process(retail_db: Path, tmp_path: Path, mia: object) -> None:
    starts = tmp_path / "starts.log"
    conn = {"transport": "stdio", "command": sys.executable, "args": ["-c", LAUNCHER, str(starts), str(retail_db)]}
    async with Toolbox({"retail": conn}) as box:
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
