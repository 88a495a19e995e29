"""The approval round trip: the question the graph asks, and the answer it accepts.

Three pure steps glue the policy, the principals and the signed approvals
together, so the guarded tool node, the escalation node and the CLI agree on
one format:

1. :func:`approval_request` builds the interrupt payload for an ``approve``
   decision: the question, the exact call and its hash, who may answer, the
   escalation path, when it was asked and the id an approval must name;
2. :func:`sign_answer` is what ``switchboard resume --as NAME`` sends: a
   resume value holding NAME's signed approval of exactly that request;
3. :func:`check_answer` is what the graph runs on the resume value: the
   signature, role (widened by the escalation path as time passes), binding
   to thread, question and call, expiry and reuse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any

from switchboard.errors import ApprovalRefused
from switchboard.policies.approvals import ApprovalVerdict, call_hash, choose_role, sign_approval, verify_approval
from switchboard.policies.decision import PolicyDecision
from switchboard.policies.engine import answer_roles
from switchboard.policies.model import PolicyFile
from switchboard.policies.principals import Registry


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
) -> dict[str, Any]:
    """The interrupt payload for an ``approve`` decision (JSON-friendly)."""
    return {
        "kind": "approval",
        "question": decision.question,
        "rule": decision.rule_id,
        "agent": agent,
        "tool": tool,
        "args": dict(args),
        "value": decision.value,
        "call": call_hash(tool, args),
        "roles": list(decision.roles),
        "escalation": decision.escalation,
        "interrupt_id": interrupt_id,
        "asked_at": asked_at,
    }


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
        ApprovalRefused: NAME is unknown or holds no role the request allows
            (checked here too, so the CLI refuses before anything is sent).
        ConfigError: NAME's private key cannot be read.
    """
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
) -> ApprovalVerdict:
    """Verify a resume value against the pending request.

    Raises:
        ApprovalRefused: ``timed_out`` when the escalation path has rejected
            the question (treat it as a rejection, do not ask again); any other
            reason: keep the thread paused and ask again with the message.
    """
    decision = PolicyDecision(
        "approve", request.get("rule"), roles=tuple(request.get("roles") or ()), escalation=request.get("escalation")
    )
    status = answer_roles(policy, decision, float(request.get("asked_at") or now), now)
    if status.state == "rejected":
        raise ApprovalRefused("timed_out", status.reason or "the question timed out and was rejected")
    return verify_approval(
        answer,
        registry=registry,
        roles=status.roles,
        thread_id=thread_id,
        interrupt_id=str(request.get("interrupt_id")),
        tool=str(request.get("tool")),
        args=request.get("args") or {},
        now=now,
        consumed=consumed,
    )
