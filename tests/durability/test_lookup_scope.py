"""Only a call an earlier pass may actually have sent is looked up on its server.

LangGraph re-runs the guarded tool node from the top on every resume. The
guard treated every key a recorded ``policy`` decision named as "may have
run" and asked the server about it (``Toolbox.already_done``, a request
flagged ``switchboard/replay-only``) before the answer to its approval was
even read: for a call the policy denied, for one still waiting for its
approval, for one a manager rejected, and for an approved write on its
ordinary approve-then-run path. A server that does not honour the flag (the
README admits such a server may "answer by acting") then carried out denied
and rejected calls, and every approved write twice, without any crash.

A call may have been sent only if its recorded decision let it run (``allow``
or ``approve``) and every question its batch waited on was answered with an
approval before this pass. The server here acts on every request, flag or
not, and logs it; the graph, the policy, the signed approvals and the audit
log are real, the model scripted. ``test_answered_then_killed`` and the
crash matrix show that a write approved before a crash is still looked up.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from switchboard.agents.guard import sent_keys
from switchboard.checkpoints.audit import AuditLog
from switchboard.policies.answers import request_id
from switchboard.runs import RunResult, resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish, handoff, route

pytestmark = pytest.mark.usefixtures("principals")

SERVER = '''
"""A helpdesk server that acts on every request: it honours neither idempotency keys nor replay-only."""
import json, sys
from mcp.server.fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations

LOG = sys.argv[1]
mcp = FastMCP("helpdesk")


def acted(ctx: Context, tool: str, **args: str) -> str:
    meta = ctx.request_context.meta
    flags = meta.model_dump() if meta else {}
    with open(LOG, "a") as log:
        log.write(json.dumps({"tool": tool, "args": args, "replay_only": bool(flags.get("switchboard/replay-only"))}))
        log.write("\\n")
    return f"{tool} done for {args}"


@mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
def find_employee(email: str) -> str:
    """Find an employee id by email."""
    return "E1"


@mcp.tool()
def grant_access(employee_id: str, system: str, ctx: Context) -> str:
    """Grant an employee access to a system."""
    return acted(ctx, "grant_access", employee_id=employee_id, system=system)


@mcp.tool()
def delete_account(employee_id: str, ctx: Context) -> str:
    """Delete an employee's account."""
    return acted(ctx, "delete_account", employee_id=employee_id)


@mcp.tool()
def open_ticket(employee_id: str, summary: str, ctx: Context) -> str:
    """Open a ticket for an employee."""
    return acted(ctx, "open_ticket", employee_id=employee_id, summary=summary)


