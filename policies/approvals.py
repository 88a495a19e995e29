"""Signed approvals, bound to one exact call, and their verification.

An approval is a small record signed with the approver's Ed25519 private key.
It names who approves and in which role, the thread and the interrupt it
answers, and a hash of the tool name and its canonical JSON arguments; it has
an issue time and an expiry. The graph accepts it only if :func:`verify_approval`
says so, whatever the entry point (CLI, Python, a LangGraph server), because
the signature, not the caller, vouches for the approver.

Pure on purpose: the clock (``now``) and the set of approvals already consumed
are arguments. Consumption lives in the audit trail
(:meth:`switchboard.checkpoints.audit.AuditLog.consumed_approvals`), written
only once the approved call succeeded, so a failed call does not use up its
approval and an approval never covers a second call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Collection, Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from switchboard.errors import ApprovalRefused
from switchboard.policies.principals import Principal, Registry, check_signature, load_private_key
from switchboard.text import control_characters

DEFAULT_TTL_S = 15 * 60
"""How long an approval is valid unless the signer says otherwise."""
CLOCK_SKEW_S = 60
"""How far in the future an issue time may lie (clocks differ between machines)."""

RefusalReason = Literal[
    "malformed",
    "unsigned",
    "unknown_principal",
    "no_key",
    "wrong_role",
    "bad_signature",
    "wrong_thread",
    "wrong_interrupt",
    "wrong_call",
    "not_yet_valid",
    "expired",
    "ttl_too_long",
    "reused",
]


NOTE_BREAKS = "\n\t"
"""The only control characters a free-text note may hold: lines and tabs."""


def _plain(text: str, allowed: str = "") -> str:
    """``text``, refused when it holds control characters (but ``allowed``).

    An answer's note and names reach the audit trail, the agents and the
    operator's terminal (``switchboard show``); an escape sequence among
    them could hide the "(unsigned)" mark or fake "approved by alice". A
    rejection needs no signature, so anyone can send one: it is refused at
    the boundary, as tasks and customer replies are.
    """
    controls = control_characters(text, allowed)
    if controls:
        raise ValueError(f"it holds control characters ({', '.join(controls[:5])}); send plain text")
    return text


def _plain_note(text: str) -> str:
    return _plain(text, NOTE_BREAKS)


Name = Annotated[StrictStr, AfterValidator(_plain)]
"""A principal's or a role's name in an answer: text with no control characters at all."""
Note = Annotated[StrictStr, AfterValidator(_plain_note)]
"""An answer's free-text note: no control characters but line breaks and tabs."""


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, ASCII escapes, no NaN.

    ASCII escaping keeps look-alike characters (a Cyrillic letter for a Latin
    one) visibly different in the hashed text.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def call_hash(tool: str, args: Mapping[str, Any]) -> str:
    """The sha256 an approval binds to: the tool name and its exact arguments."""
    return hashlib.sha256(canonical_json({"tool": tool, "args": dict(args)}).encode()).hexdigest()


