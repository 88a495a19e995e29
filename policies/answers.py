"""The approval round trip: the question the graph asks, and the answer it accepts.

This module is the one contract between a paused thread and whoever answers
it, whatever the entry point (the CLI, ``resume_run``, a raw
``Command(resume=...)``, a LangGraph server client):

1. the question is a :class:`HumanRequest`: an :class:`ApprovalRequest` when
   a policy rule holds a tool call, an :class:`EscalationRequest` when the
   supervisor asks. It carries the question, the rule, the amount, the exact
   call and its hash, the roles that may answer, the escalation path, the
   question's id (``interrupt_id``), when it was asked, and the resume schema;
2. the answer is an :class:`Answer`; to approve it must hold a signed
   :class:`~switchboard.policies.approvals.Approval` of exactly that call,
   which :func:`sign_answer` makes from the approver's private key::

       value = sign_answer(registry, home / "keys", "alice", request, thread_id=tid, now=time.time())
       await graph.ainvoke(Command(resume=value), config)

3. :func:`check_answer` is what the graph runs on the resume value: the
   shape, the signature, the role (widened by the escalation path as time
   passes), the binding to thread, question and call, expiry and reuse.

A rejection (``approved: false``) needs no signature: it moves nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence, Set
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from switchboard.errors import ApprovalRefused
from switchboard.policies.approvals import (
    ApprovalVerdict,
    Name,
    Note,
    call_hash,
    choose_role,
    problems,
    sign_approval,
    verify_approval,
)
from switchboard.policies.decision import PolicyDecision
from switchboard.policies.engine import answer_roles
from switchboard.policies.escalations import EscalationStatus
from switchboard.policies.model import PolicyFile
from switchboard.policies.principals import Registry


class Answer(BaseModel):
    """A human's answer to a paused thread: the only resume value it accepts.

    Unknown keys are refused rather than ignored, so a typo (``"approve"``)
    can never pass for a rejection. Control characters are refused too (a
    note may break lines): a rejection needs no signature, and its note and
    name are printed on operators' terminals.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    approved: StrictBool
    """``true`` runs the held call (or lets the supervisor go on); ``false`` stops it."""
    note: Note = ""
    """Shown to the agents and kept in the trail."""
    approver: Name | None = None
    """Who answers; for an approval, the signed approval's principal."""
    approval: dict[str, Any] | None = None
    """The signed :class:`~switchboard.policies.approvals.Approval` of this exact
    question and call (see :func:`sign_answer`); required to approve."""


EXAMPLE = {
    "approved": True,
    "note": "checked",
    "approver": "NAME",
    "approval": {"principal": "NAME", "role": "ROLE", "signature": "..."},
}
"""The shape of an answer, for every team: placeholders, not one team's principals."""


class ResumeShape(BaseModel):
    """How to answer: ``Command(resume=VALUE)`` with a value of this shape."""

    model_config = ConfigDict(frozen=True)

    json_schema: dict[str, Any] = Field(default_factory=Answer.model_json_schema)
    """The JSON schema of :class:`Answer`."""
    example: dict[str, Any] = Field(default_factory=lambda: dict(EXAMPLE))
    how: str = (
        "approve with `switchboard resume THREAD --approve --as NAME`, or send "
        "switchboard.policies.answers.sign_answer(...) as the resume value, keyed by this interrupt's id: "
        'Command(resume={INTERRUPT_ID: ANSWER}); reject with {"approved": false}, keyed the same way'
    )


class HumanRequest(BaseModel):
    """What every question to a human carries (the ``interrupt()`` value)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["approval", "escalation"]
    question: str
    rule: str | None = None
    """The policy rule that asks, if any."""
    roles: list[str] = Field(default_factory=list)
    """Roles whose signed approval is accepted now; empty: any principal's."""
    escalation: str | None = None
    """The escalation path that widens ``roles`` over time and ends the wait."""
    interrupt_id: str
    """The question's id; a signed approval names it, so it answers nothing else."""
    asked_at: float
    """When the question was first asked (Unix seconds, from the audit trail)."""
    tool: str
    """The call awaiting approval (``__escalation__`` for the supervisor's questions)."""
    args: dict[str, Any] = Field(default_factory=dict)
    call: str
    """:func:`~switchboard.policies.approvals.call_hash` of ``tool`` and ``args``."""
    step: int = 0
    """Index of the escalation path's step now answering; it grows when a
    sweeper's :data:`TIMEOUT` moves the question on (see :func:`timeout_claim`)."""
    deadline: float | None = None
    """When the current step times out (Unix seconds); ``None``: it never does."""
    resume: ResumeShape = Field(default_factory=ResumeShape)
    error: str | None = None
    """Why the previous answer was refused, when it was; the question is unchanged."""


