"""The ``handoff`` tool: how an agent finishes its step.

An agent ends by calling ``handoff`` with its findings. Making the end a tool
call (rather than free text) gives real LLMs and the embedded engine the same
structured way out, and gives the supervisor findings, reasoning and a
confidence instead of a transcript.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

HANDOFF_TOOL = "handoff"

SUMMARY_MAX_CHARS = 4_000
"""Longest ``summary`` a handoff may carry, in characters (about a page of text).

Every later routing prompt of the thread carries each handoff's summary and
facts, so one oversized handoff makes every later request too long for the
model's context, and the thread can never move on. Real summaries are one or
two sentences; the limit only stops a model that pastes whole records."""

REASONING_MAX_CHARS = 4_000
"""Longest ``reasoning`` a handoff may carry, in characters (kept in the trail and shown to people)."""

FACTS_MAX_CHARS = 8_000
"""Longest ``facts`` a handoff may carry, measured as compact JSON, in characters.

Facts are ids and values later steps need (the shipped retail flows hand off
well under 1 KB); records themselves stay with the tools that return them.
Like the summary, they are sent with every later routing prompt."""

_CLIPPED = " … (clipped)"


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
    confidence: float = Field(default=0.5, ge=0.0, le=1.0, description="Between 0 and 1.")
    """Unstated, it is 0.5: below the plan's threshold (``graph.plan.PLAN_CONFIDENCE``), so a
    handoff that says nothing of its confidence sends the run back to the routing model rather
    than on to the next planned step as if it were sure."""

    @field_validator("summary", "reasoning", mode="after")
    @classmethod
    def _clip(cls, text: str, info: ValidationInfo) -> str:
        """Findings the graph writes itself (a provider's error, say) are clipped, never refused.

        A step that failed must still hand back; a refusal here would crash
        the step instead. What a model sends is checked first, and refused
        (see :class:`HandoffArgs`), so the model can say it again briefly.
        """
        return clipped(text, SUMMARY_MAX_CHARS if info.field_name == "summary" else REASONING_MAX_CHARS)


def clipped(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """``text`` cut to ``limit`` characters, marked as cut: for what the graph writes into a handoff itself."""
    return text if len(text) <= limit else text[: limit - len(_CLIPPED)] + _CLIPPED


class HandoffArgs(Findings):
    """Finish your step and hand your findings to the supervisor.

    The arguments are refused (a ``ValidationError``, answered to the model
    so it hands off again) when ``summary`` is over :data:`SUMMARY_MAX_CHARS`,
    ``reasoning`` over :data:`REASONING_MAX_CHARS` or ``facts`` as JSON over
    :data:`FACTS_MAX_CHARS` characters: an oversized handoff would overflow
    every later prompt of the thread.
    """

    # The model-facing arguments of ``handoff``: the same fields, minus the
    # status only the graph may set.
    status: Literal["done", "failed", "unable"] = Field(
        description="done: the instruction is carried out; failed: it cannot be carried out "
        "(a business rule or precondition refused it); unable: you could not do it yourself "
        "(missing tool or skill, an internal error) and another agent might."
    )

    @field_validator("summary", mode="before")
    @classmethod
    def _short_summary(cls, text: Any) -> Any:
        """Refuse a summary that would overflow later prompts, before it is clipped as the graph's own would be."""
        return _within(text, "summary", SUMMARY_MAX_CHARS, "one or two sentences")

    @field_validator("reasoning", mode="before")
    @classmethod
    def _short_reasoning(cls, text: Any) -> Any:
        """Refuse over-long reasoning, which the trail keeps and people read."""
        return _within(text, "reasoning", REASONING_MAX_CHARS, "a sentence or two on why")

    @field_validator("facts", mode="after")
    @classmethod
    def _small_facts(cls, facts: dict[str, Any]) -> dict[str, Any]:
        """Refuse facts too large to send with every later routing prompt."""
        size = len(json.dumps(facts, separators=(",", ":"), ensure_ascii=False, default=str))
        if size > FACTS_MAX_CHARS:
            raise ValueError(
                f"facts are {size} characters as JSON, over the limit of {FACTS_MAX_CHARS}; "
                "hand off again with only the ids and short values later steps need "
                "(user_id, order_id, item_ids, ...), not whole records"
            )
        return facts


def _within(text: Any, field: str, limit: int, instead: str) -> Any:
    """``text`` unchanged, or a ``ValueError`` (not echoing the text) if it is a string over ``limit``.

    The message names the field, its length and the limit, so the model
    knows exactly what to shorten; the text itself is left out, since
    repeating it would put the oversized text back into the model's context.
    """
    if isinstance(text, str) and len(text) > limit:
        raise ValueError(
            f"{field} is {len(text)} characters, over the limit of {limit}; "
            f"hand off again with {instead} (ids and values go in facts)"
        )
    return text


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