class Approval(BaseModel):
    """The signed answer to one approval question (the wire form of a resume value)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    principal: Name
    """Who approves: a name in the principals file."""
    role: Name
    """The role the approver acts in; the rule must allow it."""
    thread_id: str
    interrupt_id: str
    """The id of the question answered (given in the interrupt's payload)."""
    call: str = Field(pattern=r"^[0-9a-f]{64}$")
    """:func:`call_hash` of the tool and arguments approved."""
    approved: bool
    note: Note = ""
    issued_at: int
    """Unix seconds."""
    expires_at: int
    """Unix seconds; after it the approval is void."""
    nonce: str = Field(min_length=16)
    """Random, so that two approvals of the same call are distinct records."""
    signature: str | None = None
    """Base64 Ed25519 signature of :meth:`payload`."""

    def payload(self) -> bytes:
        """The signed bytes: every field but the signature, canonical JSON."""
        return canonical_json(self.model_dump(exclude={"signature"})).encode()

    @property
    def token_id(self) -> str:
        """Identity of this approval, for consumption tracking (sha256 of the payload)."""
        return hashlib.sha256(self.payload()).hexdigest()


@dataclass(frozen=True)
class ApprovalVerdict:
    """A verified approval (or a verified, signed rejection)."""

    principal: str
    role: str
    approved: bool
    note: str
    token_id: str
    """Record it as consumed once the approved call has succeeded."""
    issued_at: int
    expires_at: int
    signed: bool = True
    """``False`` for an unsigned rejection (a rejection moves nothing)."""

    @property
    def answered_by(self) -> str | None:
        """Who answered, for the trail: the verified principal, or the name an unsigned answer claimed, marked so."""
        if not self.principal:
            return None
        return self.principal if self.signed else f"{self.principal} (unsigned)"


def sign_approval(
    principal_name: str,
    key_path: Path,
    role: str,
    thread_id: str,
    interrupt_id: str,
    tool: str,
    args: Mapping[str, Any],
    approved: bool = True,
    note: str = "",
    ttl: int = DEFAULT_TTL_S,
    *,
    now: float,
) -> Approval:
    """Make and sign an approval of one call (what ``switchboard resume --as`` sends).

    Args:
        principal_name: The approver, as named in the principals file.
        key_path: Their private key (``$SWITCHBOARD_HOME/keys/NAME.pem``).
        role: The role they act in.
        thread_id: The paused thread.
        interrupt_id: The id given in the pending question's payload.
        tool: The tool of the call approved.
        args: Its exact arguments, as the question showed them.
        approved: ``False`` signs a rejection.
        note: For the trail.
        ttl: Seconds the approval stays valid.
        now: The current time, Unix seconds.

    Raises:
        ApprovalRefused: ``malformed``: a field the graph would refuse (a
            note or name holding control characters); nothing is signed.
    """
    try:
        unsigned = Approval(
            principal=principal_name,
            role=role,
            thread_id=thread_id,
            interrupt_id=interrupt_id,
            call=call_hash(tool, args),
            approved=approved,
            note=note,
            issued_at=int(now),
            expires_at=int(now) + int(ttl),
            nonce=secrets.token_hex(16),
        )
    except ValidationError as exc:
        raise ApprovalRefused("malformed", f"cannot sign this approval: {problems(exc)}", principal_name) from exc
    signature = load_private_key(key_path).sign(unsigned.payload())
    return unsigned.model_copy(update={"signature": base64.b64encode(signature).decode("ascii")})


def parse_approval(value: Any) -> Approval:
    """Read an approval from a resume value.

    Accepts the approval's mapping, or a mapping holding it under
    ``"approval"`` (``{"approved": true, "approval": {...}}``).

    Raises:
        ApprovalRefused: ``unsigned`` for a bare ``True`` or a mapping with
            no signed approval (an anonymous answer), ``malformed`` otherwise.
    """
    if isinstance(value, Approval):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("approval"), Mapping | Approval):
        value = value["approval"]
    if not isinstance(value, Mapping) or ("signature" not in value and "principal" not in value):
        raise ApprovalRefused(
            "unsigned",
            "an unsigned (anonymous) answer cannot approve; answer with `switchboard resume --as NAME` "
            "using NAME's key",
            principal=value.get("approver") if isinstance(value, Mapping) else None,
        )
    try:
        return Approval.model_validate(dict(value))
    except ValidationError as exc:
        raise ApprovalRefused("malformed", f"the approval is malformed ({problems(exc)}); sign a new one") from exc


def problems(exc: ValidationError) -> str:
    """What a validation error found, field by field, for a refusal's message.

    Only pydantic's messages and the fields' names, never the input: a
    refused value may hold the very escape sequences it was refused for.
    """
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())


def choose_role(principal: Principal, allowed: Collection[str], requested: str | None = None) -> str:
    """The role ``principal`` acts in for a rule that allows ``allowed`` roles.

    Args:
        principal: The approver.
        allowed: Roles the rule accepts; empty means any role.
        requested: ``--role``: narrow to this one.

    Raises:
        ApprovalRefused: ``wrong_role``: the principal holds no role the rule allows.
    """
    held = [r for r in principal.roles if not allowed or r in allowed]
    if requested is not None:
        held = [r for r in held if r == requested]
    if not held:
        wanted = ", ".join(allowed) or "any"
        raise ApprovalRefused(
            "wrong_role",
            f"{principal.name} (roles: {', '.join(principal.roles)}) may not approve this: "
            f"it needs role {wanted}" + (f" and --role {requested} was asked" if requested else ""),
            principal=principal.name,
        )
    return held[0]