mcp.run()
'''

POLICY = """
name: helpdesk
principals: [principals.yaml, "${SWITCHBOARD_HOME}/principals.yaml"]
approvals:
  - id: grants
    tools: [grant_access]
    roles: [finance_manager]
    question: "Grant {system} to {employee_id}?"
deny:
  - id: no-deletes
    tools: [delete_account]
    reason: account deletion goes through HR
"""

PRINCIPALS = """
roles:
  finance_manager: Approves access grants.
  support_agent: Works tickets.
  store_manager: Stands in.
"""

TEAM = """
name: helpdesk
description: IT helpdesk.
policy: policy.yaml
servers:
  helpdesk:
    transport: stdio
    command: {python}
    args: [{server}, {log}]
agents:
  - name: identity
    description: Access grants, account removal and tickets.
    skills:
      - id: access
        description: Grant access, remove accounts, open tickets.
        writes: true
    tools: [find_employee, grant_access, delete_account, open_ticket]
"""

DELETE = ("delete_account", {"employee_id": "E1"})
TICKET = ("open_ticket", {"employee_id": "E1", "summary": "payroll access"})
PAYROLL = ("grant_access", {"employee_id": "E1", "system": "payroll"})
VPN = ("grant_access", {"employee_id": "E2", "system": "vpn"})


@pytest.fixture
def desk(tmp_path: Path) -> tuple[Settings, Path]:
    """Settings for the helpdesk team, and the server's log of every request it acted on."""
    folder = tmp_path / "helpdesk"
    folder.mkdir()
    log = folder / "requests.jsonl"
    (folder / "server.py").write_text(SERVER)
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "principals.yaml").write_text(PRINCIPALS)
    team = TEAM.format(python=json.dumps(sys.executable), server=json.dumps(str(folder / "server.py")),
                       log=json.dumps(str(log)))  # fmt: skip
    (folder / "team.yaml").write_text(team)
    settings = Settings(team=str(folder / "team.yaml"), checkpoint_db=str(tmp_path / "checkpoints.sqlite"))
    return settings, log


def _batch(*calls: tuple[str, Mapping[str, Any]]) -> AIMessage:
    """One model turn asking for several tool calls at once."""
    asked = [{"name": name, "args": dict(args), "id": f"call-{n}", "type": "tool_call"}
             for n, (name, args) in enumerate(calls)]  # fmt: skip
    return AIMessage("", tool_calls=asked)


def _model(*calls: tuple[str, Mapping[str, Any]]) -> ScriptedChatModel:
    return ScriptedChatModel(
        steps=[route("identity", "Sort out E1's access", skill="access"), finish("done"), finish("done")],
        agents={"identity": [_batch(*calls), handoff("Done what policy allowed."), handoff("Done.")]},
    )


def _requests(log: Path) -> list[tuple[str, bool]]:
    """Every request the server acted on: its tool, and whether it was flagged replay-only."""
    if not log.exists():
        return []
    return [(r["tool"], r["replay_only"]) for r in map(json.loads, log.read_text().splitlines())]


async def _answer(run: RunResult, settings: Settings, model: ScriptedChatModel, *, approved: bool) -> RunResult:
    assert run.status == "paused", run
    return await resume_run(run.thread_id, approved=approved, approver="alice", settings=settings, model=model)


async def test_an_approved_write_reaches_the_server_once(desk: tuple[Settings, Path]) -> None:
    settings, log = desk
    model = _model(PAYROLL)
    paused = await start_run("Give E1 payroll access.", thread_id="once-1", settings=settings, model=model)
    assert _requests(log) == []

    done = await _answer(paused, settings, model, approved=True)

    assert done.status == "completed", done
    assert _requests(log) == [("grant_access", False)]  # no lookup before it: it had never been sent


@pytest.mark.parametrize("approved", [True, False], ids=["approved", "rejected"])
async def test_a_denied_call_never_reaches_the_server(desk: tuple[Settings, Path], approved: bool) -> None:
    settings, log = desk
    model = _model(DELETE, PAYROLL)
    paused = await start_run("Remove E1, give them payroll.", thread_id="deny-1", settings=settings, model=model)

    done = await _answer(paused, settings, model, approved=approved)

    assert done.status == "completed", done
    assert _requests(log) == ([("grant_access", False)] if approved else [])


@pytest.mark.parametrize("approved", [True, False], ids=["approved", "rejected"])
async def test_an_allowed_write_waits_for_its_batch_and_is_sent_once(
    desk: tuple[Settings, Path], approved: bool
) -> None:
    settings, log = desk
    model = _model(TICKET, PAYROLL)
    paused = await start_run("Ticket, then payroll for E1.", thread_id="batch-1", settings=settings, model=model)
    assert _requests(log) == []  # the ticket waits for the grant's answer: a batch runs only once all are in

    done = await _answer(paused, settings, model, approved=approved)

    assert done.status == "completed", done
    assert _requests(log) == ([("open_ticket", False), ("grant_access", False)] if approved else [])


async def test_nothing_is_sent_while_a_question_of_the_batch_is_unanswered(desk: tuple[Settings, Path]) -> None:
    settings, log = desk
    model = _model(PAYROLL, VPN)
    paused = await start_run("Payroll for E1, vpn for E2.", thread_id="two-1", settings=settings, model=model)

    second = await _answer(paused, settings, model, approved=True)
    assert second.status == "paused" and "vpn" in str((second.pending or {}).get("question")), second
    assert _requests(log) == []  # the payroll grant is approved, but waits for the vpn grant's answer

    done = await _answer(second, settings, model, approved=True)
    assert done.status == "completed", done
    assert _requests(log) == [("grant_access", False), ("grant_access", False)]


# The rule itself, over a real audit log: which keys an earlier pass may have sent.

THREAD, NS = "t", "identity:1|tools:1"


def _decision(audit: AuditLog, call: str, key: str, effect: str, waits: list[str] | None) -> None:
    payload: dict[str, Any] = {"tool": "grant_access", "effect": effect, "key": key}
    if waits is not None:  # an entry written before decisions named what their batch waited for has none
        payload["waits_for"] = waits
    audit.append(f"policy-{call}", THREAD, "policy", payload)


def _verdict(audit: AuditLog, call: str, *, approved: bool) -> str:
    rid = request_id(THREAD, NS, call)
    audit.append(f"verdict-{call}", THREAD, "approval", {"interrupt_id": rid, "approved": approved,
                                                         "principal": "alice", "token_id": call})  # fmt: skip
    return rid


def test_an_earlier_pass_may_have_sent_only_what_its_answers_let_run(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.sqlite", key=b"k" * 32)
    yes, no = _verdict(audit, "yes", approved=True), _verdict(audit, "no", approved=False)
    pending = request_id(THREAD, NS, "pending")
    _decision(audit, "a", "allowed-alone", "allow", [])
    _decision(audit, "b", "approved", "approve", [yes])
    _decision(audit, "c", "rejected", "approve", [no])
    _decision(audit, "d", "pending", "approve", [yes, pending])
    _decision(audit, "e", "allowed-beside-a-rejection", "allow", [yes, no])
    _decision(audit, "f", "denied", "deny", [yes])
    _decision(audit, "g", "legacy-allowed", "allow", None)
    _decision(audit, "h", "legacy-approved", "approve", None)
    _decision(audit, "i", "denied-then-allowed", "deny", [])
    _decision(audit, "j", "denied-then-allowed", "allow", [])

    keys = ["allowed-alone", "approved", "rejected", "pending", "allowed-beside-a-rejection", "denied",
            "legacy-allowed", "legacy-approved", "denied-then-allowed", "never-named"]  # fmt: skip
    sent = sent_keys(audit.trusted_entries(THREAD), keys)

    assert sent == {"allowed-alone", "approved", "legacy-allowed", "denied-then-allowed"}
