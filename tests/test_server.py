"""The graph served by ``langgraph dev``, driven over HTTP with ``langgraph-sdk``.

The real ``langgraph dev`` (in-memory runtime) runs in a subprocess, from a
temp folder so that its ``.langgraph_api/`` lands there, and WITHOUT
``--allow-blocking``: the server then raises on any blocking call made on its
event loop, so a run that completes shows the graph does no disk or SQLite
work there. The retail MCP server is started through a launcher that logs each
start and stop, which shows it is started once for all requests and stopped
with the server.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml
from langgraph_sdk import get_client
from langgraph_sdk.schema import Command

from switchboard.agents.card import TEAMS_DIR
from switchboard.domains.retail import RetailStore
from switchboard.graph.app import close_graphs, make_graph
from switchboard.policies.loader import POLICIES_DIR
from switchboard.testing import signed_answer

pytestmark = pytest.mark.usefixtures("principals")  # alice, bob, sam and their keys (tests/conftest.py)

REPO = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 40.0
CALL_TIMEOUT = 30.0
RETURN_OVER_LIMIT = (
    "Hi, this is Mia Chen (mia.chen@example.com). The espresso machine and the headphones from my "
    "last delivered order arrived damaged. I want to return both and get my money back."
)
LAUNCHER = """
import os, runpy, sys

log, db = sys.argv[1], sys.argv[2]
with open(log, "a") as out:
    out.write(f"start {os.getpid()}\\n")
sys.argv = ["server", "--db", db]
try:
    runpy.run_module("switchboard.domains.retail.server", run_name="__main__")
finally:
    with open(log, "a") as out:
        out.write(f"stop {os.getpid()}\\n")
