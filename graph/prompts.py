"""The supervisor's prompt.

The routing prompt is plain text with a few tagged JSON blocks. Tags keep the
parts unambiguous for a real LLM, and they are the documented contract that
the embedded engine reads, so that neither needs to know the other exists:

``<task>``
    The task as the user wrote it.
``<agents>``
    A JSON list of the agents on offer, compact: ``{"name", "description"}``
    (its first sentence), plus live ``load``, ``error_rate`` and
    ``available``/``unavailable_because`` when known, ``cost_tier`` when not
    standard, and ``backup_for`` (the agents it takes over from) for a
    fallback. (Full card views with ``"skills": [{"id", ...}]`` are read too.)
``<skills>``
    A JSON list of every distinct skill on offer, once:
    ``{"id", "description", "agents": [names offering it], "writes"}``,
    with ``"examples"`` only when the shortlist is ambiguous.
``<progress>``
    A JSON list of what has happened so far, oldest first. Each entry is a
    handoff ``{"kind": "handoff", "agent", "skill", "instruction", "status",
    "summary", "facts", "confidence"}`` or a human answer ``{"kind": "human",
    "question", "approved", "note"}``. Raw agent transcripts never appear here.
``<context>``
    The shared memory: a JSON object of facts merged from every handoff.
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
- route: `agent` from <agents>, a `skill` it offers from <skills>, and a
  self-contained `instruction` with the facts it needs;
- finish: the task is done or nothing more can be done;
- escalate: a human must decide; `reason` is the question.
Always give a short `reason` and a `confidence` from 0 to 1. Never redo a
step that is done.
Plan: with a route, `plan` may list the steps you expect after this one, in
order ({agent, skill, instruction}); they run without asking you again
while each step succeeds, and you decide again when one does not. Leave it
empty when the next steps depend on what this one finds.
Parallel steps: `also` may add steps to run at the same time as the main
one, only when they are independent (neither needs the other's result), use
different skills and different agents (never an agent with its backup), and
no step that writes (`"writes": true`) touches a record another step reads
or writes. When unsure, route one step.
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
    return (
        "You supervise the agents in <agents> and decide, one step at a time, who acts\nnext. " + _HOW[method] + _RULES
    )


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
        context: The shared memory of facts.
        feedback: Why the previous answer was refused, on a retry.
        skills: Every distinct skill on offer, once (see ``<skills>``).
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
