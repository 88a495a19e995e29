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


TOOL_DESCRIPTION = "Decide the supervisor's next move: route a step to an agent, finish, or escalate to a human."


class RoutingDecision(BaseModel):
    """Decide the supervisor's next move: route a step to an agent, finish, or escalate to a human."""

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
        """The JSON schema, generated once per class and arguments.

        LangChain derives it on every structured call (for the tool, and
        again for LangSmith's metadata, tracing on or off); generating it
        took longer than everything else the supervisor does per decision.
        """
        key = (cls, args, tuple(sorted(kwargs.items())))
        schema = _SCHEMAS.get(key)
        if schema is None:
            if len(_SCHEMAS) >= 512:  # one class per offer (decision_schema): keep the cache bounded
                _SCHEMAS.clear()
            schema = _SCHEMAS[key] = super().model_json_schema(*args, **kwargs)
        return copy.deepcopy(schema)  # callers may edit theirs


_SCHEMAS: dict[tuple[Any, ...], dict[str, Any]] = {}


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
