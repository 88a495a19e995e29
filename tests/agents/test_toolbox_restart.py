"""A tool server that crashes or hangs mid-run is started again within the run, and the agents are not blamed.

An outside operator test found that an MCP server which died (or hung) under
a call was only checked between runs (``Toolbox.revive``): the step went to
the fallback agent, whose calls failed on the same dead session
(``ClosedResourceError``) or hung on the same blocked server, so the thread
escalated; and every such failure was charged to the agents' health, so a
crashing server opened the breaker of a fallback with nothing wrong with it.

The server here is a real stdio MCP server (FastMCP, written to the test's
directory), started by the toolbox as a team's server would be. ``FAULT``
(comma-separated) picks its misbehaviour: ``crash`` exits the process on the
first ``lookup``, ``crash-always`` on every one, ``hang`` blocks the whole
server on the first ``lookup`` (a synchronous sleep, so it answers no ping
either), ``slow`` makes the first ``slow`` sleep in an async tool (the
server still answers pings), ``slow-always`` every one, and ``crash-write``
exits on the first ``refund``. Every start of the server is logged with its
pid, so a test sees which process answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

import switchboard.agents.toolbox as toolbox_module
from switchboard.agents.card import Team, load_team
from switchboard.agents.guard import tool_server_failed
from switchboard.agents.health import HealthRegistry
from switchboard.agents.toolbox import Toolbox, ToolServerFailure, transport_failed
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, call, escalate, finish, handoff, route

SERVER = """
import asyncio, os, sys, time
from mcp.server.fastmcp import FastMCP
from mcp.types import ToolAnnotations

starts, faults = sys.argv[1], sys.argv[2]
with open(starts, "a") as log:
    log.write(f"{os.getpid()}\\n")
modes = set(os.environ.get("FAULT", "").split(","))
server = FastMCP("faulty", log_level="WARNING")


def first(kind: str) -> bool:
    marker = os.path.join(faults, kind)
    if os.path.exists(marker):
        return False
    open(marker, "w").close()
    return True


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def lookup(order: str) -> str:
    \"\"\"Look an order up.\"\"\"
    if "crash-always" in modes or ("crash" in modes and first("crash")):
        os._exit(1)
    if "hang" in modes and first("hang"):
        time.sleep(3600)
    return f"order {order} from {os.getpid()}"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def slow(order: str) -> str:
    \"\"\"Look an order up, slowly (the server goes on answering meanwhile).\"\"\"
    if "slow-always" in modes or ("slow" in modes and first("slow")):
        await asyncio.sleep(3)
    return f"slow {order} from {os.getpid()}"


@server.tool()
def refund(order: str) -> str:
    \"\"\"Refund an order.\"\"\"
    if "crash-write" in modes and first("crash-write"):
        os._exit(1)
    return f"refunded {order}"


server.run("stdio")
"""

TEAM = """
name: desk
agents:
  - name: finance
    description: Looks orders up and refunds them.
    skills: [{id: orders, description: Orders.}]
    fallbacks: {orders: [finance_backup]}
    timeout_s: 1
    tools: [lookup, refund]
  - name: finance_backup
    description: Second finance desk.
    skills: [{id: orders, description: Orders.}]
    timeout_s: 5
    tools: [lookup]
"""


class Faulty:
    """The faulty server's files: the script, the log of its starts, the markers of faults already injected."""

    def __init__(self, root: Path) -> None:
        self.script = root / "faulty_server.py"
        self.script.write_text(SERVER)
        self.starts = root / "starts.log"
        self.faults = root / "faults"
        self.faults.mkdir()

    def toolbox(self, fault: str) -> Toolbox:
        conn = {
            "transport": "stdio",
            "command": sys.executable,
            "args": [str(self.script), str(self.starts), str(self.faults)],
            "env": {"FAULT": fault},
        }
        return Toolbox({"orders": conn})

    def pids(self) -> list[str]:
        return self.starts.read_text().split()


@pytest.fixture
def faulty(tmp_path: Path) -> Faulty:
    return Faulty(tmp_path)


