"""A read that times out is ``crashed``, so its step may go to a fallback agent.

The guard recorded every timed-out call as ``uncertain`` ("whether it took
effect is unknown"), reads included, so a step whose read hung went to a
human, while the README says "A read that fails that way is ``crashed``, and
its step may go to a fallback agent." A read changes nothing: it is
``crashed``; a write that times out stays ``uncertain``. The tools run in
process (a read marked ``readOnlyHint`` as langchain-mcp-adapters marks an
MCP read); the graph, checkpoints and policy are real, the model scripted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import tool

from switchboard.agents.card import Team, load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, call, escalate, finish, handoff, route

TEAM = """
name: desk
agents:
  - name: billing
    description: Handles invoices.
    skills: [{id: invoices, description: Invoices.}]
    fallbacks: {invoices: [billing_backup]}
    timeout_s: 0.2
    tools: [slow_read, slow_write]
  - name: billing_backup
    description: Second billing desk.
    skills: [{id: invoices, description: Invoices.}]
    tools: [slow_read]
"""

CONFIG: Any = {"configurable": {"thread_id": "t"}}


@pytest.fixture
def team(tmp_path: Path) -> Team:
    file = tmp_path / "desk.yaml"
    file.write_text(TEAM)
    return load_team(file)


def _toolbox() -> Toolbox:
    @tool
    async def slow_read(invoice: str) -> str:
        """A read whose server hangs."""
        await asyncio.sleep(5)
        return "invoice"

    @tool
    async def slow_write(amount: float) -> str:
        """A write whose server hangs."""
        await asyncio.sleep(5)
        return "written"

    slow_read.metadata = {"readOnlyHint": True}
    return Toolbox.of([slow_read, slow_write])


async def _handoffs(team: Team, model: ScriptedChatModel, tmp_path: Path) -> tuple[list[Any], Any]:
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(team=team, model=model, toolbox=_toolbox(), policy=PolicyFile(name="t"), checkpointer=saver)
        await graph.ainvoke({"task": "invoice A1"}, CONFIG)
        state = await graph.aget_state(CONFIG)
    return query.handoffs(state.values["trail"]), state


async def test_a_read_that_timed_out_crashed_and_its_step_goes_to_the_fallback(team: Team, tmp_path: Path) -> None:
    model = ScriptedChatModel(
        steps=[route("billing", "read invoice A1", skill="invoices"), finish()],
        agents={
            "billing": [call("slow_read", invoice="A1"), handoff("the invoice server hung", status="failed")],
            "billing_backup": [handoff("read by backup")],
        },
    )
    (first, second), _ = await _handoffs(team, model, tmp_path)
    model.assert_complete()

    (hung,) = first["tool_calls"]
    assert hung["outcome"] == "crashed", hung
    assert "timed out after 0.2s" in hung["result"] and "unknown" not in hung["result"]
    assert first["status"] == "failed" and first["retryable"]  # nothing happened: another agent may try
    assert second["agent"] == "billing_backup" and second["status"] == "done"


async def test_a_write_that_timed_out_stays_uncertain(team: Team, tmp_path: Path) -> None:
    model = ScriptedChatModel(  # the supervisor's escalation, in case it is asked before a human is
        steps=[route("billing", "pay", skill="invoices"), escalate("The payment may or may not have gone through.")],
        agents={"billing": [call("slow_write", amount=10), handoff("the write hung", status="failed")],
                "billing_backup": [handoff("paid again")]},
    )  # fmt: skip
    (only,), state = await _handoffs(team, model, tmp_path)

    (hung,) = only["tool_calls"]
    assert hung["outcome"] == "uncertain" and "whether it took effect is unknown" in hung["result"]
    assert not only["retryable"] and state.next  # it waits for a human; billing_backup never sent it again


async def test_a_quote_without_the_measured_field_says_which_field_is_missing() -> None:
    """A misspelt ``measure.field`` read as "could not price this call; check its arguments" (outside review)."""
    from langchain_core.messages import ToolCall
    from langchain_core.tools import StructuredTool

    from switchboard.agents.guard import decide_call
    from switchboard.agents.toolbox import Toolbox
    from switchboard.policies import Facts, PolicyFile

    def quote_access_risk(employee_id: str, system: str) -> str:
        """The risk score of granting ``system`` to an employee."""
        return '{"risk": 9, "system": "payroll"}'

    def grant_access(employee_id: str, system: str) -> str:
        """Grant access."""
        return "granted"

    policy = PolicyFile.model_validate({"name": "desk", "approvals": [{
        "id": "risky-access", "tools": ["grant_access"], "threshold": 5, "roles": ["it_manager"],
        "measure": {"tool": "quote_access_risk", "args": {"employee_id": "employee_id", "system": "system"},
                    "field": "risc"},
    }]})  # fmt: skip
    call = ToolCall(name="grant_access", args={"employee_id": "E1", "system": "payroll"}, id="c1", type="tool_call")
    decision = await decide_call(
        policy,
        "identity",
        Toolbox.of([StructuredTool.from_function(f) for f in (quote_access_risk, grant_access)]),
        call,
        Facts(),
    )
    assert decision.effect == "deny"
    assert "quote_access_risk's answer has no field 'risc' (it has: risk, system)" in decision.reason
