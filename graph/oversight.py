"""What the supervisor checks before it trusts a step, and what it records.

Between an agent's result and the next decision the supervisor graph:

* runs the policy's guardians over every result before the routing model
  sees it (:mod:`~switchboard.policies.guardians`); a ``block`` stops the
  run for a human, a ``flag`` is recorded;
* checks the run's budgets (hops, tool calls, and the tokens and cost of
  every model call, counted into the trail by :mod:`~switchboard.graph.usage`)
  and at the limit stops for a human (``on_exceeded: escalate``, unless a
  human has just said to go on) or ends the run (``fail``);
* checks every handoff the next decision makes (routing after findings,
  parallel steps, reassignments, into a workflow) against the policy's
  ``handoffs`` grants (:mod:`~switchboard.graph.handoffs`);
* appends every trail event (routing decisions, handoffs, escalations) to
  the audit log, keyed by the thread's epoch and the event's position in its
  trail, so a re-run after a resume writes nothing twice (:func:`thread_epoch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import merge_configs
from langgraph.types import Command

from switchboard.agents.guard import thread_facts
from switchboard.agents.interrupts import Governance, Record, thread_of
from switchboard.checkpoints.audit import AuditKind
from switchboard.graph import trail as query
from switchboard.graph.handoffs import refused_handoffs
from switchboard.graph.intake import first_message_epoch
from switchboard.graph.state import DecisionEvent, SupervisorState, TrailEvent
from switchboard.graph.usage import UsageCounter, run_usage
from switchboard.policies import Usage, budget
from switchboard.policies.guardians import GuardianContext, run_guardians

_KINDS: dict[str, AuditKind] = {"decision": "routing", "handoff": "handoff", "escalation": "escalation"}


def trail_records(
    config: RunnableConfig, trail: Sequence[TrailEvent], start: int = 0, *, epoch: str = ""
) -> list[Record]:
    """The audit entries of the trail events from ``start`` on (ids: thread, :func:`thread_epoch`, position)."""
    thread, _ = thread_of(config)
    return [
        ((thread, epoch, "trail", index), thread, kind, _payload(event))
        for index, event in enumerate(trail[start:], start)
        if (kind := _KINDS.get(event["kind"])) is not None
    ]


def thread_epoch(state: SupervisorState) -> str:
    """What tells this thread's history apart from another's under the same thread id: its ``epoch``.

    Trail entries are keyed by their place in the trail, which starts at 0
    again for a thread id used over fresh checkpoints (a notebook run twice
    with a new ``InMemorySaver`` and the same data directory), and for every
    run with no thread id at all (``"-"``), and an entry whose id is on
    record is taken for a re-run and not written. So the key also holds the
    epoch the intake gives the thread at its first step: random, never
    from the input (the first message's id was, and a caller sending the
    same one twice had the second run's decisions and handoffs dropped), and
    checkpointed with the thread, so a node that runs again after a resume
    keys its entries as before and records nothing twice. A thread
    checkpointed before it had one keeps its first message's id.
    """
    return state.get("epoch") or first_message_epoch(state)


def _payload(event: TrailEvent) -> dict[str, Any]:
    data: dict[str, Any] = dict(event)
    if event["kind"] == "handoff":
        data["tool_calls"] = [
            {"tool": c["tool"], "args": c["args"], "outcome": c["outcome"], "policy": c["policy"]}
            for c in event["tool_calls"]
        ]
    return data


@dataclass(frozen=True)
class Stop:
    """Why the run must not go on as the routing model would have it."""

    question: str
    """What the human is asked (or, for a failed run, why it stopped)."""
    error: str = "policy"
    """What stopped it, for the decision record (``policy``, ``budget``)."""
    fail: bool = False
    """End the run instead of asking (a budget with ``on_exceeded: fail``)."""


def govern_results(
    gov: Governance, config: RunnableConfig, state: SupervisorState, pending: list[Record]
) -> Stop | None:
    """Why the run must stop before the next decision, if it must (guardians, budgets).

    What it finds (guardian flags and blocks, a spent budget) is added to
    ``pending``, the audit entries the supervisor writes in one go.
    """
    thread, _ = thread_of(config)
    epoch = thread_epoch(state)
    trail = state.get("trail") or []
    fresh = query.since_last_decision(trail)
    if fresh:
        calls = [c for e in trail if e["kind"] == "handoff" for c in e["tool_calls"]]
        context = GuardianContext(thread_facts(gov.policy, calls), state.get("task") or "", tuple(calls))
        start = len(trail) - len(fresh)
        for offset, handoff in enumerate(fresh):
            for verdict in run_guardians(gov.policy.guardians.in_force, handoff, context):
                if verdict.ok:
                    continue
                payload = {"agent": handoff["agent"], "guardian": verdict.guardian, "action": verdict.action,
                           "reason": verdict.reason}  # fmt: skip
                pending.append(((thread, epoch, "guardian", start + offset, verdict.guardian), thread, "guardian",
                                payload))  # fmt: skip
                if verdict.action == "block":
                    return Stop(
                        f"A check on {handoff['agent']}'s result failed ({verdict.guardian}): {verdict.reason} "
                        "How should we proceed?"
                    )
    if query.human_said_go(trail):
        return None
    models = run_usage(query.current_turn(trail))
    used = Usage(
        hops=state.get("hops", 0),
        tool_calls=sum(len(e["tool_calls"]) for e in trail if e["kind"] == "handoff"),
        tokens=models["tokens"],
        cost_usd=models["cost_usd"],
    )
    spent = budget(gov.policy, used)
    if spent.ok:
        return None
    pending.append(((thread, epoch, "budget", len(trail)), thread, "budget", {
        "exceeded": list(spent.exceeded), "reason": spent.reason, "action": spent.action,
        "tokens": used.tokens, "cost_usd": used.cost_usd, "estimated": models["estimated"],
    }))  # fmt: skip
    if spent.action == "fail":
        return Stop(f"Stopped: {spent.reason}.", "budget", fail=True)
    return Stop(f"{spent.reason[0].upper()}{spent.reason[1:]}. Continue?", "budget")


async def counted(decide: Any, state: SupervisorState, config: RunnableConfig) -> Command[Any]:
    """Run the routing decision with its model calls counted into the decision's ``usage``."""
    counter = UsageCounter()
    command: Command[Any] = await decide(state, merge_configs(config, {"callbacks": [counter]}))
    update = command.update if isinstance(command.update, dict) else None
    if counter.total["calls"] and update is not None:
        events = [
            {**event, "usage": dict(counter.total)} if event["kind"] == "decision" else event
            for event in update.get("trail") or []
        ]
        return Command(goto=command.goto, update={**update, "trail": events}, graph=command.graph)
    return command


def stopped_run(reason: str) -> Command[Any]:
    """End the run without another step (a budget with ``on_exceeded: fail``); outcome ``escalated``."""
    event = DecisionEvent(
        kind="decision", action="finish", agent=None, skill=None, instruction="", reason=reason, confidence=0.0,
        source="guard", rule=None, attempts=0, error="budget", assignments=[], shortlist=[], unavailable={},
    )  # fmt: skip
    return Command(goto="finalize", update={"trail": [event], "outcome": "escalated", "pending": None})


def refused_handoff(
    gov: Governance, config: RunnableConfig, trail: Sequence[TrailEvent], update: Any, pending: list[Record],
    *, epoch: str = "",
) -> str | None:  # fmt: skip
    """Why the supervisor's update would pass work where the policy's handoff grants do not allow, if so.

    Every refusal is added to ``pending`` for the audit log (``handoff_refused``);
    the first one is the question put to a human (see :mod:`~switchboard.graph.handoffs`).
    """
    events = update.get("trail") or [] if isinstance(update, dict) else []
    refused = refused_handoffs(gov.policy, trail, events, gov.entries)
    if not refused:
        return None
    thread, _ = thread_of(config)
    for index, item in enumerate(refused):
        payload = {"source": item.source, "target": item.target, "via": item.via, "reason": item.reason}
        pending.append(((thread, epoch, "handoff_refused", len(trail), index), thread, "handoff_refused", payload))
    return refused[0].question()
