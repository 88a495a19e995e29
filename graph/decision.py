"""The supervisor's structured routing decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field, create_model


class ParallelStep(BaseModel):
    """One more step to run at the same time as the main one."""

    agent: str = Field(description="The agent for this step.")
    skill: str | None = Field(default=None, description="The skill asked for.")
    instruction: str = Field(description="A self-contained instruction for the agent.")


TOOL_DESCRIPTION = "Decide the supervisor's next move: route a step to an agent, finish, or escalate to a human."


class RoutingDecision(BaseModel):
    """Decide the supervisor's next move: route a step to an agent, finish, or escalate to a human."""

    # Real providers receive this class as a tool schema (with the agent names
    # as an enum, see decision_schema), so its docstring is the tool's
    # description. The graph validates the answer again: a model may ignore a
    # schema.

    action: Literal["route", "finish", "escalate"] = Field(
        description="route: hand a step to an agent; finish: the task is done; escalate: a human must decide."
    )
    agent: str | None = Field(default=None, description="For route: the agent to act next.")
    skill: str | None = Field(default=None, description="For route: the skill asked for.")
    instruction: str = Field(default="", description="For route: a self-contained instruction for the agent.")
    also: list[ParallelStep] = Field(
        default_factory=list,
        description="For route: further steps that do not depend on this one or on each "
        "other, to run at the same time. Leave empty when steps depend on each other.",
    )
    reason: str = Field(description="Why; for escalate, the question for the human.")
    confidence: float = Field(ge=0.0, le=1.0, description="Confidence between 0 and 1.")


def decision_schema(agents: Sequence[str]) -> type[RoutingDecision]:
    """A RoutingDecision whose ``agent`` field lists the agents on offer.

    The tool keeps the name ``RoutingDecision`` so that every model, the
    embedded engine included, recognises it.
    """
    names = tuple(agents)
    if not names:
        return RoutingDecision
    agent_type = Literal[names] | None  # type: ignore[valid-type]
    return create_model(
        "RoutingDecision",
        __base__=RoutingDecision,
        __doc__=TOOL_DESCRIPTION,
        agent=(agent_type, Field(default=None, description="For route: the agent to act next.")),
    )
