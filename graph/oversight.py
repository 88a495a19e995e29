"""What the supervisor checks before it trusts a step, and what it records.

Between an agent's result and the next decision the supervisor graph:

* runs the policy's guardians over every result before the routing model
  sees it (:mod:`~switchboard.policies.guardians`); a ``block`` stops the
  run for a human, a ``flag`` is recorded;
* checks the run's budgets (hops, tool calls) and stops for a human at the
  limit, unless a human has just said to go on;
* checks that the agents whose results feed a step may hand work to the
  agent chosen (the policy's ``handoffs`` grants);
* appends every trail event (routing decisions, handoffs, escalations) to
  the audit log, keyed by its position in the thread's trail, so a re-run
  after a resume writes nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Send

from switchboard.agents.guard import thread_facts
from switchboard.agents.interrupts import Governance, thread_of
from switchboard.checkpoints.audit import AuditKind, event_id
from switchboard.graph import trail as query
from switchboard.graph.state import SupervisorState, TrailEvent
from switchboard.policies import Usage, budget, check_handoff
from switchboard.policies.guardians import SHIPPED, GuardianContext, run_guardians

_KINDS: dict[str, AuditKind] = {"decision": "routing", "handoff": "handoff", "escalation": "escalation"}


async def record_trail(gov: Governance, config: RunnableConfig, trail: Sequence[TrailEvent]) -> None:
    """Append each trail event to the audit log once (its id is the thread and its position)."""
    thread, _ = thread_of(config)

    def write() -> None:
        for index, event in enumerate(trail):
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
    verdict = budget(gov.policy, used)
    if not verdict.ok:
        await gov.record((thread, "budget", len(trail)), thread, "budget", {"exceeded": list(verdict.exceeded),
                                                                             "reason": verdict.reason})  # fmt: skip
        return f"The run reached its budget ({verdict.reason}). Continue?"
    return None


def refused_handoff(gov: Governance, state: SupervisorState, goto: Any) -> str | None:
    """Why the agents whose results feed the next steps may not hand work to their targets, if so."""
    fresh = [h for h in query.since_last_decision(state.get("trail") or []) if h["status"] == "done"]
    sends = [g for g in (goto if isinstance(goto, list | tuple) else [goto]) if isinstance(g, Send)]
    if not fresh or not sends:
        return None
    sources = sorted({h["agent"] for h in fresh})
    for send in sends:
        decisions = [check_handoff(gov.policy, source, send.node) for source in sources]
        if all(d.effect == "deny" for d in decisions):
            return (
                f"The next step would hand work to {send.node}, which the policy does not allow: "
                f"{decisions[0].reason}. How should we proceed?"
            )
    return None
