"""Asking a human inside the graph, and checking the answer there.

A thread pauses with LangGraph's ``interrupt()`` in two places: the guarded
tool node, when a policy rule holds a tool call (an
:class:`~switchboard.policies.answers.ApprovalRequest`), and the escalation
node, when the supervisor asks (an
:class:`~switchboard.policies.answers.EscalationRequest`). The payload and the
one accepted resume value (:class:`~switchboard.policies.answers.Answer`,
holding a signed approval) are defined in :mod:`switchboard.policies.answers`;
this module runs the loop in the graph:

* the question is recorded in the audit trail, once, and its time of asking
  is read back from there, so a node re-run after a resume asks the same
  question with the same id;
* each answer is recorded on arrival and checked at its recorded time
  (signature, role, thread, question, exact call, expiry, reuse);
* a refused answer is recorded as ``approval_refused`` and the same question
  is asked again with an ``error``: the thread stays paused and nothing runs;
* a sweeper's timeout claim (:data:`~switchboard.policies.answers.TIMEOUT`,
  see :mod:`switchboard.sweeper`) is judged by the graph's clock (the audit
  log's) against the recorded time of asking: past the escalation path's
  end the question is rejected, past a step's deadline it is asked again of
  the next step's roles, and before any deadline the claim is refused.

This holds whatever the entry point: the CLI, ``resume_run``, a raw
``Command(resume=...)`` or a LangGraph server. LangGraph matches the
interrupts of one node to resume values by their order, so asking again in a
loop is safe on every resume.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import interrupt

from switchboard.checkpoints.audit import AuditEntry, AuditKind, AuditLog, event_id, open_audit
from switchboard.errors import ApprovalRefused
from switchboard.policies import PolicyFile, Registry, load_principals
from switchboard.policies.answers import (
    Answer,
    ApprovalRequest,
    EscalationRequest,
    HumanRequest,
    ResumeShape,
    check_answer,
    read_answer,
    request_id,
    request_status,
    timeout_claim,
)
from switchboard.policies.approvals import ApprovalVerdict

__all__ = [
    "Answer",
    "ApprovalRequest",
    "EscalationRequest",
    "Governance",
    "HumanRequest",
    "Record",
    "ResumeShape",
    "ask",
    "read_answer",
    "recorded_verdict",
    "thread_of",
]


Record = tuple[tuple[object, ...], str, AuditKind, Mapping[str, Any]]
"""One audit entry to append: ``(id parts, thread, kind, payload)``, as for :meth:`Governance.record`."""


@dataclass(frozen=True)
class Governance:
    """What the graph enforces with: the rules, who may approve, and the audit log.

    Built once per graph (see ``build_graph``) and shared by the guard, the
    escalation node and the supervisor.
    """

    policy: PolicyFile
    registry: Registry
    audit: AuditLog
    entries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Nodes that are not agents (workflows), with the agents routed work
    enters them through, for the handoff grants."""

    @classmethod
    def of(
        cls, policy: PolicyFile, *, registry: Registry | None = None, audit: AuditLog | None = None,
        data_dir: Path | None = None,
    ) -> Governance:  # fmt: skip
        """Fill what is not given: the policy's principals, the data directory's audit log."""
        if registry is None:
            registry = load_principals(policy)
        if audit is None:
            from switchboard.settings import Settings

            audit = open_audit(data_dir or Settings().data_dir)
        return cls(policy, registry, audit)

    async def record(
        self, parts: tuple[object, ...], thread: str, kind: AuditKind, payload: Mapping[str, Any]
    ) -> float:
        """Append an audit entry once (keyed by ``parts``), off the event loop; its time."""
        entry = await asyncio.to_thread(self.audit.append, event_id(*parts), thread, kind, payload)
        return entry.timestamp

    async def record_many(self, records: Sequence[Record]) -> None:
        """Append several entries once each, in order, in one transaction, off the event loop.

        Events that are recorded at the same point of the graph (a batch's
        decisions, a call and the approval it consumed, a supervisor step's
        trail events) share one commit: one sync to disk, one thread hop.
        """
        if records:
            events = [(event_id(*parts), thread, kind, payload) for parts, thread, kind, payload in records]
            await asyncio.to_thread(self.audit.append_many, events)

    @property
    def signed_escalations(self) -> bool:
        """Whether going on after a supervisor's question needs a signed answer.

        Only when the policy names ``escalation_roles`` or an
        ``escalation_path``: such an answer moves no money by itself (every
        held call still needs its own signed approval), so by default anyone
        with access to the thread may answer it, as a customer does through a
        question channel. Name roles, or a path whose steps name them, to make
        the hop, budget and guardian stops answerable by those roles only.
        """
        return bool(self.policy.escalation_roles or self.policy.escalation_path)


