"""The supervisor's structured routing decision."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model


class ParallelStep(BaseModel):
    """One more step to run at the same time as the main one."""

    agent: str
    skill: str | None = None
    instruction: str


class PlanStep(BaseModel):
    """A step the supervisor expects to route after the current one."""

    agent: str
    skill: str | None = None
    instruction: str


TOOL_DESCRIPTION = "Route the next step to an agent, finish, or escalate to a human."


class RoutingDecision(BaseModel):
    """Route the next step to an agent, finish, or escalate to a human."""

    # Real providers receive this class as a tool schema (with the agent names
    # as an enum, see decision_schema), so its docstring is the tool's
    # description. The graph validates the answer again: a model may ignore a
    # schema.
    # Field meanings are explained once, in the supervisor's system prompt,
    # to keep every routing call short.
    action: Literal["route", "finish", "escalate"]
    agent: str | None = None
    skill: str | None = None
    instruction: str = ""
    also: list[ParallelStep] = Field(default_factory=list)
    plan: list[PlanStep] = Field(default_factory=list)
    # The rest of the plan, in order, after this step (and its ``also``
    # steps). The supervisor follows it without another model call while
    # each step comes back done and unsurprising (see graph/plan.py).
    reason: str
    confidence: float = Field(ge=0.0, le=1.0)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The compact JSON schema providers receive, generated once per class and arguments.

        Compact: no titles, no defaults, no per-item descriptions, and an
        optional field typed as its value rather than ``anyOf`` it or null
        (it is optional by not being required). That is still a valid JSON
        schema that OpenAI and Anthropic accept as a tool, at under half the
        tokens of pydantic's, sent with every routing call. The answer is
        validated by the model class itself, ranges included.

        Generated once because LangChain derives it on every structured call
        (for the tool, and again for LangSmith's metadata, tracing on or off);
        generating it took longer than everything else the supervisor does
        per decision.
        """
        key = (cls, args, tuple(sorted(kwargs.items())))
        schema = _SCHEMAS.get(key)
        if schema is None:
            if len(_SCHEMAS) >= 512:  # one class per offer (decision_schema): keep the cache bounded
                _SCHEMAS.clear()
            schema = _SCHEMAS[key] = compact_schema(super().model_json_schema(*args, **kwargs), top=True)
        return copy.deepcopy(schema)  # callers may edit theirs


_SCHEMAS: dict[tuple[Any, ...], dict[str, Any]] = {}
_DROPPED = frozenset({"title", "default", "minimum", "maximum"})


def compact_schema(schema: Any, *, top: bool = False) -> Any:
    """``schema`` without what a model does not need to answer well.

    Drops defaults, numeric bounds, and the titles and descriptions of nested
    schemas (the top level keeps its own: they are the tool's name and
    description), and
    turns ``anyOf: [X, {"type": "null"}]`` into ``X``.
    """
    if isinstance(schema, list):
        return [compact_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    options = schema.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        (kept,) = [option for option in options if option != {"type": "null"}]
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        return compact_schema({**rest, **kept}, top=top)
    compact: dict[str, Any] = {}
    for name, value in schema.items():
        if (name in _DROPPED and not (top and name == "title")) or (name == "description" and not top):
            continue
        if name == "properties" and isinstance(value, dict):
            compact[name] = {prop: compact_schema(sub) for prop, sub in value.items()}
        else:
            compact[name] = compact_schema(value)
    return compact


def decision_schema(agents: Sequence[str]) -> type[RoutingDecision]:
    """A RoutingDecision whose ``agent`` field lists the agents on offer.

    The tool keeps the name ``RoutingDecision`` so that every model, the
    embedded engine included, recognises it.
    """
    names = tuple(agents)
    if not names:
        return RoutingDecision
    agent_type = Literal[names] | None  # type: ignore[valid-type]
    return create_model("RoutingDecision", __base__=RoutingDecision, __doc__=TOOL_DESCRIPTION, agent=(agent_type, None))
