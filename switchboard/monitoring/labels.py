"""Readable names and metadata for a run's trace, read from what each step returned.

A LangSmith trace of LangGraph shows every node under its node name: seven
runs called ``supervisor`` say nothing until each is opened. When a step
ends, its output (the trail entries it adds, the tool calls it made) says
what happened, so the step's run is renamed after it
(``supervisor: route → finance``, ``finance (process_return): done``,
``policy: issue_refund → approve``) and the facts go into the run's metadata,
where LangSmith can filter on them: agent, skill, reason, confidence, policy
rule, outcome. The same trail entries feed the local telemetry
(:mod:`switchboard.monitoring.trail`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from switchboard.monitoring.redact import redact_text
from switchboard.policies.decision import PolicyDecision

POLICY_TAG = "switchboard:policy"
"""Tag of a policy check's run (see ``agents.guard``), so it reads as a check, not a tool call."""
ROOT_TAG = "switchboard"
_TITLE_CHARS = 80


@dataclass(frozen=True)
class Label:
    """What to write on a run when it ends: a new name (if any), metadata and tags."""

    name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


def title(task: str) -> str:
    """The task as a trace title: one line, secrets masked, cut at a word near 80 characters."""
    line = " ".join(redact_text(task).split())
    if len(line) <= _TITLE_CHARS:
        return line
    cut = line[:_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def root_config(thread_id: str, task: str | None, *, resume: bool, continues: str | None = None) -> dict[str, Any]:
    """``run_id``, ``run_name``, ``tags`` and ``metadata`` for the root run of a start or a resume.

    The root run is named after the task (``resume: <task>`` for a resume)
    and tagged with the thread; ``metadata.thread_id`` groups a thread's runs
    in LangSmith's Threads view, and ``continues`` names the run a resume
    carries on. The run id is chosen here, so the trace, the telemetry and
    the next resume all know it.
    """
    name = title(task) if task else thread_id
    metadata: dict[str, Any] = {"thread_id": thread_id, "session_id": thread_id}
    if continues:
        metadata["continues"] = continues
    return {
        "run_id": uuid.uuid4(),
        "run_name": f"resume: {name}" if resume else name,
        "tags": [ROOT_TAG, f"thread:{thread_id}", "resume" if resume else "start"],
        "metadata": metadata,
    }


def step_label(node: str, update: Mapping[str, Any]) -> Label:
    """The label of a graph step from the state update it returned."""
    trail = [e for e in update.get("trail") or () if isinstance(e, Mapping)]
    decisions = [e for e in trail if e.get("kind") == "decision"]
    handoffs = [e for e in trail if e.get("kind") == "handoff"]
    answers = [e for e in trail if e.get("kind") == "escalation"]
    reports = [e for e in trail if e.get("kind") == "report"]
    if decisions:
        return _decision(node, decisions[-1])
    if handoffs:
        return _handoff(handoffs[-1], answers)
    if answers:
        return _answers(node, answers)
    if reports:
        report = reports[-1]
        return Label(f"{node}: {report.get('outcome')}", {"outcome": report.get("outcome")})
    if "calls" in update or "escalations" in update:
        return _act(node, update.get("calls") or [], update.get("escalations") or [])
    return Label()


def policy_label(tool: str, decision: Any) -> Label:
    """The label of a policy check: the tool it checked, the effect, the rule and why."""
    if not isinstance(decision, PolicyDecision):
        return Label()
    metadata = {"tool": tool, "outcome": decision.effect, "policy_rule": decision.rule_id, "reason": decision.reason}
    return Label(f"policy: {tool} → {decision.effect}", metadata, (f"policy:{decision.effect}",))


def _decision(node: str, entry: Mapping[str, Any]) -> Label:
    action = entry.get("action") or "route"
    assigned = [a.get("agent") for a in entry.get("assignments") or () if isinstance(a, Mapping)]
    targets = [str(t) for t in assigned if t] or ([str(entry["agent"])] if entry.get("agent") else [])
    name = f"{node}: {action} → {', '.join(targets)}" if action == "route" and targets else f"{node}: {action}"
    metadata = {
        "action": action,
        "agent": targets[0] if targets else None,
        "agents": targets,
        "skill": entry.get("skill"),
        "reason": entry.get("reason"),
        "confidence": entry.get("confidence"),
        "decided_by": entry.get("source"),
        "policy_rule": entry.get("rule"),
        "error": entry.get("error"),
    }
    return Label(name, _present(metadata), (f"decision:{action}",))


def handoff_outcome(entry: Mapping[str, Any]) -> str:
    """What an agent step came to, read from its handoff: what its trace node and run are labelled with.

    ``done`` and ``rejected`` as handed back. A ``failed`` step is told
    apart by its tool calls, as the supervisor tells them apart: ``uncertain``
    when a write may have taken effect (a human must look), ``refused`` when
    a rule, the policy or the tool only said no (nobody else may retry it),
    else ``failed``.
    """
    status = str(entry.get("status") or "")
    if status != "failed":
        return status
    outcomes = {c.get("outcome") for c in entry.get("tool_calls") or () if isinstance(c, Mapping)}
    if "uncertain" in outcomes:
        return "uncertain"
    if "refused" in outcomes and not entry.get("retryable"):
        return "refused"
    return status


def _handoff(entry: Mapping[str, Any], answers: Sequence[Mapping[str, Any]]) -> Label:
    agent, skill, status = entry.get("agent"), entry.get("skill"), handoff_outcome(entry)
    calls = entry.get("tool_calls") or []
    metadata = {
        "agent": agent,
        "skill": skill,
        "outcome": entry.get("status"),
        "reason": entry.get("summary"),
        "confidence": entry.get("confidence"),
        "tool_calls": len(calls),
        "policy_rules": sorted({str(c.get("policy")) for c in calls if isinstance(c, Mapping) and c.get("policy")}),
        "approvals": [_answer(a) for a in answers] or None,
    }
    return Label(f"{agent} ({skill}): {status}" if skill else f"{agent}: {status}", _present(metadata))


def _answers(node: str, answers: Sequence[Mapping[str, Any]]) -> Label:
    last = answers[-1]
    verdict = "approved" if last.get("approved") else "rejected"
    by = f" by {last['approver']}" if last.get("approver") else ""
    metadata = {"outcome": verdict, "approver": last.get("approver"), "reason": last.get("question")}
    return Label(f"{node}: {verdict}{by}", _present(metadata), ("escalation",))


def _act(node: str, calls: Sequence[Any], escalations: Sequence[Any]) -> Label:
    records = [c for c in calls if isinstance(c, Mapping)]
    answers = [e for e in escalations if isinstance(e, Mapping)]
    metadata = {
        "tools": [c.get("tool") for c in records],
        "outcomes": [c.get("outcome") for c in records],
        "policy_rules": sorted({str(c["policy"]) for c in records if c.get("policy")}),
        "approvals": [_answer(a) for a in answers] or None,
    }
    tags = ("approval",) if answers else ()
    return Label(None, _present(metadata), tags)


def _answer(entry: Mapping[str, Any]) -> dict[str, Any]:
    return _present(
        {
            "rule": entry.get("rule"),
            "approved": entry.get("approved"),
            "approver": entry.get("approver"),
            "note": entry.get("note"),
        }
    )


def _present(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if v is not None and v != []}
