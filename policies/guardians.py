"""Guardian checks: read every agent result before the supervisor trusts it.

An agent's handoff says what it did, in facts and a summary. A model can get
that wrong, or be talked into lying, so a guardian compares the claims with
what the tool calls in the same handoff actually returned. Guardians are
plain functions of the handoff (a mapping shaped like
:class:`~switchboard.agents.records.HandoffEvent`) and a context, returning a
:class:`GuardianVerdict`; they are pure, so each is unit-tested and its
verdict can be replayed from the audit trail.

A policy names the guardians it runs (``guardians`` in the policy file),
so the core assumes no domain: ``checks`` are guardian functions by import
path (retail's ``refund_amounts`` lives with the retail domain), and
``claims`` configure :func:`claimed_actions` (an action the summary claims,
"refunded", "messaged", must have a successful tool call of the named kind
behind it). A policy that names none runs none. :func:`llm_judge` builds an
optional, model-backed check; it takes the model as an argument and is
async, so it never runs by accident.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import partial
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from switchboard.policies.regex import Regex
from switchboard.policies.scopes import Facts

Action = Literal["pass", "flag", "block"]
"""pass: fine; flag: keep the result, record the concern; block: do not trust the result."""


@dataclass(frozen=True)
class GuardianContext:
    """What a guardian may consult besides the handoff."""

    facts: Facts = field(default_factory=Facts)
    """The thread's learned facts (its customer, who owns what)."""
    task: str = ""
    calls: tuple[Mapping[str, Any], ...] = ()
    """The thread's tool-call records (``ToolCallRecord``), every step's: what was done, for a check
    on what a step says was done elsewhere (a refund a message to the customer promises)."""


@dataclass(frozen=True)
class GuardianVerdict:
    """One guardian's judgement of one handoff."""

    guardian: str
    action: Action = "pass"
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Nothing to worry about."""
        return self.action == "pass"


Guardian = Callable[[Mapping[str, Any], GuardianContext], GuardianVerdict]
AsyncGuardian = Callable[[Mapping[str, Any], GuardianContext], Awaitable[GuardianVerdict]]


def run_guardians(
    guardians: Iterable[Guardian], handoff: Mapping[str, Any], context: GuardianContext
) -> tuple[GuardianVerdict, ...]:
    """Every guardian's verdict, in order (the caller decides what a block does)."""
    return tuple(guardian(handoff, context) for guardian in guardians)


# Reading tool results ------------------------------------------------------------------


def succeeded(call: Mapping[str, Any]) -> bool:
    """Whether a recorded tool call succeeded (``outcome: ok`` in the trail)."""
    return call.get("outcome") == "ok"


def results_of(handoff: Mapping[str, Any]) -> list[Any]:
    """The handoff's successful tool results that parse as JSON, in order."""
    parsed = []
    for call in handoff.get("tool_calls") or []:
        if not succeeded(call):
            continue
        try:
            parsed.append(json.loads(call.get("result") or ""))
        except ValueError:
            continue
    return parsed


def numbers_in(value: Any) -> Iterable[float]:
    """Every number in a parsed JSON value, however deep (booleans are not numbers)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from numbers_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from numbers_in(item)


def number_of(value: Any) -> float | None:
    """A number, or a string that reads as one; otherwise ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


# Claimed actions ----------------------------------------------------------------------

_CLAUSE = re.compile(r"[.;:!?]")
"""Where a clause ends: a negation counts only in the claim's own clause ("Nothing to fix: I refunded it")."""
_NEGATION = re.compile(r"\b(?:not|n't|never|unable|cannot|could not|failed to|no|nothing)\b[^.]{0,40}$", re.IGNORECASE)


