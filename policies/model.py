"""The schema of a policy file.

Policy files are data, reviewed like code but changed without it: a business
owner can move a threshold or add a tool to a rule without touching Python.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.policies.budgets import Budgets
from switchboard.policies.constraints import Constraint, Loc, NamedArgument, Range, measure_arguments
from switchboard.policies.escalations import EscalationPath
from switchboard.policies.grants import Grant, matching_tools, tool_matches
from switchboard.policies.guardians import GuardianPolicy
from switchboard.policies.measure import Measure
from switchboard.policies.regex import Regex
from switchboard.policies.scopes import LearnRule, Scopes

QUESTION_FIELDS = frozenset({"value", "threshold", "tool", "args"})
"""Placeholders of an approval question that are not call arguments."""


class ApprovalRule(BaseModel):
    """A rule that makes a tool call wait for a human above a threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    description: str = ""
    tools: tuple[str, ...] = Field(min_length=1)
    """The tool calls this rule guards: names or glob patterns (``refund*``), as in grants."""
    subject: str | None = None
    """Call argument naming what is approved (an order id); an approval covers
    later calls on the same subject in the same thread."""
    measure: Measure | None = None
    threshold: float | None = None
    """Approval is needed when the measured value is above this. Without a
    threshold every guarded call needs approval."""
    approvers: tuple[str, ...] = ()
    """Retired: must be empty. Unsigned names proved nothing; list ``roles``
    and give approvers a principal and a key instead."""
    roles: tuple[str, ...] = ()
    """Roles whose signed approval the graph accepts (see ``principals``);
    empty means any principal's."""
    escalation: str | None = None
    """Id of the escalation path governing how long the question waits and
    who may answer once it has waited; its roles add to ``roles``."""
    question: str = "Approve {tool} with {args}?"
    """Shown to the human; ``{value}``, ``{threshold}``, ``{tool}``, ``{args}``
    and the call's arguments are filled in."""

    @field_validator("approvers")
    @classmethod
    def _no_names(cls, approvers: tuple[str, ...]) -> tuple[str, ...]:
        if approvers:
            raise ValueError(
                "`approvers` (unsigned names) is no longer supported: list the roles that may approve under "
                "`roles`, and add each approver with `switchboard principals keygen NAME --role ROLE`"
            )
        return approvers

    @model_validator(mode="after")
    def _threshold_needs_measure(self) -> ApprovalRule:
        if self.threshold is not None and self.measure is None:
            raise ValueError(f"rule {self.id!r} has a threshold but no `measure` to compare it to")
        return self

    def named_arguments(self, loc: Loc) -> list[NamedArgument]:
        """The call arguments this rule reads: its subject, its measure's, and its question's placeholders.

        A wrong subject makes one approval cover every call of the rule in
        the thread; a wrong measure leaves the call unpriced.
        """
        rule = f"approval rule {self.id!r}"
        named = [NamedArgument(rule, self.subject, self.tools, (*loc, "subject"))] if self.subject else []
        if self.measure is not None and self.measure.tool is None:  # the value is read from the call itself
            named.append(NamedArgument(rule, self.measure.field, self.tools, (*loc, "measure", "field")))
        named += measure_arguments(self.measure, rule, self.tools, loc)
        named += [NamedArgument(rule, name, self.tools, (*loc, "question")) for name in _placeholders(self.question)]
        return named

    def applies_to(self, tool: str) -> bool:
        """Whether this rule guards ``tool``, by name or pattern (see ``tool_matches``)."""
        return tool_matches(tool, self.tools)


def _placeholders(question: str) -> list[str]:
    """The call arguments a question's ``{placeholders}`` name (``{order_id}``, ``{args[x]}`` is ``args``)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(question) if name]
    except ValueError:  # not a valid format string: the guard falls back to a plain question
        return []
    names = [re.split(r"[.\[]", name, maxsplit=1)[0] for name in fields]
    return [name for name in dict.fromkeys(names) if name.isidentifier() and name not in QUESTION_FIELDS]


class DenyRule(BaseModel):
    """A rule that refuses a tool call outright, with the reason given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    tools: tuple[str, ...] = Field(min_length=1)
    """The tool calls this rule refuses: names or glob patterns (``refund*``), as in grants."""
    reason: str
    when: dict[str, Any] = Field(default_factory=dict)
    """Refuse only when every named argument equals the given value."""

    def named_arguments(self, loc: Loc) -> list[NamedArgument]:
        """The call arguments the ``when`` conditions compare: a wrong one and the rule never refuses."""
        return [NamedArgument(f"deny rule {self.id!r}", name, self.tools, (*loc, "when", name)) for name in self.when]

    def refuses(self, tool: str, args: Mapping[str, Any]) -> bool:
        """Whether this rule refuses this call: ``tool`` by name or pattern, and every ``when`` condition holding."""
        return tool_matches(tool, self.tools) and all(args.get(k) == v for k, v in self.when.items())