"""
T = TypeVar("T")


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    mcp_log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _team_with_launcher(tmp_path: Path, mcp_log: Path) -> Path:
    """The shipped retail team, its MCP server started through the logging launcher."""
    team = yaml.safe_load((TEAMS_DIR / "retail.yaml").read_text())
    shutil.copy(POLICIES_DIR / "retail.yaml", tmp_path / "policy.yaml")
    shutil.copy(POLICIES_DIR / "principals.yaml", tmp_path / "principals.yaml")  # the policy names it, beside it
    team["policy"] = "policy.yaml"  # relative to the team file
    team["servers"]["retail"]["args"] = ["-c", LAUNCHER, str(mcp_log), "${SWITCHBOARD_RETAIL_DB}"]
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(team, sort_keys=False))
    return path


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"langgraph dev exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/ok", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"langgraph dev did not answer within {STARTUP_TIMEOUT:g}s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the server to shut down as Ctrl-C would; kill it if it does not."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.fixture
def server(tmp_path: Path, retail_db: Path) -> Iterator[Server]:
    workdir = tmp_path / "served"
    workdir.mkdir()
    mcp_log = tmp_path / "mcp-starts.log"
    port = _free_port()
    env = {
        **os.environ,
        "SWITCHBOARD_TEAM": str(_team_with_launcher(tmp_path, mcp_log)),
        "SWITCHBOARD_RETAIL_DB": str(retail_db),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",  # no network: no usage report,
        "LANGGRAPH_NO_VERSION_CHECK": "true",  # and no look-up on PyPI
    }
    # --no-reload: one process, so that stopping it stops everything it started.
    command = [sys.executable, "-m", "langgraph_cli", "dev", "--config", str(REPO / "langgraph.json")]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload"]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: teardown reaches the MCP server too
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process, log)
        yield Server(url, process, log, mcp_log)
    finally:
        _stop(process)


async def _bounded(call: Awaitable[T]) -> T:
    return await asyncio.wait_for(call, CALL_TIMEOUT)


def _order_status(db: Path, order_id: str) -> str:
    with RetailStore.open(db) as store:
        order = store.get_order(order_id)
    assert order is not None
    return str(order["status"])


def _mcp_events(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


async def test_langgraph_dev_serves_runs_approvals_resumes_and_schemas(
    server: Server, retail_db: Path, tmp_path: Path, mia: Any
) -> None:
    repo_api_dir = REPO / ".langgraph_api"
    repo_api_before = repo_api_dir.stat().st_mtime_ns if repo_api_dir.exists() else None
    client = get_client(url=server.url)
    (assistant,) = await _bounded(client.assistants.search(graph_id="switchboard"))
    assistant_id = assistant["assistant_id"]

    # (a) a run that completes without a human
    pending = mia.orders["pending"]
    thread = await _bounded(client.threads.create())
    task = f"Please cancel order {pending}, I ordered it by mistake. {mia.email}"
    values: Any = await _bounded(client.runs.wait(thread["thread_id"], assistant_id, input={"task": task}))
    assert values["outcome"] == "resolved", server.log.read_text()[-4000:]
    assert _order_status(retail_db, pending) == "cancelled"

    # (d) the schemas, between runs: the same graph answers
    schemas = await _bounded(client.assistants.get_schemas(assistant_id))
    assert schemas["input_schema"] is not None, "the input schema could not be generated"
    assert "task" in schemas["input_schema"]["properties"]
    assert schemas["state_schema"]["properties"]["trail"].get("type") == "array"

    # (b) a run that pauses on the approval of a refund over $500
    thread = await _bounded(client.threads.create())
    await _bounded(client.runs.wait(thread["thread_id"], assistant_id, input={"task": RETURN_OVER_LIMIT}))
    state = await _bounded(client.threads.get_state(thread["thread_id"]))
    (question,) = state["interrupts"]
    assert "$500" in question["value"]["question"]
    assert state["next"] == ["finance"]
    delivered = mia.orders["delivered_over_500"]
    assert _order_status(retail_db, delivered) == "delivered"  # nothing happened before the answer

    # a new turn on the paused thread, and a run from an earlier checkpoint, are refused on the server as in
    # Python (outside review, round 5: the server's own config in the context passed for a parent graph's node)
    history = await _bounded(client.threads.get_history(thread["thread_id"], limit=100))
    turn = {"task": "Where is my order? mia.chen@example.com"}
    refused = await _bounded(client.runs.wait(thread["thread_id"], assistant_id, input=turn, raise_error=False))
    assert "is paused on a question" in str(refused), refused  # the client reads why, not "an internal error"
    earlier = history[-2]["checkpoint_id"]
    await _bounded(
        client.runs.wait(thread["thread_id"], assistant_id, input=None, checkpoint_id=earlier, raise_error=False)
    )
    assert len(await _bounded(client.threads.get_history(thread["thread_id"], limit=100))) == len(history)
    log = server.log.read_text()
    assert "is paused on a question" in log and "would branch the thread" in log, log[-4000:]
    state = await _bounded(client.threads.get_state(thread["thread_id"]))
    assert [i["id"] for i in state["interrupts"]] == [question["id"]]  # still waiting for its answer

    # (c) its resume with a Command: an unsigned answer is refused in the graph, alice's signed one runs it
    refused = Command(resume={question["id"]: {"approved": True, "approver": "store-manager"}})
    await _bounded(client.runs.wait(thread["thread_id"], assistant_id, command=refused))
    state = await _bounded(client.threads.get_state(thread["thread_id"]))
    (again,) = state["interrupts"]
    assert "unsigned" in again["value"]["error"] and _order_status(retail_db, delivered) == "delivered"
    answer = signed_answer(again["value"], thread["thread_id"], "alice", note="damage confirmed from photos")
    command = Command(resume={again["id"]: answer})
    values = await _bounded(client.runs.wait(thread["thread_id"], assistant_id, command=command))
    assert values["outcome"] == "resolved"
    assert _order_status(retail_db, delivered) == "returned"

    # one MCP server for every request above, stopped with the server
    starts = [e for e in _mcp_events(server.mcp_log) if e == "start"]
    assert len(starts) == 1, f"the MCP server was started {len(starts)} times"
    _stop(server.process)
    assert server.process.returncode is not None
    deadline = time.monotonic() + 10
    while "stop" not in _mcp_events(server.mcp_log) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "stop" in _mcp_events(server.mcp_log), "the MCP server outlived langgraph dev"

    log = server.log.read_text()
    assert "BlockingError" not in log, re.findall(r".*BlockingError.*", log)[:3]
    assert (tmp_path / "served" / ".langgraph_api").is_dir()  # the server's files went to its working folder
    repo_api_after = repo_api_dir.stat().st_mtime_ns if repo_api_dir.exists() else None
    assert repo_api_after == repo_api_before, "langgraph dev wrote into the repository"


async def test_the_entry_point_builds_one_graph_and_one_mcp_server_for_every_request(
    tmp_path: Path, retail_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mcp_log = tmp_path / "mcp-starts.log"
    monkeypatch.setenv("SWITCHBOARD_TEAM", str(_team_with_launcher(tmp_path, mcp_log)))
    try:
        first, second, third = await _bounded(asyncio.gather(make_graph(), make_graph(), make_graph()))
        assert first is second is third
        assert await _bounded(make_graph()) is first
        assert _mcp_events(mcp_log).count("start") == 1
    finally:
        await close_graphs()
    assert _mcp_events(mcp_log).count("stop") == 1  # closed cleanly, not killed
    try:
        assert await _bounded(make_graph()) is not first  # closed graphs are not handed out again
    finally:
        await close_graphs()


async def test_langgraph_dev_pauses_on_a_customer_question_and_a_reply_command_resumes_it(
    server: Server, retail_db: Path, mia: Any
) -> None:
    """The server equivalent of `switchboard reply`: Command(resume={id: {"reply": TEXT}})."""
    client = get_client(url=server.url)
    (assistant,) = await _bounded(client.assistants.search(graph_id="switchboard"))
    thread = await _bounded(client.threads.create())
    task = (
        "Hi, I'm Mia Chen, mia.chen@example.com. I want to return my delivered order, it arrived damaged. "
        "Refund the payment method I used."
    )
    run = client.runs.wait(thread["thread_id"], assistant["assistant_id"], input={"task": task})
    await _bounded(run)
    state = await _bounded(client.threads.get_state(thread["thread_id"]))
    (question,) = state["interrupts"]
    assert question["value"]["kind"] == "question", server.log.read_text()[-4000:]
    assert question["value"]["question"].startswith("Which order do you mean?")
    assert question["value"]["resume"]["json_schema"]["required"] == ["reply"]
    under = mia.orders["delivered_under_500"]

    # an approval is not an answer to a question: refused in the graph, the same question asked again
    approval = Command(resume={question["id"]: {"approved": True, "approver": "alice"}})
    await _bounded(client.runs.wait(thread["thread_id"], assistant["assistant_id"], command=approval))
    state = await _bounded(client.threads.get_state(thread["thread_id"]))
    (again,) = state["interrupts"]
    assert "not for an approval" in again["value"]["error"] and _order_status(retail_db, under) == "delivered"

    reply = Command(resume={again["id"]: {"reply": f"The one with the water bottle, {under}."}})
    values = await _bounded(client.runs.wait(thread["thread_id"], assistant["assistant_id"], command=reply))
    assert values["outcome"] == "resolved", server.log.read_text()[-4000:]
    assert _order_status(retail_db, under) == "returned"
    assert "BlockingError" not in server.log.read_text()
