"""Argument constraints: what a call's arguments may be, checked before it runs.

Each constraint names the tools it applies to and one ``check``:

- ``plain_ids``: the named arguments are plain ASCII, unchanged by NFKC
  normalisation, with no spaces or control characters, so a look-alike id
  (a fullwidth digit, a Cyrillic letter) cannot pass for a real one;
- ``pattern``: each named argument (each element of a list) fully matches
  a regular expression;
- ``distinct``: a list argument repeats no element;
- ``within``: a list argument's elements are all in an attribute list of a
  resource the call names (the order's items), each at most as often as it
  appears there, so duplicated ids cannot act on units that do not exist;
- ``range``: a number, from the arguments or from a read-only quote, lies
  within bounds, an upper bound possibly read from the same quote (a refund
  is positive and at most what was paid);
- ``refund_destination``: money goes back only to the order's original
  payment method or to a gift card of the same customer.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.policies.decision import PolicyDecision, deny
from switchboard.policies.grants import tool_matches
from switchboard.policies.measure import Measure
from switchboard.policies.scopes import Facts, read_path

Quotes = Mapping[str, Any]
"""Parsed results of the read-only quote calls, by constraint or rule id."""


Loc = tuple[str | int, ...]
"""Where a value sits in a policy file, as pydantic spells it (``("deny", 0, "when", "order_id")``)."""


@dataclass(frozen=True)
class NamedArgument:
    """One place a policy names a tool argument, to check against the arguments the tools really take.

    Nothing at load time knows the tools, and a misspelt name loads fine:
    the rule then silently never applies (a deny whose ``when`` names
    ``orderid`` never matches a call with ``order_id``). So every such place
    is listed, and the graph builder checks them once the tools are known.
    """

    rule: str
    """The rule, for messages: ``deny rule 'no-cancel'``."""
    name: str
    """The argument named."""
    tools: tuple[str, ...]
    """The tools it must be an argument of; one of them taking it is enough."""
    loc: Loc
    """Where it is written, for the line in messages."""


def measure_arguments(measure: Measure | None, rule: str, tools: tuple[str, ...], loc: Loc) -> list[NamedArgument]:
    """The arguments a measure names: the quote tool's own (keys) and the guarded call's (values).

    A wrong one leaves the quote without its input, so the call cannot be
    priced or checked.
    """
    if measure is None or measure.tool is None:
        return []
    named = []
    for theirs, ours in measure.args.items():
        where = (*loc, "measure", "args", theirs)
        named += [NamedArgument(rule, theirs, (measure.tool,), where), NamedArgument(rule, ours, tools, where)]
    return named


class _Base(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    tools: tuple[str, ...] = Field(min_length=1)
    reason: str = ""
    """Shown to the agent when refused; a default explains the check."""

    def named_arguments(self, loc: Loc) -> list[NamedArgument]:
        """Every call argument this constraint reads, with where it is written (``loc`` is the constraint's)."""
        rule = f"constraint {self.id!r}"
        return [NamedArgument(rule, name, self.tools, (*loc, *where)) for name, where in self._arguments()]

    def _arguments(self) -> list[tuple[str, Loc]]:
        """The call arguments the check reads, each with its place within the constraint."""
        return []


class PlainIds(_Base):
    """Ids must be plain ASCII: no look-alikes."""

    check: Literal["plain_ids"]
    args: tuple[str, ...] = Field(min_length=1)

    def _arguments(self) -> list[tuple[str, Loc]]:
        return [(name, ("args", index)) for index, name in enumerate(self.args)]


class Pattern(_Base):
    """Arguments must fully match a regular expression."""

    check: Literal["pattern"]
    args: dict[str, str] = Field(min_length=1)

    @field_validator("args")
    @classmethod
    def _compiles(cls, args: dict[str, str]) -> dict[str, str]:
        for name, pattern in args.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern for {name!r} is not a valid regular expression: {exc}") from exc
        return args

    def _arguments(self) -> list[tuple[str, Loc]]:
        return [(name, ("args", name)) for name in self.args]


class Distinct(_Base):
    """A list argument may not repeat an element."""

    check: Literal["distinct"]
    args: tuple[str, ...] = Field(min_length=1)

    def _arguments(self) -> list[tuple[str, Loc]]:
        return [(name, ("args", index)) for index, name in enumerate(self.args)]


class Within(_Base):
    """A list argument's elements must be in a resource's attribute list, counted."""

    check: Literal["within"]
    arg: str
    resource: str
    """The call argument naming the resource (``order_id``)."""
    kind: str
    attr: str
    """The resource's attribute holding the allowed list (learned facts)."""

    def _arguments(self) -> list[tuple[str, Loc]]:
        return [(self.arg, ("arg",)), (self.resource, ("resource",))]


class Range(_Base):
    """A number within bounds; the number comes from an argument or a quote."""

    check: Literal["range"]
    arg: str | None = None
    """Read the number from this call argument..."""
    quote: str | None = None
    """...or from this field of the quote (the result of ``measure``)."""
    measure: Measure | None = None
    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    le_quote: str | None = None
    """An upper bound read from this field of the same quote."""

    @model_validator(mode="after")
    def _one_source(self) -> Range:
        if (self.arg is None) == (self.quote is None):
            raise ValueError(f"range {self.id!r} needs exactly one of `arg` or `quote`")
        if (self.quote is not None or self.le_quote is not None) and self.measure is None:
            raise ValueError(f"range {self.id!r} reads a quote, so it needs a `measure` to get one")
        return self

    def named_arguments(self, loc: Loc) -> list[NamedArgument]:
        """The argument read, and those the quote is asked with (see :func:`measure_arguments`)."""
        return super().named_arguments(loc) + measure_arguments(
            self.measure, f"constraint {self.id!r}", self.tools, loc
        )

    def _arguments(self) -> list[tuple[str, Loc]]:
        return [(self.arg, ("arg",))] if self.arg is not None else []


class RefundDestination(_Base):
    """Refunds go to the order's original method or a gift card of its customer."""

    check: Literal["refund_destination"]
    order: str = "order_id"
    method: str = "payment_method_id"
    original_attr: str = "original_method"
    """The order's attribute naming its original payment method."""
    source_attr: str = "source"
    """The payment method's attribute naming its kind."""
    gift_card: str = "gift_card"

    def _arguments(self) -> list[tuple[str, Loc]]:
        return [(self.order, ("order",)), (self.method, ("method",))]


Constraint = Annotated[PlainIds | Pattern | Distinct | Within | Range | RefundDestination, Field(discriminator="check")]


FACT_CHECKS = frozenset({"within", "refund_destination"})
"""Checks that read learned facts; the others read only the call and its quotes."""


def check_constraints(
    constraints: tuple[Constraint, ...],
    tool: str,
    args: Mapping[str, Any],
    quotes: Quotes,
    facts: Facts,
    *,
    facts_based: bool | None = None,
) -> PolicyDecision | None:
    """The first constraint ``tool``'s call breaks, as a deny, else ``None``.

    Args:
        constraints: The policy's constraints.
        tool: The tool called.
        args: Its arguments.
        quotes: Quote results by constraint id.
        facts: The thread's facts.
        facts_based: ``False``: only checks of the call itself; ``True``: only
            checks that read facts; ``None``: all.
    """
    for constraint in constraints:
        if not tool_matches(tool, constraint.tools):
            continue
        if facts_based is not None and (constraint.check in FACT_CHECKS) != facts_based:
            continue
        problem = _CHECKS[constraint.check](constraint, args, quotes, facts)
        if problem is not None:
            return deny(constraint.id, constraint.reason or problem, check=constraint.check)
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [] if value is None else [str(value)]


def _plain_ids(c: Any, args: Mapping[str, Any], quotes: Quotes, facts: Facts) -> str | None:
    for name in c.args:
        for value in _strings(args.get(name)):
            plain = value.isascii() and value.isprintable() and not any(ch.isspace() for ch in value)
            if not plain or unicodedata.normalize("NFKC", value) != value:
                return f"{name} {value!r} is not a plain ASCII id (look-alike or hidden characters); use the id exactly"
    return None


def _pattern(c: Any, args: Mapping[str, Any], quotes: Quotes, facts: Facts) -> str | None:
    for name, pattern in c.args.items():
        for value in _strings(args.get(name)):
            if re.fullmatch(pattern, value) is None:
                return f"{name} {value!r} is not a valid id (expected {pattern})"
    return None


def _distinct(c: Any, args: Mapping[str, Any], quotes: Quotes, facts: Facts) -> str | None:
    for name in c.args:
        repeated = sorted(v for v, n in Counter(_strings(args.get(name))).items() if n > 1)
        if repeated:
            return f"{name} repeats {', '.join(repeated)}; name each element once"
    return None


def _within(c: Any, args: Mapping[str, Any], quotes: Quotes, facts: Facts) -> str | None:
    owner_id = args.get(c.resource)
    resource = facts.resource(c.kind, str(owner_id)) if owner_id is not None else None
    allowed = resource.attrs.get(c.attr) if resource else None
    if not isinstance(allowed, list):
        return f"{c.kind} {owner_id} has not been read yet; read it before acting on its {c.attr}"
    held = Counter(str(v) for v in allowed)
    for value, wanted in Counter(_strings(args.get(c.arg))).items():
        if wanted > held.get(value, 0):
            return f"{c.arg} names {value} {wanted} time(s), but {c.kind} {owner_id} holds it {held.get(value, 0)}"
    return None


def _range(c: Any, args: Mapping[str, Any], quotes: Quotes, facts: Facts) -> str | None:
    quote = quotes.get(c.id)
    raw = args.get(c.arg) if c.arg else read_path(quote, c.quote)
    value = _number(raw)
    if value is None:
        return f"{c.arg or c.quote} could not be read as a number, so the call cannot be checked"
    label = c.arg or c.quote
    if c.gt is not None and not value > c.gt:
        return f"{label} {value:g} must be more than {c.gt:g}"
    if c.ge is not None and not value >= c.ge:
        return f"{label} {value:g} must be at least {c.ge:g}"
    if c.le is not None and not value <= c.le:
        return f"{label} {value:g} must be at most {c.le:g}"
    if c.le_quote is not None:
        bound = _number(read_path(quote, c.le_quote))
        if bound is None or not value <= bound:
            return f"{label} {value:g} must be at most {c.le_quote} ({bound if bound is not None else 'unknown'})"
    return None


def _refund_destination(c: Any, args: Mapping[str, Any], quotes: Quotes, facts: Facts) -> str | None:
    order_id, method_id = args.get(c.order), args.get(c.method)
    order = facts.resource("order", str(order_id)) if order_id is not None else None
    method = facts.resource("payment_method", str(method_id)) if method_id is not None else None
    if order is None or method is None:
        return f"read order {order_id} and its customer's payment methods before choosing where money goes"
    if method_id == order.attrs.get(c.original_attr):
        return None
    if method.attrs.get(c.source_attr) == c.gift_card and method.owner is not None and method.owner == order.owner:
        return None
    return (
        f"money for order {order_id} may go only to its original payment method "
        f"{order.attrs.get(c.original_attr)} or to a gift card of the same customer, not to {method_id}"
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


_CHECKS = {
    "plain_ids": _plain_ids,
    "pattern": _pattern,
    "distinct": _distinct,
    "within": _within,
    "range": _range,
    "refund_destination": _refund_destination,
}
