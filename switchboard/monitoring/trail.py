"""Read the "why" out of graph node outputs: decisions, handoffs, denials, answers.

The supervisor graph writes its reasons into the thread's trail (see
``switchboard.graph.state``). A node's output carries the trail entries it
adds, so when a node ends the handler turns them into telemetry events: the
supervisor's decision with its reason and confidence, an agent's handoff
with its summary, a human's answer, the final report. Tool calls refused by
policy are read from the agent's ``act`` step, as soon as they happen, and the
customer's replies to its questions from its ``ask`` step: a reply writes no
trail entry, and without an event of its own the question stayed open forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.types import Command

from switchboard.monitoring.events import TelemetryEvent

SUPERVISOR = "supervisor"
REFUSED = ": refused"
"""Suffix of a tool call record's ``policy`` when a rule (or the card) refused it."""
ASK_TOOL = "ask_customer"
"""The tool an agent asks the customer with (``switchboard.agents.questions.ASK_TOOL``)."""
QUESTION = "question"
"""The name of a customer question's escalation events (its interrupt's ``kind``)."""
ANSWERED = "answered"
"""The outcome of the escalation event that closes a customer question."""


def update_of(output: Any) -> Mapping[str, Any]:
    """The state update a node returned, whether a ``Command`` or a plain dict."""
    if isinstance(output, Command):
        update = output.update
        return update if isinstance(update, Mapping) else {}
    return output if isinstance(output, Mapping) else {}


def trail_events(update: Mapping[str, Any], base: TelemetryEvent) -> list[TelemetryEvent]:
    """Events for the trail entries in a top-level node's update."""
    events = []
    for entry in update.get("trail") or ():
        if not isinstance(entry, Mapping):
            continue
        kind = entry.get("kind")
        if kind == "decision":
            events.append(_decision(entry, base))
        elif kind == "handoff":
            events.append(_handoff(entry, base))
        elif kind == "escalation":
            events.append(_answer(entry, base))
        elif kind == "report":
            outcome = entry.get("outcome")
            events.append(_event(base, "report", str(outcome or "report"), base.agent, outcome, entry.get("summary")))
    return events


def denial_events(update: Mapping[str, Any], base: TelemetryEvent) -> list[TelemetryEvent]:
    """Events for the tool calls refused in an agent's ``act`` step."""
    return [
        _event(
            base,
            "denial",
            str(call.get("tool")),
            base.agent,
            "refused",
            str(call.get("result") or ""),
            policy=call.get("policy"),
            args=call.get("args"),
        )
        for call in update.get("calls") or ()
        if isinstance(call, Mapping) and not call.get("ok") and str(call.get("policy") or "").endswith(REFUSED)
    ]


def reply_events(update: Mapping[str, Any], base: TelemetryEvent) -> list[TelemetryEvent]:
    """Escalation events that close the customer questions answered in an agent's ``ask`` step.

    The step only returns once every question has an accepted reply (a refused
    one is asked again inside the step), so each ``ask_customer`` record in
    its update is an answer. The reply's text is left out: it is the
    customer's own words, and the question is enough to follow the chain.
    """
    return [
        _event(base, "escalation", QUESTION, base.agent, ANSWERED, (call.get("args") or {}).get("question"))
        for call in update.get("calls") or ()
        if isinstance(call, Mapping) and call.get("tool") == ASK_TOOL and call.get("outcome") == "ok"
    ]


def waiting_events(interrupts: Any, base: TelemetryEvent) -> list[TelemetryEvent]:
    """Escalation events for the questions a ``GraphInterrupt`` put to a human."""
    events = []
    for item in interrupts or ():
        value = getattr(item, "value", None)
        value = value if isinstance(value, Mapping) else {"question": str(value)}
        name = str(value.get("rule") or value.get("kind") or "escalation")
        agent = value.get("agent") or SUPERVISOR
        event = _event(
            base,
            "escalation",
            name,
            agent,
            "waiting",
            str(value.get("question") or ""),
            interrupt=getattr(item, "id", None),
            **{k: v for k, v in value.items() if k != "question"},
        )
        events.append(event)
    return events


def _decision(entry: Mapping[str, Any], base: TelemetryEvent) -> TelemetryEvent:
    targets = [a.get("agent") for a in entry.get("assignments") or () if isinstance(a, Mapping)]
    targets = targets or ([entry["agent"]] if entry.get("agent") else [])
    action = entry.get("action") or "route"
    name = targets[0] if action == "route" and targets else action
    return _event(
        base,
        "decision",
        str(name),
        SUPERVISOR,
        action,
        entry.get("reason"),
        to=targets,
        skill=entry.get("skill"),
        confidence=entry.get("confidence"),
        source=entry.get("source"),
        rule=entry.get("rule"),
        attempts=entry.get("attempts"),
        error=entry.get("error"),
        unavailable=entry.get("unavailable") or {},
    )


def _handoff(entry: Mapping[str, Any], base: TelemetryEvent) -> TelemetryEvent:
    calls = entry.get("tool_calls") or []
    return _event(
        base,
        "handoff",
        str(entry.get("skill") or "handoff"),
        entry.get("agent"),
        entry.get("status"),
        entry.get("summary"),
        confidence=entry.get("confidence"),
        reasoning=entry.get("reasoning"),
        assignment=entry.get("assignment"),
        retryable=entry.get("retryable"),
        tool_calls=len(calls),
        facts=sorted((entry.get("facts") or {}).keys()),
    )


def _answer(entry: Mapping[str, Any], base: TelemetryEvent) -> TelemetryEvent:
    outcome = "approved" if entry.get("approved") else "rejected"
    return _event(
        base,
        "escalation",
        str(entry.get("rule") or entry.get("source") or "escalation"),
        entry.get("agent") or SUPERVISOR,
        outcome,
        entry.get("question"),
        note=entry.get("note"),
        approver=entry.get("approver"),
        source=entry.get("source"),
    )


def _event(
    base: TelemetryEvent, kind: Any, name: str, agent: str | None, outcome: Any, reason: Any, /, **metadata: Any
) -> TelemetryEvent:
    return TelemetryEvent(
        kind=kind,
        name=name,
        run_id=base.run_id,
        thread_id=base.thread_id,
        agent=agent,
        started=base.ended or base.started,
        outcome=None if outcome is None else str(outcome),
        reason=None if reason is None else str(reason),
        parent_id=base.id,
        metadata={k: v for k, v in metadata.items() if v is not None},
    )