class RoutingRule(BaseModel):
    """Pin a kind of task to an agent, without asking a model.

    Rules are checked before the routing model, in file order; the first whose
    ``pattern`` matches the task (case-insensitive regular expression) routes
    the first step. Each rule fires at most once per thread.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    pattern: Regex
    agent: str
    skill: str | None = None
    instruction: str = "{task}"
    """``{task}`` and ``{match}`` (the matched text) are filled in."""


class RoutingPolicy(BaseModel):
    """How the supervisor routes: thresholds, fallbacks and pinned rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_confidence: float = Field(default=0.3, ge=0.0, le=1.0)
    """Below this, the supervisor asks a human instead of guessing."""
    on_low_confidence: Literal["escalate", "clarify"] = "escalate"
    """escalate: ask a human to decide; clarify: ask a human what the task means."""
    on_unavailable: Literal["fallback", "wait", "escalate"] = "fallback"
    """When the chosen agent is saturated or its circuit is open: hand the
    step to a fallback, wait for it (``wait_seconds`` times ``wait_attempts``,
    then fall back), or escalate."""
    wait_seconds: float = Field(default=1.0, ge=0.0)
    wait_attempts: int = Field(default=3, ge=1)
    max_wait_s: float = Field(default=30.0, ge=0.0, le=3600.0)
    """With ``fallback``: how long a step for a saturated agent that no free
    agent can stand in for waits for a slot before a human is asked
    (back-pressure, ``graph/backpressure.py``). ``0`` asks at once."""
    retry_budget: int = Field(default=2, ge=0)
    """Reassignments of one step before a human is asked."""
    shortlist: int = Field(default=8, ge=1)
    """Agents shown to the routing model; the rest are filtered by capability."""
    rules: tuple[RoutingRule, ...] = ()


