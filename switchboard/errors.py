"""The one exception hierarchy of Switchboard.

Every error the project raises on purpose is a ``SwitchboardError``. Each
message says what went wrong *and* what to do next, so that a user reading a
traceback, or the CLI's one-line error, can act on it.
"""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base class of every error Switchboard raises on purpose."""


class ConfigError(SwitchboardError):
    """A setting, card file, policy file or model spec is invalid.

    Raised while things are being built, never in the middle of a run.
    """


class TaskError(SwitchboardError, ValueError):
    """The task given to a run is malformed (empty, too long, not text).

    A ``ValueError`` too, so a LangGraph server passes its message on to the
    client (it shows only its own list of exception types' messages, and
    "An internal error occurred" for the rest).
    """


class ThreadError(SwitchboardError, RuntimeError):
    """A thread id names no run, or the run is not in a state for the request.

    A ``RuntimeError`` too, so a LangGraph server passes its message (a new
    turn refused on a paused thread, a fork refused) on to the client.
    """


class ReplyRefused(ThreadError):
    """A reply to a customer question was refused (empty, or an approval sent to a question).

    The thread stays paused on the same question, which carries the reason.
    """


class ApprovalError(SwitchboardError):
    """An approval was given by someone not allowed to give it, or to nothing."""


class ToolError(SwitchboardError):
    """A business operation refused: a failed precondition or a bad argument.

    The message is shown to the agent (and to the user) as is, so it must say
    which precondition failed.
    """


class DataError(SwitchboardError):
    """A data directory or database does not follow the expected schema."""


class CheckpointTampered(DataError):
    """A checkpoint value is unsigned or fails its signature: the store was changed outside Switchboard.

    Raised when the value is read, before anything in it is used (see
    :mod:`switchboard.checkpoints.signing`).
    """


class ApprovalRefused(ApprovalError):
    """A signed approval did not verify: the call it names stays unapproved.

    Carries why (``reason``, one of a fixed set of codes a caller can branch
    on) and who it claimed to come from, so the guard can record the refusal
    in the audit trail and ask again with the reason.
    """

    def __init__(self, reason: str, message: str, principal: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        """Code: malformed, unsigned, unknown_principal, no_key, wrong_role,
        bad_signature, wrong_thread, wrong_interrupt, wrong_call, not_yet_valid,
        expired, ttl_too_long, reused; or timed_out (the escalation path
        rejected the question: treat it as a rejection)."""
        self.principal = principal
        """The principal the approval named, if any."""


class PolicyViolation(SwitchboardError):
    """A call, handoff or budget was refused by the policy; carries the decision."""

    def __init__(self, decision: object, message: str | None = None) -> None:
        super().__init__(message or str(getattr(decision, "reason", decision)))
        self.decision = decision
        """The :class:`~switchboard.policies.PolicyDecision` (or friend) that refused."""


class AuditError(SwitchboardError):
    """The audit log cannot be written or read (not: it was tampered with; see ``verify``)."""