def thread_of(config: RunnableConfig) -> tuple[str, str]:
    """The thread id and the node's checkpoint namespace (stable across a resume)."""
    configurable = config.get("configurable") or {}
    return str(configurable.get("thread_id") or "-"), str(configurable.get("checkpoint_ns") or "")


async def ask(
    gov: Governance, config: RunnableConfig, key: str, build: Any, *, signed: bool = True
) -> tuple[HumanRequest, ApprovalVerdict]:
    """Pause the thread with a question until an accepted answer arrives.

    Args:
        gov: The governance in force.
        config: The node's run config (thread and namespace).
        key: What identifies the question within the node (the tool call id).
        build: ``build(interrupt_id, asked_at) -> HumanRequest``.
        signed: Whether an approval must be signed.

    Returns:
        The question and the accepted verdict: an approval, a rejection, or
        (for a question whose escalation path ran out) a rejection by time.
    """
    thread, namespace = thread_of(config)
    rid = request_id(thread, namespace, key)
    asked = await gov.record(("ask", rid), thread, "escalation", {"interrupt_id": rid, "key": key})
    request = _as_asked(gov.policy, build(rid, asked), asked)
    await gov.record(("question", rid), thread, "escalation", request.model_dump(mode="json", exclude={"resume"}))
    error: str | None = None
    attempt = 0
    while True:
        value = interrupt(request.model_copy(update={"error": error}).model_dump(mode="json"))
        attempt += 1
        summary = {"interrupt_id": rid, "attempt": attempt, "answer": _summary(value)}
        arrived = await gov.record(("answer", rid, attempt), thread, "approval", summary)
        entries = await asyncio.to_thread(gov.audit.trusted_entries, thread)  # decided on: verified first
        call = getattr(request, "call", None)
        earlier = recorded_verdict(entries, rid, call=call)
        if earlier is None and call is not None and recorded_verdict(entries, rid) is not None:
            await gov.record(
                ("refused", rid, "changed"), thread, "approval_refused",
                {"interrupt_id": rid, "reason": "changed", "principal": None,
                 "message": "the call differs from the one approved for this question; it needs its own approval"},
            )  # fmt: skip
        if earlier is not None:
            # Accepted before, and its process ended before the step did: that answer stands (its calls may have
            # run under it). Any other answer sent since is on record as refused, and never applied.
            if not _repeats(value, earlier):
                await gov.record(
                    ("refused", rid, "answered", attempt), thread, "approval_refused",
                    {"interrupt_id": rid, "reason": "answered", "principal": _claimed(value),
                     "message": f"already answered by {earlier.answered_by or 'a human'}; that answer stands"},
                )  # fmt: skip
            return request, earlier
        claim = timeout_claim(value)
        if claim is not None:
            moved = await _on_timeout(gov, thread, rid, attempt, request, arrived, claim.by)
            if isinstance(moved, ApprovalVerdict):
                return request, moved
            request, error = moved
            continue
        own = {
            e.payload.get("token_id")
            for e in entries
            if e.kind == "approval_consumed" and e.payload.get("interrupt_id") == rid
        }
        consumed = await asyncio.to_thread(gov.audit.consumed_approvals, thread)
        try:
            verdict = check_answer(
                gov.policy, gov.registry, request.model_dump(), value, thread_id=thread, now=arrived,
                consumed=consumed - own, signed=signed,
            )  # fmt: skip
        except ApprovalRefused as exc:
            if exc.reason == "timed_out":
                return request, ApprovalVerdict("", "", False, str(exc), "", 0, 0, signed=False)
            await gov.record(
                ("refused", rid, attempt), thread, "approval_refused",
                {"interrupt_id": rid, "reason": exc.reason, "message": str(exc), "principal": exc.principal},
            )  # fmt: skip
            error = str(exc)
            continue
        await gov.record(
            ("verdict", rid, attempt), thread, "approval",
            {"interrupt_id": rid, "approved": verdict.approved, "principal": verdict.principal, "role": verdict.role,
             "signed": verdict.signed, "token_id": verdict.token_id, "note": verdict.note,
             "call": getattr(request, "call", None)},
        )  # fmt: skip
        return request, verdict


def _as_asked(policy: PolicyFile, request: HumanRequest, asked: float) -> HumanRequest:
    """``request`` as the policy in force governs it: its path, who may answer and its deadline, from its asking."""
    first = request_status(policy, request.model_dump(), asked)
    deadline = None if first.deadline == float("inf") else first.deadline
    path = policy.escalation_path if request.kind == "escalation" else request.escalation
    return request.model_copy(update={"deadline": deadline, "roles": list(first.roles), "escalation": path})