@pytest.fixture(autouse=True)
def quick_ping(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hung server is told by a ping it does not answer; a second is enough for a server on this machine."""
    monkeypatch.setattr(toolbox_module, "PING_TIMEOUT_S", 1.0)


def _text(result: Any) -> str:
    return result if isinstance(result, str) else "".join(block["text"] for block in result)


# The toolbox on its own.


async def test_a_call_after_the_server_crashed_reaches_a_restarted_server(faulty: Faulty) -> None:
    async with faulty.toolbox("crash") as box:
        lookup = box.get("lookup")
        assert lookup is not None
        with pytest.raises(ToolServerFailure, match="tool server 'orders' failed mid-call") as failed:
            await asyncio.wait_for(lookup.ainvoke({"order": "A1"}), 20)
        assert transport_failed(failed.value)

        again = _text(await asyncio.wait_for(lookup.ainvoke({"order": "A1"}), 20))  # the same tool object
        first, second = faulty.pids()
        assert again == f"order A1 from {second}" and second != first
        assert box.restarts("orders") == 1


async def test_callers_that_find_the_server_dead_share_one_restart(faulty: Faulty) -> None:
    async with faulty.toolbox("crash") as box:
        lookup = box.get("lookup")
        assert lookup is not None
        with pytest.raises(ToolServerFailure):
            await asyncio.wait_for(lookup.ainvoke({"order": "A1"}), 20)
        answers = await asyncio.wait_for(
            asyncio.gather(*(lookup.ainvoke({"order": f"A{i}"}) for i in range(6)), box.ready("lookup")), 30
        )
        assert len(faulty.pids()) == 2  # one restart, whoever waited for it
        assert {_text(a).rsplit(" ", 1)[1] for a in answers[:-1]} == {faulty.pids()[1]}


async def test_calls_in_flight_when_the_server_dies_share_one_restart(faulty: Faulty) -> None:
    async with faulty.toolbox("crash,slow-always") as box:
        slow, lookup = box.get("slow"), box.get("lookup")
        assert slow is not None and lookup is not None
        waiting = [asyncio.ensure_future(slow.ainvoke({"order": f"A{i}"})) for i in range(4)]
        await asyncio.sleep(0.5)  # all four are in the server, asleep
        with pytest.raises(ToolServerFailure):
            await asyncio.wait_for(lookup.ainvoke({"order": "A1"}), 20)
        cut = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 20)
        assert all(isinstance(error, ToolServerFailure) for error in cut), cut
        answer = _text(await asyncio.wait_for(lookup.ainvoke({"order": "A1"}), 20))
        assert len(faulty.pids()) == 2 and answer == f"order A1 from {faulty.pids()[1]}"
        assert box.restarts("orders") == 1


async def test_a_hung_server_is_restarted_before_its_next_call(faulty: Faulty) -> None:
    async with faulty.toolbox("hang") as box:
        lookup = box.get("lookup")
        assert lookup is not None
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(lookup.ainvoke({"order": "A1"}), 0.5)
        assert await asyncio.wait_for(box.no_answer("lookup", 0.5), 30)  # hung: no answer to a ping either
        await asyncio.wait_for(box.ready("lookup"), 30)  # restarted: ready at once
        answer = _text(await asyncio.wait_for(lookup.ainvoke({"order": "A1"}), 5))
        first, second = faulty.pids()
        assert answer == f"order A1 from {second}" and second != first


async def test_a_busy_server_that_answers_pings_is_kept(faulty: Faulty) -> None:
    async with faulty.toolbox("slow") as box:
        slow, lookup = box.get("slow"), box.get("lookup")
        assert slow is not None and lookup is not None
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(slow.ainvoke({"order": "A1"}), 0.3)
        assert not await asyncio.wait_for(box.no_answer("slow", 0.3), 30)  # slow, not hung: it answers a ping
        (only,) = faulty.pids()
        assert _text(await lookup.ainvoke({"order": "A2"})) == f"order A2 from {only}"
        assert box.restarts("orders") == 0


# The graph: the reassigned step, and the agents' health.

CONFIG: Any = {"configurable": {"thread_id": "t"}}


@pytest.fixture
def team(tmp_path: Path) -> Team:
    file = tmp_path / "desk.yaml"
    file.write_text(TEAM)
    return load_team(file)


async def _run(
    team: Team, box: Toolbox, model: ScriptedChatModel, health: HealthRegistry, tmp_path: Path, thread: str = "t"
) -> tuple[list[Any], Any]:
    config: Any = {"configurable": {"thread_id": thread}}
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(
            team=team, model=model, toolbox=box, policy=PolicyFile(name="t"), checkpointer=saver, health=health
        )
        await asyncio.wait_for(graph.ainvoke({"task": "order A1"}, config), 60)
        state = await graph.aget_state(config)
    return query.handoffs(state.values["trail"]), state


def _charged(tmp_path: Path, agent: str) -> int:
    """How many step outcomes the health database holds for the agent, good or bad."""
    with contextlib.closing(sqlite3.connect(tmp_path / "health.sqlite")) as db:
        return int(db.execute("SELECT COUNT(*) FROM outcomes WHERE agent = ?", (agent,)).fetchone()[0])


async def test_the_reassigned_step_succeeds_on_a_restarted_server(team: Team, faulty: Faulty, tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("finance", "look order A1 up", skill="orders"), finish()],
        agents={
            "finance": [call("lookup", order="A1"), handoff("the order server died", status="failed")],
            "finance_backup": [call("lookup", order="A1"), handoff("order A1 looked up")],
        },
    )
    health = HealthRegistry(tmp_path / "health.sqlite")
    async with faulty.toolbox("crash") as box:
        (first, second), _ = await _run(team, box, model, health, tmp_path)
    model.assert_complete()

    (looked_up,) = second["tool_calls"]
    assert second["agent"] == "finance_backup" and second["status"] == "done", looked_up
    assert looked_up["outcome"] == "ok" and looked_up["result"] == f"order A1 from {faulty.pids()[1]}"
    assert not tool_server_failed(looked_up)

    assert _charged(tmp_path, "finance") == 0  # the server's failure, not finance's
    assert health.health("finance").breaker == "closed" and health.health("finance_backup").error_rate == 0.0

    (died,) = first["tool_calls"]  # on record as the server's failure
    assert died["outcome"] == "crashed" and tool_server_failed(died), died
    assert "tool server 'orders' failed mid-call" in died["result"]
    assert first["status"] == "failed" and first["retryable"]


async def test_the_step_of_a_hung_server_goes_to_the_fallback_on_a_restarted_server(
    team: Team, faulty: Faulty, tmp_path: Path
) -> None:
    model = ScriptedChatModel(
        steps=[route("finance", "look order A1 up", skill="orders"), finish()],
        agents={
            "finance": [call("lookup", order="A1"), handoff("the order server hung", status="failed")],
            "finance_backup": [call("lookup", order="A1"), handoff("order A1 looked up")],
        },
    )
    health = HealthRegistry(tmp_path / "health.sqlite")
    async with faulty.toolbox("hang") as box:
        (first, second), _ = await _run(team, box, model, health, tmp_path)
    model.assert_complete()

    (looked_up,) = second["tool_calls"]  # within finance_backup's 5 s: the restart was not on its clock
    assert looked_up["outcome"] == "ok" and second["status"] == "done", looked_up
    assert looked_up["result"] == f"order A1 from {faulty.pids()[-1]}" and len(faulty.pids()) == 2
    assert _charged(tmp_path, "finance") == 0
    (hung,) = first["tool_calls"]
    assert hung["outcome"] == "crashed" and tool_server_failed(hung), hung
    assert "timed out after 1s (a read: nothing changed); its server answered no ping either" in hung["result"]


async def test_a_server_that_crashes_every_time_opens_no_agents_breaker(
    team: Team, faulty: Faulty, tmp_path: Path
) -> None:
    """Three runs, each failing on both agents, as in the operator's test: no breaker opens."""
    health = HealthRegistry(tmp_path / "health.sqlite")
    steps: list[Any] = []
    async with faulty.toolbox("crash-always") as box:
        for run in range(3):
            model = ScriptedChatModel(
                steps=[route("finance", "look order A1 up", skill="orders"), escalate("the order server is down")],
                agents={
                    "finance": [call("lookup", order="A1"), handoff("the order server died", status="failed")],
                    "finance_backup": [call("lookup", order="A1"), handoff("it died again", status="failed")],
                },
            )
            (first, second), _ = await _run(team, box, model, health, tmp_path, thread=f"t{run}")
            steps += [first, second]
    for agent in ("finance", "finance_backup"):
        assert health.health(agent).breaker == "closed" and _charged(tmp_path, agent) == 0
    for step in steps:
        (died,) = step["tool_calls"]
        assert died["outcome"] == "crashed" and tool_server_failed(died), died
        assert "ClosedResourceError" not in died["result"]  # each reached a live (restarted) server, and crashed it
    assert len(set(faulty.pids())) >= 6


async def test_a_write_cut_off_by_a_crash_stays_uncertain_and_is_not_charged(
    team: Team, faulty: Faulty, tmp_path: Path
) -> None:
    model = ScriptedChatModel(
        steps=[route("finance", "refund order A1", skill="orders"), escalate("The refund may have gone through.")],
        agents={
            "finance": [call("refund", order="A1"), handoff("the refund was cut off", status="failed")],
            "finance_backup": [handoff("refunded again")],
        },
    )
    health = HealthRegistry(tmp_path / "health.sqlite")
    async with faulty.toolbox("crash-write") as box:
        (only,), state = await _run(team, box, model, health, tmp_path)
        lookup = box.get("lookup")
        assert lookup is not None  # the server is up again for whatever comes next
        assert _text(await lookup.ainvoke({"order": "A1"})) == f"order A1 from {faulty.pids()[1]}"

    (cut,) = only["tool_calls"]
    assert cut["outcome"] == "uncertain" and "whether it took effect is unknown" in cut["result"]
    assert not only["retryable"] and state.next  # a human decides; finance_backup never sent it again
    assert _charged(tmp_path, "finance") == 0
    assert tool_server_failed(cut)
