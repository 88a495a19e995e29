"""The guarded tool node: where policy meets the tool call.

Rules are enforced here, at the moment an agent asks for a tool, and not in a
prompt, so no model output can get around them. The node works in three
passes, and the order matters for "no side effect happens twice":

1. decide every requested call (card allow-list, then the policy engine, with
   read-only measure tools called first);
2. ask a human, through ``interrupt()``, for each call that needs approval.
   LangGraph re-runs the node from the top when the thread resumes, so every
   question is asked *before* any write has run. The question and the
   answer's shape are documented in :mod:`switchboard.agents.interrupts`; an
   answer of the wrong shape, or from someone the rule does not name, is
   refused here and the question asked again;
3. run the calls in order, recording each result with its typed outcome.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import ToolCall, ToolMessage
from langgraph.errors import GraphBubbleUp

from switchboard.agents.card import AgentCard
from switchboard.agents.interrupts import Answer, ApprovalRequest, ask
from switchboard.agents.records import CallOutcome, EscalationEvent, ToolCallRecord
from switchboard.agents.toolbox import Toolbox
from switchboard.policies import Measure, PolicyDecision, PolicyFile, approval_key, evaluate

_VERDICT = {"allow": "allowed", "deny": "refused", "approve": "approved by a human"}


@dataclass(frozen=True)
class GuardOutcome:
    """What one pass of the guarded node produced."""

    messages: list[ToolMessage]
    calls: list[ToolCallRecord]
    escalations: list[EscalationEvent]
    approvals: list[str]
    rejected: Answer | None = None


async def run_guarded(
    calls: Sequence[ToolCall],
    *,
    card: AgentCard,
    toolbox: Toolbox,
    policy: PolicyFile,
    approved: frozenset[str],
) -> GuardOutcome:
    """Decide, approve and run one batch of tool calls (see module doc)."""
    decisions = [await _decide(call, card, toolbox, policy, approved) for call in calls]
    escalations: list[EscalationEvent] = []
    granted: list[str] = []
    for call, decision in zip(calls, decisions, strict=True):
        if decision.effect != "approve":
            continue
        answer = ask(_request(call, decision, card, policy))
        escalations.append(_escalation(card, decision, answer))
        if not answer.approved:
            note = f"rejected by a human: {answer.note}" if answer.note else "rejected by a human"
            messages = [_message(c, f"Not run: {note}.", ok=False) for c in calls]
            return GuardOutcome(messages, [], escalations, granted, rejected=answer)
        granted.append(approval_key(decision.rule_id or "", decision.subject))
    messages, records = [], []
    for call, decision in zip(calls, decisions, strict=True):
        record = await _execute(call, decision, toolbox, card.timeout_s)
        records.append(record)
        messages.append(_message(call, record["result"], ok=record["outcome"] == "ok"))
    return GuardOutcome(messages, records, escalations, granted)


def _request(call: ToolCall, decision: PolicyDecision, card: AgentCard, policy: PolicyFile) -> ApprovalRequest:
    rule = next((r for r in policy.approvals if r.id == decision.rule_id), None)
    return ApprovalRequest(
        question=decision.question,
        rule=decision.rule_id,
        approvers=list(policy.approvers_for(decision.rule_id)) if decision.rule_id else [],
        agent=card.name,
        tool=call["name"],
        args=dict(call["args"]),
        value=decision.value,
        threshold=rule.threshold if rule else None,
    )


async def _decide(
    call: ToolCall,
    card: AgentCard,
    toolbox: Toolbox,
    policy: PolicyFile,
    approved: frozenset[str],
) -> PolicyDecision:
    name = call["name"]
    if name not in card.tools:
        allowed = ", ".join(card.tools) or "none"
        return PolicyDecision("deny", "card", f"{card.name} may not use {name!r}; its tools: {allowed}")
    if toolbox.get(name) is None:
        return PolicyDecision("deny", "card", f"tool {name!r} is not available right now")
    measured: dict[str, float | None] = {}
    for rule in policy.approval_rules_for(name):
        if rule.measure is None:
            continue
        value = await _measure(rule.measure, call["args"], toolbox)
        if isinstance(value, str):
            return PolicyDecision("deny", rule.id, f"rule {rule.id} could not price this call: {value}")
        measured[rule.id] = value
    return evaluate(policy, name, call["args"], measured, approved)


async def _measure(measure: Measure, args: Mapping[str, Any], toolbox: Toolbox) -> float | str:
    """Price a call before it runs, or say why it cannot be priced.

    The measure tool validates the same arguments as the guarded write, so
    its error is usually the write's error too, and the agent sees it.
    """
    if measure.tool is None:
        value = _number(args.get(measure.field))
        return f"argument {measure.field!r} is not a number" if value is None else value
    tool = toolbox.get(measure.tool)
    if tool is None:
        return f"measure tool {measure.tool!r} is not available"
    tool_args = {name: args.get(source) for name, source in measure.args.items()}
    try:
        message = await tool.ainvoke({"type": "tool_call", "name": measure.tool, "args": tool_args, "id": "measure"})
    except GraphBubbleUp:
        raise
    except Exception as exc:  # reported as the reason the call is refused
        return f"{measure.tool} crashed: {exc}"
    text = content_text(message.content)
    if getattr(message, "status", "success") == "error":
        return text
    try:
        value = _number(json.loads(text).get(measure.field))
    except (ValueError, AttributeError):
        value = None
    return f"{measure.tool} returned no number in {measure.field!r}" if value is None else value


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


async def _execute(call: ToolCall, decision: PolicyDecision, toolbox: Toolbox, timeout: float) -> ToolCallRecord:
    name, args = call["name"], dict(call["args"])
    policy = f"{decision.rule_id}: {_VERDICT[decision.effect]}" if decision.rule_id else None

    def record(outcome: CallOutcome, result: str) -> ToolCallRecord:
        return ToolCallRecord(tool=name, args=args, outcome=outcome, result=result, policy=policy)

    if decision.effect == "deny":
        return record("refused", f"Refused: {decision.reason}")
    tool = toolbox.get(name)
    assert tool is not None  # _decide denied unknown tools
    try:
        message = await asyncio.wait_for(
            tool.ainvoke({"type": "tool_call", "name": name, "args": args, "id": call["id"]}), timeout
        )
    except GraphBubbleUp:
        raise
    except TimeoutError:
        return record("uncertain", f"{name} timed out after {timeout:g}s; whether it took effect is unknown")
    except Exception as exc:  # a crashing tool is recorded and reported, never swallowed
        return record("crashed", f"{name} crashed: {type(exc).__name__}: {exc}")
    failed = getattr(message, "status", "success") == "error"
    return record("refused" if failed else "ok", content_text(message.content))


def content_text(content: Any) -> str:
    """Flatten tool output (a string or MCP content blocks) to text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(block.get("text", "") if isinstance(block, Mapping) else str(block) for block in content)
    return str(content)


def _message(call: ToolCall, text: str, *, ok: bool) -> ToolMessage:
    return ToolMessage(text, tool_call_id=call["id"], name=call["name"], status="success" if ok else "error")


def _escalation(card: AgentCard, decision: PolicyDecision, answer: Answer) -> EscalationEvent:
    return EscalationEvent(
        kind="escalation",
        source="policy",
        question=decision.question,
        agent=card.name,
        rule=decision.rule_id,
        approved=answer.approved,
        note=answer.note,
        approver=answer.approver,
        at_call=0,
    )
