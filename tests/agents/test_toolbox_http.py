"""MCP over streamable HTTP: a real retail server on 127.0.0.1, started and killed by the test.

An outside review found that a server which died during a run made closing
the toolbox raise the transport's connection error (an ``ExceptionGroup``
out of ``async with Toolbox...``, after the run had finished), and that a
server which fails to start was reported as a bare ``Connection closed``,
naming no server.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.agents.toolbox import Toolbox
from switchboard.errors import ConfigError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_server(retail_db: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "switchboard.domains.retail.server", "--db", str(retail_db),
         "--transport", "streamable-http", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield process, f"http://127.0.0.1:{port}/mcp"
    finally:
        process.kill()
        process.wait()


async def test_a_toolbox_over_http_calls_tools_and_closes_quietly_after_its_server_died(
    http_server: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, url = http_server
    box = Toolbox({"retail": {"transport": "streamable_http", "url": url}})
    await asyncio.wait_for(box.open(), 30)
    tool = box.get("find_user_id_by_email")
    assert tool is not None
    assert "mia_chen" in str(await tool.ainvoke({"email": "mia.chen@example.com"}))
    process.kill()
    process.wait()
    with pytest.raises(Exception):  # noqa: B017 - whatever the transport says of a dead server mid-run
        await asyncio.wait_for(tool.ainvoke({"email": "mia.chen@example.com"}), 5)
    await asyncio.wait_for(box.aclose(), 30)  # the run is over: a dead server is no error of closing's


async def test_a_server_that_does_not_start_is_named() -> None:
    box = Toolbox({"billing": {"transport": "stdio", "command": sys.executable, "args": ["-c", "raise SystemExit(3)"]}})
    with pytest.raises(ConfigError, match=r"MCP server 'billing'.*did not start"):
        await asyncio.wait_for(box.open(), 30)
    await box.aclose()
