"""The supervisor's prompt.

The routing prompt is plain text with a few tagged JSON blocks. Tags keep the
parts unambiguous for a real LLM, and they are the documented contract that
the embedded engine reads, so that neither needs to know the other exists:

``<task>``
    The task as the user wrote it.
``<agents>``
    A JSON list of the agents on offer, compact: ``{"name", "description"}``
    (its first sentence), its skill ids split in ``"skills"`` (those that
    change nothing outside the run) and ``"writes"`` (those that change
    records), each omitted when empty, plus ``load`` and ``error_rate`` when the
    agent is busy or has failed lately, ``available``/``unavailable_because``
    when it cannot take work, ``cost_tier`` when not standard, and
    ``backup_for`` (the agents it takes over from) for a fallback. (Full card
    views with ``"skills": [{"id", ...}]`` are read too.)
``<skills>``
    Only when the shortlist is ambiguous (its best cards match the task
    about equally): a JSON list of every distinct skill on offer, once,
    ``{"id", "description", "examples"}``.
``<progress>``
    A JSON list of the current turn so far, oldest first: handoff records
    ``{"agent", "skill", "status", "summary", "facts", "confidence"}``, with
    the ``"instruction"`` when the status is not ``done``, and human answers
    ``{"kind": "human", "question", "approved", "note"}``. Raw agent
    transcripts never appear here.
``<context>``
    The shared memory, less what ``<progress>`` shows: the facts of earlier
    turns that no done handoff here has restated. The whole memory is these
    overlaid with each done handoff's facts, in order.
``<feedback>``
    Only on a retry: why the previous decision was refused.

The system prompt says how to answer: with the ``RoutingDecision`` tool
(``function_calling``) or with one JSON object (``json_schema``,
``json_mode``; the latter carries the schema in the prompt, because the
provider is not given one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

_RULES = """\
- route: `agent` from <agents>, one of its `skills` or `writes` (skills that
  change records), and a self-contained `instruction` with the facts it needs;
- finish: the task is done or nothing more can be done;
- escalate: a human must decide; `reason` is the question.
Give a short `reason` and a `confidence` (0-1). Never redo a done step.
`plan`: the steps you expect after this one, in order; they run without
asking you while each succeeds. Leave it empty if they depend on what this
step finds.
`also`: steps to run at the same time, only if independent, with other
skills and agents (never an agent with its backup), and no `writes` skill
touching a record another step uses. When unsure, route one step.
<progress>: this turn's handoffs; <context>: facts known before them.
"""

_HOW = {
    "function_calling": "Call the RoutingDecision tool once:\n",
    "json_schema": "Answer with one JSON object that matches the RoutingDecision schema, and nothing else:\n",
    "json_mode": (
        "Answer with one JSON object and nothing else, with the fields action, agent, skill,\n"
        "instruction, also and plan (lists of {agent, skill, instruction}), reason and confidence:\n"
    ),
}

_AGAIN = {
    "function_calling": "Answer again with the RoutingDecision tool.",
    "json_schema": "Answer again with one JSON object matching the RoutingDecision schema.",
    "json_mode": "Answer again with one JSON object with the RoutingDecision fields.",
}


def supervisor_system(method: str = "function_calling") -> str:
    """The supervisor's system prompt for a structured-output ``method``."""
    return "You supervise the agents in <agents> and decide who acts next. " + _HOW[method] + _RULES


SUPERVISOR_SYSTEM = supervisor_system()
"""The system prompt for tool calling (the default method)."""


def refusal_feedback(error: str, method: str = "function_calling") -> str:
    """What the model is told when its answer was refused, worded for its ``method``."""
    return f"Your previous answer was refused: {error}. {_AGAIN[method]}"


def _block(tag: str, payload: Any) -> str:
    body = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"), default=str)
    return f"<{tag}>\n{body}\n</{tag}>"


def routing_messages(
    task: str,
    cards: Sequence[Mapping[str, Any]],
    progress: Sequence[Mapping[str, Any]],
    context: Mapping[str, Any],
    feedback: str | None = None,
    *,
    skills: Sequence[Mapping[str, Any]] = (),
    method: str = "function_calling",
) -> list[BaseMessage]:
    """Build the messages for one routing decision.

    Args:
        task: The user's task.
        cards: Prompt views of the agent cards on offer.
        progress: Handoff and human-answer entries so far.
        context: The facts ``progress`` does not show (see ``<context>``).
        feedback: Why the previous answer was refused, on a retry.
        skills: Every distinct skill on offer, once, when the shortlist is ambiguous (see ``<skills>``).
        method: The structured-output method the answer must use.

    Returns:
        A system message and one human message holding the tagged blocks.
    """
    parts = [
        _block("task", task),
        _block("agents", list(cards)),
        *([_block("skills", list(skills))] if skills else []),
        _block("progress", list(progress)),
        _block("context", dict(context)),
    ]
    if feedback:
        parts.append(_block("feedback", feedback))
    return [SystemMessage(supervisor_system(method)), HumanMessage("\n\n".join(parts))]
