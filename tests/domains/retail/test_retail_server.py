"""The MCP server: fail-fast start, tool surface, and a real stdio session."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.tools import load_mcp_tools
from mcp.types import CallToolResult, TextContent

from switchboard.domains.retail import TOOL_NAMES, RetailOperations, RetailStore, build_server
from switchboard.errors import DataError, ToolError
from tests.domains.retail.helpers import MIA, order


def test_build_server_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        build_server(tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()


def test_command_line_fails_fast_on_a_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.domains.retail.server", "--db", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "load_directory" in done.stderr
    assert not missing.exists()


async def test_every_operation_is_a_described_tool(db_path: Path) -> None:
    operations = {
        name for name, member in inspect.getmembers(RetailOperations, inspect.isfunction) if not name.startswith("_")
    }
    assert set(TOOL_NAMES) == operations
    tools = await build_server(db_path).list_tools()
    assert [tool.name for tool in tools] == list(TOOL_NAMES)
    for tool in tools:
        assert tool.description and "\n" not in tool.description
        signature = inspect.signature(getattr(RetailOperations, tool.name))
        assert list(tool.inputSchema["properties"]) == list(signature.parameters)[1:]
        for name, schema in tool.inputSchema["properties"].items():
            assert schema.get("description"), f"{tool.name}.{name} has no description"


async def test_refusal_text_is_the_tool_error_message(db_path: Path) -> None:
    order_id = MIA.orders["processed"]
    with RetailStore.open(db_path) as store, pytest.raises(ToolError) as caught:
        RetailOperations(store).cancel_pending_order(order_id, "no longer needed")
    server = build_server(db_path)
    result = await server.call_tool("cancel_pending_order", {"order_id": order_id, "reason": "no longer needed"})
    assert isinstance(result, CallToolResult) and result.isError
    assert result.content == [TextContent(type="text", text=str(caught.value))]


async def test_results_are_json_and_plain_strings_stay_plain(db_path: Path) -> None:
    server = build_server(db_path)
    found = await server.call_tool("find_user_id_by_email", {"email": MIA.email})
    assert found == [TextContent(type="text", text=MIA.user_id)]
    total = await server.call_tool("calculate", {"expression": "1 + 2"})
    assert total == [TextContent(type="text", text="3.0")]
    details = await server.call_tool("get_user_details", {"user_id": MIA.user_id})
    assert isinstance(details, list) and isinstance(details[0], TextContent)
    assert json.loads(details[0].text)["email"] == MIA.email


def _text(message: ToolMessage) -> str:
    content: Any = message.content
    return content if isinstance(content, str) else "".join(part["text"] for part in content)


async def test_stdio_session_through_langchain_adapters(db_path: Path) -> None:
    client = MultiServerMCPClient(
        {
            "retail": {
                "command": sys.executable,
                "args": ["-m", "switchboard.domains.retail.server", "--db", str(db_path)],
                "transport": "stdio",
            }
        }
    )
    pending, processed = MIA.orders["pending"], MIA.orders["processed"]

    async def call(tools: dict[str, Any], name: str, args: dict[str, Any]) -> ToolMessage:
        message = await tools[name].ainvoke({"name": name, "args": args, "id": f"call-{name}", "type": "tool_call"})
        assert isinstance(message, ToolMessage)
        return message

    async with client.session("retail") as session:
        tools = {tool.name: tool for tool in await load_mcp_tools(session)}
        assert set(tools) == set(TOOL_NAMES)

        found = await call(tools, "find_user_id_by_email", {"email": "MIA.CHEN@example.com"})
        assert found.status == "success" and _text(found) == MIA.user_id

        cancelled = await call(tools, "cancel_pending_order", {"order_id": pending, "reason": "ordered by mistake"})
        assert cancelled.status == "success"
        assert json.loads(_text(cancelled))["status"] == "cancelled"

        refused = await call(tools, "cancel_pending_order", {"order_id": processed, "reason": "no longer needed"})
        assert refused.status == "error"
        assert "is 'processed', but only a 'pending' order can be cancelled" in _text(refused)

    with RetailStore.open(db_path) as store:
        assert order(store, pending)["cancel_reason"] == "ordered by mistake"
        assert order(store, processed)["status"] == "processed"
