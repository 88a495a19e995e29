"""Data scopes: a thread acts for one customer, and only on what is theirs.

The policy, not a prompt and not the tool server, decides whether an order,
user or payment method named in a call belongs to the customer the thread
identified. It decides from *facts*: who the customer is and who owns what,
learned from the results of read-only tools as the run goes (the guard feeds
every successful result to :func:`learn`). The policy file says how to read
them, so the engine stays domain-neutral and pure.

A small path language reads values out of a call: ``args.order_id`` or
``result.payment_methods``; inside a learned element, ``id`` or
``payment_history.0.payment_method_id``; ``*`` collects every element of a
list (or value of a mapping); ``@`` is the element itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_MISSING = object()


class FetchRule(BaseModel):
    """How to fetch the facts about a resource the policy has not seen yet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    arg: str
    """The read tool's argument that receives the value below."""
    value: Literal["id", "customer"] = "id"
    """``id``: the resource's id; ``customer``: the thread's customer."""


class LearnRule(BaseModel):
    """Read resources and their owner from a read tool's result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: str
    kind: str
    """What the learned ids are (``order``, ``payment_method``...)."""
    each: str | None = None
    """Path to a list or mapping; one resource per element."""
    id: str
    """Path to the id: from the call (``result.order_id``) or, with ``each``,
    within the element (``id``, or ``@`` for the element itself)."""
    owner: str
    """Path (from the call) to the owner's user id."""
    attrs: dict[str, str] = Field(default_factory=dict)
    """Attributes to keep, by path within the element (or the result)."""
    fetch: FetchRule | None = None
    """With this, the guard can call ``tool`` itself to learn a missing resource."""


class Scopes(BaseModel):
    """Which calls are scoped to the thread's customer, and how facts are learned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tools: tuple[str, ...] = Field(min_length=1)
    """Calls whose arguments must all belong to the thread's customer.

    Any other call is let through unchecked, so every tool an agent may call
    that takes one of ``args`` must be here or under ``unscoped``: the graph
    refuses to build otherwise (see
    :func:`~switchboard.policies.loader.check_scope_coverage`)."""
    unscoped: tuple[str, ...] = ()
    """Tools that take one of ``args`` yet are deliberately left unchecked
    (a look-up that must work before the customer is known, a back-office
    report across customers): the explicit opt-out, reviewed with the file."""
    customer_from: tuple[str, ...] = Field(min_length=1)
    """Look-up tools whose (plain string) result is the customer's user id."""
    customer_kind: str = "user"
    """The kind naming the customer themself: its id must equal the customer."""
    args: dict[str, str] = Field(min_length=1)
    """Call argument name to the kind of resource it names."""
    learn: tuple[LearnRule, ...] = ()

    @model_validator(mode="after")
    def _scoped_or_not(self) -> Scopes:
        patterns = [t for t in (*self.tools, *self.unscoped, *self.customer_from, *(r.tool for r in self.learn))
                    if any(char in t for char in "*?[")]  # fmt: skip
        if patterns:
            raise ValueError(
                f"scopes names tools by exact name; {', '.join(dict.fromkeys(patterns))} is a pattern, which the "
                "scope checks would not match (unlike grants and rules): list each tool by its name"
            )
        both = [tool for tool in dict.fromkeys(self.unscoped) if tool in self.tools]
        if both:
            raise ValueError(
                f"scopes lists {', '.join(both)} under both `tools` and `unscoped`: keep it under `tools` to check "
                "that what its calls name belongs to the thread's customer, or under `unscoped` not to"
            )
        return self


@dataclass(frozen=True)
class Resource:
    """Something a call can act on, with its owner."""

    kind: str
    id: str
    owner: str | None
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What a thread has established so far: its customer and who owns what."""

    customers: tuple[str, ...] = ()
    """Every customer id a look-up returned, in order; more than one is a conflict."""
    resources: Mapping[tuple[str, str], Resource] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def customer(self) -> str | None:
        """The thread's customer, if exactly one was identified."""
        return self.customers[0] if len(self.customers) == 1 else None

    def resource(self, kind: str, id_: str) -> Resource | None:
        """The learned resource, if any."""
        return self.resources.get((kind, id_))


@dataclass(frozen=True)
class FactCall:
    """A read call that would establish a missing fact."""

    tool: str
    args: Mapping[str, Any]


def learn(scopes: Scopes | None, facts: Facts, tool: str, args: Mapping[str, Any], result: Any) -> Facts:
    """The facts after a successful call of ``tool`` (pure: returns new facts).

    Args:
        scopes: The policy's scopes; ``None`` learns nothing.
        facts: Facts so far.
        tool: The tool that succeeded.
        args: Its arguments.
        result: Its parsed JSON result (a plain string for an id look-up).
    """
    if scopes is None:
        return facts
    customers = facts.customers
    if tool in scopes.customer_from and isinstance(result, str) and result not in customers:
        customers = (*customers, result)
    resources = dict(facts.resources)
    call = {"args": dict(args), "result": result}
    for rule in scopes.learn:
        if rule.tool != tool:
            continue
        owner = read_path(call, rule.owner)
        owner_id = owner if isinstance(owner, str) else None
        elements = _elements(read_path(call, rule.each)) if rule.each else [call]
        for element in elements:
            id_ = read_path(element, rule.id)
            if not isinstance(id_, str):
                continue
            values = {name: read_path(element, path) for name, path in rule.attrs.items()}
            attrs = {name: value for name, value in values.items() if value is not None}
            known = resources.get((rule.kind, id_))
            merged = {**(known.attrs if known else {}), **attrs}
            resources[(rule.kind, id_)] = Resource(rule.kind, id_, owner_id or (known.owner if known else None), merged)
    return Facts(customers, MappingProxyType(resources))


def read_path(value: Any, path: str | None) -> Any:
    """The value at a dotted path (see module doc); ``None`` where absent."""
    if path is None:
        return None
    if path == "@":
        return value
    current: Any = value
    parts = path.split(".")
    for index, part in enumerate(parts):
        if part == "*":
            rest = ".".join(parts[index + 1 :]) or "@"
            found = [read_path(element, rest) for element in _elements(current)]
            return [item for item in found if item is not None]
        if isinstance(current, Mapping):
            current = current.get(part, _MISSING)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
        if current is _MISSING:
            return None
    return current


def _elements(collection: Any) -> list[Any]:
    if isinstance(collection, Mapping):
        return list(collection.values())
    return list(collection) if isinstance(collection, list) else []


def named_resources(scopes: Scopes, args: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(kind, id)`` of every resource a call's arguments name (lists expanded)."""
    named = []
    for arg, kind in scopes.args.items():
        value = args.get(arg)
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                named.append((kind, str(item)))
    return named


def fact_calls(scopes: Scopes | None, facts: Facts, missing: list[tuple[str, str]]) -> tuple[FactCall, ...]:
    """Read calls that would learn the owners of ``missing`` resources."""
    if scopes is None:
        return ()
    calls: list[FactCall] = []
    for kind, id_ in missing:
        rule = next((r for r in scopes.learn if r.kind == kind and r.fetch is not None), None)
        if rule is None or rule.fetch is None:
            continue
        value = id_ if rule.fetch.value == "id" else facts.customer
        if value is None:
            continue
        call = FactCall(rule.tool, {rule.fetch.arg: value})
        if call not in calls:
            calls.append(call)
    return tuple(calls)