class ApprovalRequest(HumanRequest):
    """A policy rule holds an agent's tool call until a human approves it."""

    kind: Literal["approval"] = "approval"
    agent: str | None = None
    value: float | None = None
    """What the rule measured (an amount), when it measures."""
    threshold: float | None = None
    """The rule's limit: approval is needed above it."""


ESCALATION_TOOL = "__escalation__"


class EscalationRequest(HumanRequest):
    """The supervisor cannot or may not decide alone."""

    kind: Literal["escalation"] = "escalation"
    tool: str = ESCALATION_TOOL


def escalation_request(
    question: str, roles: Sequence[str], *, interrupt_id: str, asked_at: float, escalation: str | None = None
) -> EscalationRequest:
    """The supervisor's question, bound like a call so a signed answer covers only it."""
    args = {"question": question}
    return EscalationRequest(
        question=question, roles=list(roles), interrupt_id=interrupt_id, asked_at=asked_at,
        args=args, call=call_hash(ESCALATION_TOOL, args), escalation=escalation,
    )  # fmt: skip


class TimeoutClaim(BaseModel):
    """A sweeper's resume value: "this question's time is up", checked by the graph.

    It carries no time and no authority. The graph compares its own clock
    with the question's recorded ``asked_at`` and the escalation path: past
    the last deadline the question is rejected; past a step's deadline it is
    asked again of the next step's roles; before any deadline the claim is
    refused and the thread stays paused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    timed_out: Literal[True]
    by: Name = "sweeper"
    """Who sent the claim, for the audit trail."""


TIMEOUT: dict[str, Any] = {"timed_out": True, "by": "sweeper"}
"""The resume value ``switchboard escalations --sweep`` sends to a question it believes expired."""


def timeout_claim(value: Any) -> TimeoutClaim | None:
    """``value`` read as a :class:`TimeoutClaim`, or ``None`` when it is an answer (or anything else)."""
    if not isinstance(value, Mapping) or "timed_out" not in value:
        return None
    try:
        return TimeoutClaim.model_validate(value)
    except ValidationError:
        return None


def request_status(policy: PolicyFile, request: Mapping[str, Any], now: float) -> EscalationStatus:
    """Where a pending question stands at ``now``: who may answer, until when, or rejected.

    A waiting question follows the policy in force, not the one it was asked
    under: its roles and its escalation path are read from the policy now
    (the approval rule it names, or the supervisor's ``escalation_roles``
    and ``escalation_path``), and the path's deadlines count from when it
    was asked. A role taken away can no longer answer a waiting question,
    and a path added or shortened can expire one at once.
    """
    roles, path = _governing(policy, request)
    decision = PolicyDecision("approve", request.get("rule"), roles=roles, escalation=path)
    return answer_roles(policy, decision, float(request.get("asked_at") or now), now)


def _governing(policy: PolicyFile, request: Mapping[str, Any]) -> tuple[tuple[str, ...], str | None]:
    """The roles and the escalation path the policy gives a question (as saved, for a rule it no longer has)."""
    if request.get("kind") == "escalation":
        return tuple(policy.escalation_roles), policy.escalation_path
    rule = next((r for r in policy.approvals if r.id == request.get("rule")), None)
    if rule is not None:
        return tuple(rule.roles), rule.escalation
    return tuple(request.get("roles") or ()), request.get("escalation")


def request_id(thread_id: str, namespace: str, tool_call_id: str) -> str:
    """A question's id that is the same every time the node re-runs.

    Args:
        thread_id: The thread.
        namespace: The node's checkpoint namespace (stable across a resume).
        tool_call_id: The model's id for the call awaiting approval.
    """
    return hashlib.sha256(f"{thread_id}|{namespace}|{tool_call_id}".encode()).hexdigest()[:32]


def approval_request(
    decision: PolicyDecision,
    tool: str,
    args: Mapping[str, Any],
    *,
    agent: str | None,
    interrupt_id: str,
    asked_at: float,
    threshold: float | None = None,
) -> dict[str, Any]:
    """The interrupt payload for an ``approve`` decision (an :class:`ApprovalRequest`, as JSON)."""
    return ApprovalRequest(
        question=decision.question,
        rule=decision.rule_id,
        agent=agent,
        tool=tool,
        args=dict(args),
        value=decision.value,
        threshold=threshold,
        call=call_hash(tool, args),
        roles=list(decision.roles),
        escalation=decision.escalation,
        interrupt_id=interrupt_id,
        asked_at=asked_at,
    ).model_dump(mode="json")


def sign_answer(
    registry: Registry,
    key_dir: Path,
    name: str,
    request: Mapping[str, Any],
    *,
    thread_id: str,
    role: str | None = None,
    approved: bool = True,
    note: str = "",
    now: float,
    ttl: int | None = None,
) -> dict[str, Any]:
    """The resume value with NAME's signed answer to ``request``.

    Args:
        registry: The principals in force.
        key_dir: Where private keys are (``$SWITCHBOARD_HOME/keys``).
        name: The approver (``--as``).
        request: The pending interrupt's payload (:func:`approval_request`).
        thread_id: The paused thread.
        role: ``--role``, to narrow which of NAME's roles is used.
        approved: ``False`` signs a rejection.
        note: For the trail.
        now: Current time, Unix seconds.
        ttl: Seconds the approval stays valid (default: the library's).

    Raises:
        ApprovalRefused: NAME is unknown or holds no role the request allows,
            or the note or NAME holds control characters (checked here too, so
            the CLI refuses before anything is sent).
        ConfigError: NAME's private key cannot be read.
    """
    read_answer({"approved": approved, "note": note, "approver": name})  # refused now, not once sent
    principal = registry.get(name)
    if principal is None:
        raise ApprovalRefused("unknown_principal", f"{name!r} is not a principal; see `switchboard principals list`")
    chosen = choose_role(principal, request.get("roles") or (), role)
    extra = {} if ttl is None else {"ttl": ttl}
    approval = sign_approval(
        name, key_dir / f"{name}.pem", chosen, thread_id, str(request["interrupt_id"]),
        str(request["tool"]), request.get("args") or {}, approved, note, now=now, **extra,
    )  # fmt: skip
    return {"approved": approved, "note": note, "approver": name, "approval": approval.model_dump()}


def check_answer(
    policy: PolicyFile,
    registry: Registry,
    request: Mapping[str, Any],
    answer: Any,
    *,
    thread_id: str,
    now: float,
    consumed: Set[str] = frozenset(),
    signed: bool = True,
) -> ApprovalVerdict:
    """Verify a resume value against the pending request.

    Args:
        policy: The policy in force (its escalation paths).
        registry: The principals in force.
        request: The pending question (a :class:`HumanRequest`, as JSON).
        answer: The resume value.
        thread_id: The paused thread.
        now: When the answer arrived, Unix seconds.
        consumed: Token ids of approvals already used in the thread.
        signed: Whether an approval must be signed (``False`` only for the
            supervisor's questions under a policy that names no principals).

    Raises:
        ApprovalRefused: ``timed_out`` when the escalation path has rejected
            the question (treat it as a rejection, do not ask again); any other
            reason: keep the thread paused and ask again with the message.
    """
    reply = read_answer(answer)
    status = request_status(policy, request, now)
    if status.state == "rejected":
        raise ApprovalRefused("timed_out", status.reason or "the question timed out and was rejected")
    if reply.approval is None and (not reply.approved or not signed):
        # A rejection moves nothing, so it needs no signature; the name is as claimed.
        return ApprovalVerdict(reply.approver or "", "", reply.approved, reply.note, "", 0, 0, signed=False)
    verdict = verify_approval(
        reply.approval if reply.approval is not None else reply.model_dump(),
        registry=registry,
        roles=status.roles,
        thread_id=thread_id,
        interrupt_id=str(request.get("interrupt_id")),
        tool=str(request.get("tool")),
        args=request.get("args") or {},
        now=now,
        consumed=consumed,
    )
    if verdict.approved != reply.approved or reply.approver not in (None, verdict.principal):
        raise ApprovalRefused(
            "malformed", "the answer says something its signed approval does not; send sign_answer's value as is"
        )
    return verdict


def read_answer(value: Any) -> Answer:
    """Read a resume value as an :class:`Answer` (a bare signed approval is accepted too).

    Raises:
        ApprovalRefused: ``unsigned`` for a bare ``True``; ``malformed`` for
            any other shape (or a note or name holding control characters),
            with an example of the right one.
    """
    if isinstance(value, Answer):
        return value
    if isinstance(value, Mapping) and "principal" in value and "approved" in value:
        value = {"approved": value["approved"], "note": value.get("note", ""), "approver": value["principal"],
                 "approval": dict(value)}  # fmt: skip
    if value is True:
        raise ApprovalRefused(
            "unsigned", "an unsigned (anonymous) answer cannot approve; answer with `switchboard resume --as NAME`"
        )
    try:
        return Answer.model_validate(value)
    except ValidationError as exc:
        raise ApprovalRefused(
            "malformed",
            f"refused answer {value!r} ({problems(exc)}); resume with an object like "
            '{"approved": true, "note": "...", "approver": "NAME", "approval": {...signed...}} '
            '(see sign_answer), or {"approved": false} to reject',
        ) from exc
