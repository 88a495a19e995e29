"""Switchboard's guard as LangChain v1 agent middleware, for the agents you build.

An agent made with ``create_agent`` (or a Deep Agent built on it) runs its own
tool loop, out of the guarded tool node's reach. Give it this middleware and
each of its tool calls meets the same checks, in the same order, with the
same signed approvals and the same audit entries::

    from langchain.agents import create_agent
    from switchboard.agents.middleware import SwitchboardGuard
    from switchboard.policies import load_policy

    guard = SwitchboardGuard(load_policy("retail.yaml"), agent="finance", tools=tools)
    agent = create_agent(model, tools, middleware=[guard], checkpointer=saver, name="finance")

A call that needs approval pauses the agent's thread with the same
``ApprovalRequest`` (answer it with ``sign_answer``, or ``switchboard
resume --as``); a refused call returns the refusal to the model as the tool's
error, and the tool never runs. Each call carries its idempotency key, as the
card guard's do: give the agent tools from a
:class:`~switchboard.agents.toolbox.Toolbox` (its MCP tools send the key),
and a call run again after a crash, or an approved call run again on
resume, is replayed by a server that keeps the exactly-once contract
instead of acting twice; an in-process tool gets no key, and its own
idempotency is its business. Facts for the data scopes come from the
calls the guard ran itself, read from the thread's verified audit trail,
in its order: a tool result passed in with the input (any client of a
served graph can post one, or drop or reorder the real ones) teaches
nothing. Run the agent with
``ainvoke``/``astream``: the guard is asynchronous, and a synchronous call is
refused rather than let through unguarded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from langchain.agents.middleware import AgentMiddleware
from langchain.agents.middleware.types import ToolCallRequest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langgraph.config import get_config
from langgraph.types import Command

from switchboard.agents.guard import approval_builder, call_key, content_text, decide_call, thread_facts
from switchboard.agents.idempotency import keyed_call
from switchboard.agents.interrupts import Governance, ask, thread_of
from switchboard.agents.records import ToolCallRecord
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints.audit import AuditLog
from switchboard.errors import ConfigError
from switchboard.policies import PolicyFile, Registry, call_hash

log = logging.getLogger(__name__)

__all__ = ["SwitchboardGuard"]

Handler = Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]]


class SwitchboardGuard(AgentMiddleware[Any, Any]):
    """Grants, constraints, scopes, signed approvals and audit on an agent's tool calls."""

    def __init__(
        self,
        policy: PolicyFile,
        *,
        agent: str,
        tools: Sequence[BaseTool] = (),
        principals: Registry | None = None,
        audit: AuditLog | None = None,
        data_dir: Path | None = None,
    ) -> None:
        """Guard one agent.

        Args:
            policy: The rules in force.
            agent: The agent's name, as the policy's grants name it.
            tools: Its tools; the read-only quote and look-up tools the
                policy calls before deciding are taken from here.
            principals: Who may approve; the policy's principals files by default.
            audit: The audit log; the data directory's by default.
            data_dir: The data directory, when not ``SWITCHBOARD_HOME``.
        """
        super().__init__()
        self.gov = Governance.of(policy, registry=principals, audit=audit, data_dir=data_dir)
        self.agent = agent
        self.toolbox = Toolbox.of(list(tools))

    def wrap_tool_call(self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Any]) -> Any:
        """Refuse to run unguarded: the guard needs the async path."""
        raise ConfigError("SwitchboardGuard checks tool calls asynchronously: run the agent with ainvoke or astream")

    async def awrap_tool_call(self, request: ToolCallRequest, handler: Handler) -> ToolMessage | Command[Any]:
        """Decide the call, ask for a signed approval if a rule says so, run it, record it."""
        call = request.tool_call
        config = get_config()
        thread, namespace = thread_of(config)
        facts = thread_facts(self.gov.policy, await self._ran(thread))
        decision = await decide_call(self.gov.policy, self.agent, self.toolbox, call, facts)
        key = call_key(call)
        payload = {"agent": self.agent, "tool": call["name"], "args": call["args"], "effect": decision.effect,
                   "call": call_hash(call["name"], call["args"]), "rule": decision.rule_id,
                   "reason": decision.reason, "key": key}  # fmt: skip
        await self.gov.record((namespace, call["id"], "policy"), thread, "policy", payload)
        if decision.effect == "deny":
            log.info("%s: %s refused by %s: %s", self.agent, call["name"], decision.rule_id, decision.reason)
            return _error(call, f"Refused: {decision.reason}")
        granted = None
        if decision.effect == "approve":
            build = approval_builder(call, decision, self.agent, self.gov.policy)
            question, granted = await ask(self.gov, config, str(call["id"]), build)
            if not granted.approved:
                note = f": {granted.note}" if granted.note else ""
                return _error(call, f"Not run: rejected by a human{note}.")
        # The call's idempotency key rides along to an MCP server (Toolbox's interceptor): a re-run after a
        # crash, or the approved call once more, sends the same key, and a server that keeps the contract
        # replays its first result instead of acting again.
        with keyed_call(key) if key else nullcontext():
            result = await handler(request)
        ok = isinstance(result, ToolMessage) and result.status != "error"
        text = content_text(result.content) if isinstance(result, ToolMessage) else "(command)"
        record = {"agent": self.agent, "tool": call["name"], "args": call["args"], "outcome": "ok" if ok else "refused",
                  "result": text[:2000], **({"result_rest": text[2000:]} if len(text) > 2000 else {})}  # fmt: skip
        await self.gov.record((namespace, call["id"], "tool_call"), thread, "tool_call", record)
        if granted is not None and ok:
            consumed = {"token_id": granted.token_id, "interrupt_id": question.interrupt_id,
                        "principal": granted.principal}  # fmt: skip
            await self.gov.record((namespace, call["id"], "consumed"), thread, "approval_consumed", consumed)
        return result

    async def _ran(self, thread: str) -> list[ToolCallRecord]:
        """The calls this guard ran ok in the thread, as its verified audit trail records them, in order.

        The data scopes learn from these only: not from the agent's messages,
        which its caller supplies and could make up, replay under other
        arguments, drop or reorder. An entry keeps the whole result (the
        first 2,000 characters in ``result``, the rest in ``result_rest``).
        """
        entries = await asyncio.to_thread(self.gov.audit.trusted_entries, thread)
        return [
            ToolCallRecord(tool=str(e.payload.get("tool")), args=dict(e.payload.get("args") or {}), outcome="ok",
                           result=str(e.payload.get("result") or "") + str(e.payload.get("result_rest") or ""),
                           policy=None)
            for e in entries
            if e.kind == "tool_call" and e.payload.get("agent") == self.agent and e.payload.get("outcome") == "ok"
            and isinstance(e.payload.get("args"), dict)
        ]  # fmt: skip


def _error(call: Any, text: str) -> ToolMessage:
    return ToolMessage(text, tool_call_id=call["id"] or "", name=call["name"], status="error")