class PolicyFile(BaseModel):
    """One policy file: the rules governing a team."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    approvals: tuple[ApprovalRule, ...] = ()
    deny: tuple[DenyRule, ...] = ()
    routing: RoutingPolicy = RoutingPolicy()
    escalation_approvers: tuple[str, ...] = ()
    """Retired: must be empty (see ``ApprovalRule.approvers``); use ``escalation_roles``."""
    escalation_roles: tuple[str, ...] = ()
    """Roles whose signed answer the supervisor's escalations accept; with ``escalation_path`` set, its
    current step's roles too. Empty, with no path: any answer, signed or not."""
    escalation_path: str | None = None
    """The escalation path (an id under ``escalations``) the supervisor's own escalations follow.

    Its steps add their roles as time passes and end the run as rejected
    after the last one, as for an approval rule's path. Without one, such a
    question waits for a human however long it takes."""
    principals: tuple[str, ...] = ()
    """Principals files, relative to this file; ``${SWITCHBOARD_HOME}`` is the data directory."""
    grants: dict[str, Grant] | None = None
    """Per agent: tools it may call and agents it may hand work to; absent grants what the cards allow."""
    constraints: tuple[Constraint, ...] = ()
    scopes: Scopes | None = None
    escalations: tuple[EscalationPath, ...] = ()
    budgets: Budgets = Budgets()
    guardians: GuardianPolicy = GuardianPolicy()
    """Checks on every agent result before the supervisor reads it; none unless named."""
    source: Path | None = None

    @field_validator("escalation_approvers")
    @classmethod
    def _no_escalation_names(cls, approvers: tuple[str, ...]) -> tuple[str, ...]:
        if approvers:
            raise ValueError("`escalation_approvers` is no longer supported: list roles under `escalation_roles`")
        return approvers

    @model_validator(mode="after")
    def _references(self) -> PolicyFile:
        paths = {p.id for p in self.escalations}
        known = ", ".join(sorted(paths)) or "none"
        for rule in self.approvals:
            if rule.escalation is not None and rule.escalation not in paths:
                raise ValueError(f"rule {rule.id!r} names escalation path {rule.escalation!r}; defined: {known}")
        if self.escalation_path is not None and self.escalation_path not in paths:
            raise ValueError(f"escalation_path names {self.escalation_path!r}; defined: {known}")
        ids = [c.id for c in self.constraints] + [r.id for r in self.approvals] + [r.id for r in self.deny]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(twice)}")
        return self

    def find_escalation(self, path_id: str | None) -> EscalationPath | None:
        """The escalation path called ``path_id``."""
        return next((p for p in self.escalations if p.id == path_id), None)

    def declared_roles(self) -> frozenset[str]:
        """Every role a rule or escalation path names, to check against the principals."""
        roles = {r for rule in self.approvals for r in rule.roles} | set(self.escalation_roles)
        roles |= {r for path in self.escalations for step in path.steps for r in step.roles}
        return frozenset(roles)

    def approval_rules_for(self, tool: str) -> tuple[ApprovalRule, ...]:
        """The approval rules that guard ``tool``."""
        return tuple(rule for rule in self.approvals if rule.applies_to(tool))

    def named_arguments(self, known: Collection[str] | None = None) -> list[NamedArgument]:
        """Every place a rule names a tool argument, to check against the tools once they are known.

        Args:
            known: The tools there are, when known: each pattern among a
                place's tools then stands for the tools it matches, so its
                arguments are checked against theirs.
        """
        named = [arg for i, rule in enumerate(self.deny) for arg in rule.named_arguments(("deny", i))]
        named += [arg for i, rule in enumerate(self.approvals) for arg in rule.named_arguments(("approvals", i))]
        named += [arg for i, c in enumerate(self.constraints) for arg in c.named_arguments(("constraints", i))]
        if self.scopes is not None:
            named += _scope_arguments(self.scopes)
        if known is None:
            return named
        return [replace(arg, tools=matching_tools(arg.tools, known)) for arg in named]

    def guarded_tools(self, known: Collection[str] | None = None) -> frozenset[str]:
        """Every tool some rule mentions, for validation against the team.

        Args:
            known: The tools there are, when known: each pattern (``refund*``)
                is then replaced by the tools it matches, and one matching
                none is kept as written, so it is reported like a misspelt
                name (a rule on it would govern nothing).
        """
        names = {t for r in self.approvals for t in r.tools} | {t for r in self.deny for t in r.tools}
        names |= {r.measure.tool for r in self.approvals if r.measure and r.measure.tool}
        names |= {t for c in self.constraints for t in c.tools}
        names |= {c.measure.tool for c in self.constraints if isinstance(c, Range) and c.measure and c.measure.tool}
        if self.scopes is not None:
            names |= set(self.scopes.tools) | set(self.scopes.unscoped) | set(self.scopes.customer_from)
            names |= {r.tool for r in self.scopes.learn}
        return frozenset(names if known is None else matching_tools(sorted(names), known))


def _scope_arguments(scopes: Scopes) -> list[NamedArgument]:
    """The call arguments scopes read: a wrong one and the resource it names is never checked for its owner."""
    named = [NamedArgument("scopes", name, scopes.tools, ("scopes", "args", name)) for name in scopes.args]
    for index, rule in enumerate(scopes.learn):
        loc = ("scopes", "learn", index)
        label = f"scopes learn rule for {rule.tool}"
        if rule.fetch is not None:
            named.append(NamedArgument(label, rule.fetch.arg, (rule.tool,), (*loc, "fetch", "arg")))
        named += [NamedArgument(label, name, (rule.tool,), (*loc, *where)) for name, where in _call_paths(rule)]
    return named


def _call_paths(rule: LearnRule) -> list[tuple[str, Loc]]:
    """The arguments a learn rule's paths read from the call (``args.user_id``), with where each is written.

    ``owner`` and ``each`` are read from the call; ``id`` and ``attrs`` too
    when there is no ``each`` (otherwise they are read within an element).
    """
    paths: list[tuple[str | None, Loc]] = [(rule.owner, ("owner",)), (rule.each, ("each",))]
    if rule.each is None:
        paths += [(rule.id, ("id",)), *((path, ("attrs", name)) for name, path in rule.attrs.items())]
    named = []
    for path, where in paths:
        parts = (path or "").split(".")
        if len(parts) > 1 and parts[0] == "args" and parts[1] not in ("*", "@", ""):
            named.append((parts[1], where))
    return named
