"""Branch conditions: a small, data-only language over earlier steps' results.

A condition is YAML, never code: it is parsed into these models and evaluated
by :func:`holds`, with no ``eval`` anywhere. It reads only the handoff of
steps the guarded step depends on, so it is decided on facts that exist when
the step becomes ready.

Forms::

    {step: check_shipment, status: done}                      # or [failed, rejected]
    {step: check_shipment, fact: shipment_delayed, equals: true}
    {step: check_shipment, fact: carrier, one_of: [ups, dhl]}
    {step: check_shipment, fact: tracking_id, present: true}
    {all: [...]}, {any: [...]}, {not: {...}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from switchboard.agents.records import HandoffEvent

StepStatus = Literal["done", "failed", "rejected"]
_OPERATORS = ("equals", "not_equals", "one_of", "present")


class StatusTest(BaseModel):
    """True when a step finished with one of the given statuses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    step: str
    status: StepStatus | tuple[StepStatus, ...]

    def holds(self, results: Mapping[str, HandoffEvent]) -> bool:
        """Evaluate against the results so far; a step with no result has no status."""
        wanted = (self.status,) if isinstance(self.status, str) else self.status
        result = results.get(self.step)
        return result is not None and result["status"] in wanted


class FactTest(BaseModel):
    """A test on one fact a finished step handed back.

    Exactly one operator is given. Facts of a step that did not finish
    ``done`` are treated as absent, so a failed check never counts as a
    positive finding.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    step: str
    fact: str
    equals: Any = None
    not_equals: Any = None
    one_of: tuple[Any, ...] | None = None
    present: bool | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> FactTest:
        given = [name for name in _OPERATORS if name in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(
                f"a fact condition on {self.step}.{self.fact} needs exactly one of "
                f"{', '.join(_OPERATORS)}; it has {given or 'none'}"
            )
        return self

    def holds(self, results: Mapping[str, HandoffEvent]) -> bool:
        """Evaluate against the results so far."""
        result = results.get(self.step)
        facts = result["facts"] if result is not None and result["status"] == "done" else {}
        if "present" in self.model_fields_set:
            return (self.fact in facts) == self.present
        if self.fact not in facts:
            return False
        value = facts[self.fact]
        if "equals" in self.model_fields_set:
            return _same(value, self.equals)
        if "not_equals" in self.model_fields_set:
            return not _same(value, self.not_equals)
        return any(_same(value, option) for option in self.one_of or ())


class AllOf(BaseModel):
    """True when every condition holds."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    all_: tuple[Condition, ...] = Field(alias="all", min_length=1)

    def holds(self, results: Mapping[str, HandoffEvent]) -> bool:
        """Evaluate against the results so far."""
        return all(c.holds(results) for c in self.all_)


class AnyOf(BaseModel):
    """True when at least one condition holds."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    any_: tuple[Condition, ...] = Field(alias="any", min_length=1)

    def holds(self, results: Mapping[str, HandoffEvent]) -> bool:
        """Evaluate against the results so far."""
        return any(c.holds(results) for c in self.any_)


class Not(BaseModel):
    """True when the condition does not hold."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    not_: Condition = Field(alias="not")

    def holds(self, results: Mapping[str, HandoffEvent]) -> bool:
        """Evaluate against the results so far."""
        return not self.not_.holds(results)


def _kind(value: Any) -> str | None:
    """Which form a raw condition takes, from its keys (the discriminator)."""
    if isinstance(value, BaseModel):
        return {StatusTest: "status", FactTest: "fact", AllOf: "all", AnyOf: "any", Not: "not"}.get(type(value))
    if not isinstance(value, Mapping):
        return None
    for key in ("all", "any", "not", "fact", "status"):
        if key in value:
            return key
    return None


Condition = Annotated[
    Annotated[StatusTest, Tag("status")]
    | Annotated[FactTest, Tag("fact")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")],
    Discriminator(
        _kind,
        custom_error_type="condition_form",
        custom_error_message="a condition is a mapping with `status`, `fact`, `all`, `any` or `not`",
    ),
]
"""Any branch condition."""

for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()


def steps_named(condition: Condition) -> set[str]:
    """Every step a condition reads, for checking it against ``needs``."""
    if isinstance(condition, StatusTest | FactTest):
        return {condition.step}
    if isinstance(condition, AllOf):
        return set().union(*(steps_named(c) for c in condition.all_))
    if isinstance(condition, AnyOf):
        return set().union(*(steps_named(c) for c in condition.any_))
    return steps_named(condition.not_)


def required_status_tests(condition: Condition) -> list[StatusTest]:
    """The status tests that must hold for ``condition`` to hold: itself, or the members of an ``all``.

    A test under ``any`` is one way among others, and one under ``not``
    holds when its step did something else, so neither makes a condition
    that can never hold; load-time checks look only at these.
    """
    if isinstance(condition, StatusTest):
        return [condition]
    if isinstance(condition, AllOf):
        return [test for part in condition.all_ for test in required_status_tests(part)]
    return []


def _same(value: Any, expected: Any) -> bool:
    """Equality that keeps YAML's ``true`` from matching the number 1."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value is expected
    return bool(value == expected)