def verify_approval(
    value: Any,
    *,
    registry: Registry,
    roles: Collection[str],
    thread_id: str,
    interrupt_id: str,
    tool: str,
    args: Mapping[str, Any],
    now: float,
    consumed: Set[str] = frozenset(),
    max_ttl_s: int | None = None,
) -> ApprovalVerdict:
    """Check a resume value against the question it claims to answer.

    Args:
        value: The resume value (see :func:`parse_approval`).
        registry: The principals in force.
        roles: Roles the rule accepts (empty: any role of a known principal).
        thread_id: The thread being resumed.
        interrupt_id: The question being answered.
        tool: The call awaiting approval...
        args: ...and its arguments.
        now: Current time, Unix seconds.
        consumed: Token ids of approvals already used (from the audit trail).
        max_ttl_s: Longest validity an approval may claim, if capped.

    Returns:
        The verdict; ``approved`` may be ``False`` for a signed rejection.

    Raises:
        ApprovalRefused: With the reason code; the thread should stay paused
            and the question be asked again with the message.
    """
    approval = parse_approval(value)
    who = approval.principal
    principal = registry.get(who)
    if principal is None:
        raise ApprovalRefused(
            "unknown_principal",
            f"{who!r} is not a principal; add them with `switchboard principals keygen {who} --role ROLE`",
            who,
        )
    if approval.role not in principal.roles:
        raise ApprovalRefused("wrong_role", f"{who} does not hold role {approval.role!r}", who)
    if roles and approval.role not in roles:
        raise ApprovalRefused(
            "wrong_role", f"role {approval.role!r} may not approve this; it needs {', '.join(roles)}", who
        )
    key = principal.verifier()
    if key is None:
        raise ApprovalRefused("no_key", f"{who} has no public key in the principals file; run keygen", who)
    if not approval.signature:
        raise ApprovalRefused("unsigned", f"the approval from {who} carries no signature; sign it with their key", who)
    signature = _decode(approval.signature)
    if signature is None or not check_signature(key, signature, approval.payload()):
        raise ApprovalRefused("bad_signature", f"the approval's signature is not {who}'s; sign it again", who)
    _check_binding(approval, thread_id, interrupt_id, call_hash(tool, args))
    _check_time(approval, now, max_ttl_s)
    if approval.token_id in consumed:
        raise ApprovalRefused("reused", "this approval was already used for a call; sign a new one", who)
    return ApprovalVerdict(
        principal=who,
        role=approval.role,
        approved=approval.approved,
        note=approval.note,
        token_id=approval.token_id,
        issued_at=approval.issued_at,
        expires_at=approval.expires_at,
    )


def _decode(signature: str | None) -> bytes | None:
    if not signature:
        return None
    try:
        return base64.b64decode(signature, validate=True)
    except ValueError:
        return None


def _check_binding(approval: Approval, thread_id: str, interrupt_id: str, call: str) -> None:
    who = approval.principal
    if approval.thread_id != thread_id:
        raise ApprovalRefused("wrong_thread", f"the approval is for thread {approval.thread_id}, not {thread_id}", who)
    if approval.interrupt_id != interrupt_id:
        raise ApprovalRefused("wrong_interrupt", "the approval answers another question; sign this one", who)
    if approval.call != call:
        raise ApprovalRefused(
            "wrong_call", "the approval covers a different tool or different arguments; sign this call", who
        )


def _check_time(approval: Approval, now: float, max_ttl_s: int | None) -> None:
    who = approval.principal
    if approval.issued_at > now + CLOCK_SKEW_S:
        raise ApprovalRefused("not_yet_valid", "the approval is issued in the future; check the clocks", who)
    if now >= approval.expires_at:
        raise ApprovalRefused("expired", "the approval has expired; sign a new one", who)
    if max_ttl_s is not None and approval.expires_at - approval.issued_at > max_ttl_s:
        raise ApprovalRefused("ttl_too_long", f"an approval may be valid for at most {max_ttl_s}s", who)
