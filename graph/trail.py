"""Typed queries over a thread's trail.

The trail is a list of plain records told apart by their ``kind``. This is
the one module that looks at ``kind``: everything else (the supervisor, the
report, the run service, the console) asks these questions instead, so a new
kind of record, or a renamed one, is a change in one place.

A trail may hold several *turns* when a thread is used as a chat: each turn
ends with its report. Queries that decide what happens next look only at the
current turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from switchboard.graph.state import Assignment, CapacityWait, DecisionEvent, EscalationEvent, HandoffEvent, ReportEvent

__all__ = [
    "agents_involved",
    "capacity_waits",
    "current_turn",
    "decisions",
    "escalations",
    "finished",
    "fired_rules",
    "handoffs",
    "human_said_go",
    "is_decision",
    "is_escalation",
    "is_handoff",
    "is_report",
    "last_decision",
    "orphaned_steps",
    "since_last_decision",
    "tried",
    "unfinished_steps",
]

Trail = Sequence[Mapping[str, Any]]


def is_decision(event: Mapping[str, Any]) -> TypeGuard[DecisionEvent]:
    """A routing decision of the supervisor."""
    return event.get("kind") == "decision"


def is_handoff(event: Mapping[str, Any]) -> TypeGuard[HandoffEvent]:
    """What an agent handed back for one step."""
    return event.get("kind") == "handoff"


def is_escalation(event: Mapping[str, Any]) -> TypeGuard[EscalationEvent]:
    """A question put to a human, with the answer."""
    return event.get("kind") == "escalation"


def is_report(event: Mapping[str, Any]) -> TypeGuard[ReportEvent]:
    """The report that closes a turn."""
    return event.get("kind") == "report"


def decisions(trail: Trail) -> list[DecisionEvent]:
    """Every routing decision, oldest first."""
    return [e for e in trail if is_decision(e)]


def handoffs(trail: Trail) -> list[HandoffEvent]:
    """Every handoff, oldest first."""
    return [e for e in trail if is_handoff(e)]


def escalations(trail: Trail) -> list[EscalationEvent]:
    """Every answered question, oldest first."""
    return [e for e in trail if is_escalation(e)]


def capacity_waits(trail: Trail) -> list[CapacityWait]:
    """Every wait of a step for a saturated agent (back-pressure), oldest first."""
    return [e["capacity_wait"] for e in decisions(trail) if "capacity_wait" in e]


def current_turn(trail: Trail) -> Trail:
    """The events after the last report: what the run in progress has done."""
    for index in range(len(trail) - 1, -1, -1):
        if is_report(trail[index]):
            return trail[index + 1 :]
    return trail


def finished(trail: Trail) -> bool:
    """Whether the last turn ended with its report."""
    return bool(trail) and is_report(trail[-1])


def last_decision(trail: Trail) -> DecisionEvent | None:
    """The latest routing decision of the current turn, if any."""
    found = decisions(current_turn(trail))
    return found[-1] if found else None


def since_last_decision(trail: Trail) -> list[HandoffEvent]:
    """The handoffs that came back after the latest decision: what the supervisor must join."""
    fresh: list[HandoffEvent] = []
    for event in reversed(trail):
        if is_decision(event) or is_report(event):
            break
        if is_handoff(event):
            fresh.append(event)
    return fresh[::-1]


def human_said_go(trail: Trail) -> bool:
    """Whether the last thing that happened is a human approving."""
    return bool(trail) and is_escalation(trail[-1]) and bool(trail[-1]["approved"])


def tried(trail: Trail, assignment: str) -> list[str]:
    """Agents that have handed back the step ``assignment``, in order."""
    return [h["agent"] for h in handoffs(trail) if h["assignment"] == assignment]


def fired_rules(trail: Trail) -> set[str]:
    """Pinned routing rules that already fired in the current turn."""
    return {rule for d in decisions(current_turn(trail)) if (rule := d["rule"])}


def agents_involved(trail: Trail) -> list[str]:
    """Agents that handed something back, in order of first involvement."""
    agents: list[str] = []
    for handoff in handoffs(trail):
        if handoff["agent"] not in agents:
            agents.append(handoff["agent"])
    return agents


def unfinished_steps(trail: Trail) -> list[Assignment]:
    """Steps started in ``trail`` whose latest handoff is not ``done`` (or that never handed back).

    A step reassigned after a failure is finished once its new agent is done.
    """
    latest = {h["assignment"]: h["status"] for h in handoffs(trail)}
    steps = {a["id"]: a for d in decisions(trail) for a in d["assignments"]}
    return [a for step, a in steps.items() if latest.get(step) != "done"]


def orphaned_steps(values: Mapping[str, Any], nodes: set[str]) -> list[HandoffEvent]:
    """Failed handoffs for steps whose agent is no longer in the graph.

    A step is orphaned when the last routing decision assigned it, no handoff
    came back for it, and its agent has since been removed from the team.
    """
    trail = values.get("trail") or []
    last = last_decision(trail)
    if last is None or finished(trail):
        return []
    answered = {h["assignment"] for h in handoffs(current_turn(trail))}
    return [
        HandoffEvent(
            kind="handoff",
            agent=a["agent"],
            assignment=a["id"],
            skill=a["skill"],
            instruction=a["instruction"],
            status="failed",
            retryable=True,
            confidence=0.0,
            tool_calls=[],
            facts={},
            reasoning="",
            summary=f"Agent {a['agent']} was removed from the team while this step waited; it must be reassigned.",
        )
        for a in last["assignments"]
        if a["id"] not in answered and a["agent"] not in nodes
    ]
