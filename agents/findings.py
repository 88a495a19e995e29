"""The ``handoff`` tool: how an agent finishes its step.

An agent ends by calling ``handoff`` with its findings. Making the end a tool
call (rather than free text) gives real LLMs and the embedded engine the same
structured way out, and gives the supervisor findings, reasoning and a
confidence instead of a transcript.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel, Field

HANDOFF_TOOL = "handoff"


FindingsStatus = Literal["done", "failed", "unable", "rejected"]
"""``rejected`` is never the model's to say: the graph sets it when a human
rejects one of the agent's held tool calls."""


class Findings(BaseModel):
    """What an agent step hands back to the supervisor."""

    status: FindingsStatus
    summary: str = Field(description="One or two sentences on what was done or found.")
    facts: dict[str, Any] = Field(
        default_factory=dict,
        description="Ids and values the next agent needs (user_id, order_id, item_ids, ...).",
    )
    reasoning: str = Field(default="", description="Why the agent acted as it did.")
    confidence: float = Field(default=0.8, ge=0.0, le=1.0, description="Between 0 and 1.")


class HandoffArgs(Findings):
    """Finish your step and hand your findings to the supervisor."""

    # The model-facing arguments of ``handoff``: the same fields, minus the
    # status only the graph may set.
    status: Literal["done", "failed", "unable"] = Field(
        description="done: the instruction is carried out; failed: it cannot be carried out "
        "(a business rule or precondition refused it); unable: you could not do it yourself "
        "(missing tool or skill, an internal error) and another agent might."
    )


HANDOFF_SCHEMA: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": HANDOFF_TOOL,
        "description": "End your step with your findings.",
        "parameters": {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["done", "failed", "unable"]},
                "summary": {"type": "string"},
                "facts": {"type": "object"},
                "reasoning": {"type": "string"},
                "confidence": {"type": "number"},
            },
            "required": ["status", "summary"],
        },
    },
}
"""What a model is shown of ``handoff``: names and types only, bound to every agent call.

The fields are explained once, in the agent's system prompt
(:data:`switchboard.agents.prompts.AGENT_SYSTEM`), rather than again in each
property; the call is still validated against :class:`HandoffArgs` (the
range of ``confidence`` included)."""


def handoff_tool_schema() -> dict[str, Any]:
    """The OpenAI-style tool schema of ``handoff``, for ``bind_tools`` (a copy, free to edit)."""
    return copy.deepcopy(HANDOFF_SCHEMA)
