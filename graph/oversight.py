"""What the supervisor checks before it trusts a step, and what it records.

Between an agent's result and the next decision the supervisor graph:

* runs the policy's guardians over every result before the routing model
  sees it (:mod:`~switchboard.policies.guardians`); a ``block`` stops the
  run for a human, a ``flag`` is recorded;
* checks the run's budgets (hops, tool calls) and stops for a human at the
  limit, unless a human has just said to go on;
* checks that a failed step may pass from its agent to the one taking it
  over (the policy's ``handoffs`` grants);
* appends every trail event (routing decisions, handoffs, escalations) to
  the audit log, keyed by its position in the thread's trail, so a re-run
  after a resume writes nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig

from switchboard.agents.guard import thread_facts
from switchboard.agents.interrupts import Governance, thread_of
from switchboard.checkpoints.audit import AuditKind, event_id
from switchboard.graph import trail as query
from switchboard.graph.state import SupervisorState, TrailEvent
from switchboard.policies import Usage, budget, check_handoff
from switchboard.policies.guardians import SHIPPED, GuardianContext, run_guardians

_KINDS: dict[str, AuditKind] = {"decision": "routing", "handoff": "handoff", "escalation": "escalation"}


async def record_trail(gov: Governance, config: RunnableConfig, trail: Sequence[TrailEvent], start: int = 0) -> None:
    """Append each trail event from ``start`` on to the audit log once (its id is the thread and its position)."""
    thread, _ = thread_of(config)

    def write() -> None:
        for index, event in enumerate(trail[start:], start):
            kind = _KINDS.get(event["kind"])
            if kind is not None:
                gov.audit.append(event_id(thread, "trail", index), thread, kind, _payload(event))

    await asyncio.to_thread(write)


def _payload(event: TrailEvent) -> dict[str, Any]:
    data: dict[str, Any] = dict(event)
    if event["kind"] == "handoff":
        data["tool_calls"] = [
            {"tool": c["tool"], "args": c["args"], "outcome": c["outcome"], "policy": c["policy"]}
            for c in event["tool_calls"]
        ]
    return data


async def govern_results(gov: Governance, config: RunnableConfig, state: SupervisorState) -> str | None:
    """Why the run must stop for a human before the next decision, if it must (guardians, budgets)."""
    thread, _ = thread_of(config)
    trail = state.get("trail") or []
    fresh = query.since_last_decision(trail)
    if fresh:
        calls = [c for e in trail if e["kind"] == "handoff" for c in e["tool_calls"]]
        context = GuardianContext(thread_facts(gov.policy, calls), state.get("task") or "")
        start = len(trail) - len(fresh)
        for offset, handoff in enumerate(fresh):
            for verdict in run_guardians(SHIPPED, handoff, context):
                if verdict.ok:
                    continue
                payload = {"agent": handoff["agent"], "guardian": verdict.guardian, "action": verdict.action,
                           "reason": verdict.reason}  # fmt: skip
                await gov.record((thread, "guardian", start + offset, verdict.guardian), thread, "guardian", payload)
                if verdict.action == "block":
                    return (
                        f"A check on {handoff['agent']}'s result failed ({verdict.guardian}): {verdict.reason} "
                        "How should we proceed?"
                    )
    if query.human_said_go(trail):
        return None
    used = Usage(
        hops=state.get("hops", 0), tool_calls=sum(len(e["tool_calls"]) for e in trail if e["kind"] == "handoff")
    )
    spent = budget(gov.policy, used)
    if not spent.ok:
        await gov.record((thread, "budget", len(trail)), thread, "budget", {"exceeded": list(spent.exceeded),
                                                                             "reason": spent.reason})  # fmt: skip
        return f"The run reached its budget ({spent.reason}). Continue?"
    return None


def refused_handoff(gov: Governance, update: Any) -> str | None:
    """Why a failed step may not pass from its agent to the one taking it over, if so.

    Agents hand work back to the supervisor, which may assign anything to
    any agent; the one agent-to-agent handoff is a reassignment, where the
    failed agent's step (and what it tried) goes to another agent. That
    needs the failed agent's ``handoffs`` grant.
    """
    events = update.get("trail") or [] if isinstance(update, dict) else []
    for event in events:
        if event["kind"] != "decision" or event["source"] != "reassign":
            continue
        for assignment in event["assignments"]:
            source = assignment["tried"][-1] if assignment["tried"] else None
            if source is None:
                continue
            decision = check_handoff(gov.policy, source, assignment["agent"])
            if decision.effect == "deny":
                target = assignment["agent"]
                return f"{source}'s failed step cannot go to {target}: {decision.reason}. How should we proceed?"
    return None