def claimed_actions(
    handoff: Mapping[str, Any],
    context: GuardianContext,
    *,
    claims: Sequence[tuple[str, Collection[str]]],
    read_only: Collection[str] = (),
) -> GuardianVerdict:
    """An action the summary claims must have a successful tool call behind it.

    Only a finished step's summary is read: a failed step's says why it
    failed, often in the words of the state it found ("the order is
    'cancelled' already"), which is no claim to have acted.

    Args:
        handoff: The agent's result.
        context: Unused; the guardian signature.
        claims: Per claim, a regular expression over the summary and the
            tool names (globs) that can back it; a policy's
            ``guardians.claims``.
        read_only: Tools (globs) that change nothing, so never back a claim
            even when a claim's glob matches them.
    """
    name = "claimed_actions"
    if handoff.get("status", "done") != "done":
        return GuardianVerdict(name)
    summary = str(handoff.get("summary") or "")
    done = [
        str(call.get("tool"))
        for call in handoff.get("tool_calls") or []
        if succeeded(call) and not any(fnmatchcase(str(call.get("tool")), p) for p in read_only)
    ]
    for pattern, tools in claims:
        for match in re.finditer(pattern, summary, re.IGNORECASE):
            if _NEGATION.search(_CLAUSE.split(summary[: match.start()])[-1]):
                continue
            if not any(fnmatchcase(tool, p) for tool in done for p in tools):
                return GuardianVerdict(
                    name, "block", f"the agent says {match.group(0)!r}, but no successful tool call did that"
                )
    return GuardianVerdict(name)


def policy_guardians(checks: Sequence[str], claims: Sequence[tuple[str, Collection[str]]],
                     read_only: Collection[str]) -> tuple[Guardian, ...]:  # fmt: skip
    """The guardians a policy names: its ``checks`` by import path, then its ``claims`` check if any.

    Raises:
        ValueError: A check cannot be imported, or is not callable.
    """
    found: list[Guardian] = [_import(path) for path in checks]
    if claims:
        found.append(partial(claimed_actions, claims=tuple(claims), read_only=tuple(read_only)))
    return tuple(found)


def _import(path: str) -> Guardian:
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise ValueError(f"{path!r} is not 'module:function'")
    try:
        check = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import {path!r}: {exc}") from exc
    if not callable(check):
        raise ValueError(f"{path!r} is not a function")
    return cast(Guardian, check)


# The policy's guardians -----------------------------------------------------------------


class ClaimCheck(BaseModel):
    """One kind of action an agent may claim, and the tools that can back the claim."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    says: Regex
    """A regular expression over the agent's summary, case-insensitive, such as ``'\\brefunded\\b'``."""
    tools: tuple[str, ...] = Field(min_length=1)
    """Tool names (globs); one of them, called successfully in the same step, backs the claim."""


class GuardianPolicy(BaseModel):
    """A policy file's ``guardians``: which checks read every agent result before the supervisor does."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checks: tuple[str, ...] = ()
    """Guardian functions by import path, ``'module:function'``: ``(handoff, GuardianContext) -> GuardianVerdict``."""
    claims: tuple[ClaimCheck, ...] = ()
    """Actions a summary may claim; with any, :func:`claimed_actions` runs."""
    read_only: tuple[str, ...] = ()
    """Tools (globs) that change nothing, so never back a claim."""
    _in_force: tuple[Guardian, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _resolve(self) -> GuardianPolicy:
        claims = [(c.says, c.tools) for c in self.claims]
        self._in_force = policy_guardians(self.checks, claims, self.read_only)  # an import error: at load time
        return self

    @property
    def in_force(self) -> tuple[Guardian, ...]:
        """The guardians to run, in order."""
        return self._in_force


# LLM judge ----------------------------------------------------------------------------

JUDGE_PROMPT = (
    "You check an AI agent's report against the tool calls it made. Answer with JSON only: "
    '{"action": "pass" | "flag" | "block", "reason": "..."}. Block a report that claims something '
    "the tool results do not show, or that moved money the customer did not ask to move."
)


def llm_judge(model: Any, *, prompt: str = JUDGE_PROMPT) -> AsyncGuardian:
    """A guardian that asks a model; an unreadable answer is a flag, never a pass.

    Args:
        model: A LangChain chat model (anything with ``ainvoke(messages)``).
        prompt: The judge's instructions.
    """

    async def judge(handoff: Mapping[str, Any], context: GuardianContext) -> GuardianVerdict:
        report = json.dumps({"task": context.task, "handoff": dict(handoff)}, default=str)
        reply = await model.ainvoke([("system", prompt), ("human", report)])
        try:
            verdict = json.loads(str(getattr(reply, "content", reply)))
            action = verdict["action"]
            if action not in ("pass", "flag", "block"):
                raise ValueError(action)
            return GuardianVerdict("llm_judge", action, str(verdict.get("reason") or ""))
        except (ValueError, KeyError, TypeError):
            return GuardianVerdict("llm_judge", "flag", "the judge's answer was unreadable; review by hand")

    return judge