async def _on_timeout(
    gov: Governance, thread: str, rid: str, attempt: int, request: HumanRequest, now: float, by: str
) -> ApprovalVerdict | tuple[HumanRequest, str | None]:
    """Apply a sweeper's timeout claim by the graph's own clock and the question's recorded ``asked_at``.

    Returns:
        A rejection when the escalation path has run out; else the question
        to ask again: moved to the next step's roles when a deadline has
        passed (no error), or unchanged with the refusal when none has.
    """
    status = request_status(gov.policy, request.model_dump(), now)
    base = {"interrupt_id": rid, "by": by, "step": status.step, "roles": list(status.roles)}
    if status.state == "rejected":
        await gov.record(("timeout", rid, attempt), thread, "escalation", {**base, "outcome": "rejected",
                                                                          "reason": status.reason})  # fmt: skip
        return ApprovalVerdict("", "", False, status.reason, "", 0, 0, signed=False)
    deadline = None if status.deadline == float("inf") else status.deadline
    if status.step > request.step:
        await gov.record(("timeout", rid, attempt), thread, "escalation", {**base, "outcome": "escalated",
                                                                          "deadline": deadline})  # fmt: skip
        moved = request.model_copy(update={"roles": list(status.roles), "step": status.step, "deadline": deadline})
        return moved, None
    if deadline is None:
        message = "this question has no timeout (no escalation path); it waits for a human's answer"
    else:
        message = f"this question has not timed out: its current step runs until {_iso(deadline)}"
    await gov.record(
        ("refused", rid, attempt), thread, "approval_refused",
        {"interrupt_id": rid, "reason": "not_expired", "message": message, "principal": by},
    )  # fmt: skip
    return request, f"refused timeout claim: {message}"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def recorded_verdict(
    entries: Sequence[AuditEntry], interrupt_id: str, *, call: str | None = None
) -> ApprovalVerdict | None:
    """The answer the graph accepted for question ``interrupt_id``, as the audit log records it, if any.

    A verdict is on record before anything runs under it, so a step re-run
    after its process died (or a thread that still lists the question)
    finds the answer it was given, whatever answer arrives next. With
    ``call`` (the question's call hash), only a verdict given for that very
    call counts: the question's id comes from the step and the call id, so
    a call changed since (a checkpoint edited behind the graph's back) would
    otherwise run under the approval of another.
    """
    for entry in entries:
        payload = entry.payload
        if call is not None and payload.get("call") not in (None, call):
            continue
        if entry.kind == "approval" and payload.get("interrupt_id") == interrupt_id and "approved" in payload:
            return ApprovalVerdict(
                principal=str(payload.get("principal") or ""), role=str(payload.get("role") or ""),
                approved=bool(payload["approved"]), note=str(payload.get("note") or ""),
                token_id=str(payload.get("token_id") or ""), issued_at=0, expires_at=0,
                signed=bool(payload.get("signed", True)),
            )  # fmt: skip
    return None


def answer_on_record(interrupts: Iterable[Any], entries: Sequence[AuditEntry]) -> tuple[Any, str] | None:
    """The pending question whose answer is already on record, and how: ``(interrupt, "approved by alice")``.

    A thread lists a question until the step that asked it ends, so a
    process killed after an answer was accepted leaves one listed though it
    was answered (see :func:`recorded_verdict`); ``None`` when none is.
    """
    for item in interrupts:
        asked = item.value if isinstance(item.value, Mapping) else {}
        verdict = recorded_verdict(entries, str(asked.get("interrupt_id") or ""), call=asked.get("call") or None)
        if verdict is not None:
            how = "approved" if verdict.approved else "rejected"
            return item, f"{how} by {verdict.answered_by or 'a human'}"
    return None


def _claimed(value: Any) -> str | None:
    """Who an answer says it is from (signed or not), for the record."""
    if not isinstance(value, Mapping):
        return None
    approval = value.get("approval")
    name = approval.get("principal") if isinstance(approval, Mapping) else value.get("approver")
    return str(name) if name else None


def _repeats(value: Any, verdict: ApprovalVerdict) -> bool:
    """Whether ``value`` is the accepted answer again (LangGraph re-delivers it to a re-run step), or no answer."""
    if not isinstance(value, Mapping) or value.get(CONTINUE_KEY):
        return True
    return _claimed(value) == (verdict.principal or None) and bool(value.get("approved")) == verdict.approved


CONTINUE_KEY = "continue_answered"
"""A resume value that answers nothing: it wakes a step whose question was answered before its process ended."""


def _summary(value: Any) -> Any:
    """What the audit keeps of a raw answer: its claims, not a whole signature blob."""
    if not isinstance(value, Mapping):
        return repr(value)[:200]
    approval = value.get("approval")
    short = {k: value.get(k) for k in ("approved", "note", "approver") if k in value}
    if isinstance(approval, Mapping):
        short["approval"] = {k: approval.get(k) for k in ("principal", "role", "call", "expires_at")}
    return short
