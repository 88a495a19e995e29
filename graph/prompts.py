"""The supervisor's prompt.

The routing prompt is plain text with a few tagged JSON blocks. Tags keep the
parts unambiguous for a real LLM, and they are the documented contract that
the embedded engine reads, so that neither needs to know the other exists:

``<task>``
    The task as the user wrote it.
``<agents>``
    A JSON list of the shortlisted agent cards:
    ``{"name", "description", "skills": [{"id", "description", "examples"}], "tools"}``.
``<progress>``
    A JSON list of what has happened so far, oldest first. Each entry is a
    handoff ``{"kind": "handoff", "agent", "skill", "instruction", "status",
    "summary", "facts", "confidence"}`` or a human answer ``{"kind": "human",
    "question", "approved", "note"}``. Raw agent transcripts never appear here.
``<context>``
    The shared memory: a JSON object of facts merged from every handoff.
``<feedback>``
    Only on a retry: why the previous decision was refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

SUPERVISOR_SYSTEM = """\
You are the supervisor of a team of agents. You never do the work yourself:
you decide, one step at a time, which agent should act next.

Call the RoutingDecision tool exactly once:
- action "route": give `agent` (one of the names in <agents>), the `skill` you
  want from it, and a self-contained `instruction` with the facts it needs.
- action "finish": the task is done, or nothing more can be done; say why.
- action "escalate": a human must decide (missing information you cannot get,
  a failed step, a risky or ambiguous request); the `reason` is the question.
Always give a short `reason` and your `confidence` between 0 and 1.
Do not route the same skill twice for the same purpose once it is done.
"""


def _block(tag: str, payload: Any) -> str:
    body = payload if isinstance(payload, str) else json.dumps(payload, indent=1, default=str)
    return f"<{tag}>\n{body}\n</{tag}>"


def routing_messages(
    task: str,
    cards: Sequence[Mapping[str, Any]],
    progress: Sequence[Mapping[str, Any]],
    context: Mapping[str, Any],
    feedback: str | None = None,
) -> list[BaseMessage]:
    """Build the messages for one routing decision.

    Args:
        task: The user's task.
        cards: Prompt views of the agent cards on offer.
        progress: Handoff and human-answer entries so far.
        context: The shared memory of facts.
        feedback: Why the previous answer was refused, on a retry.

    Returns:
        A system message and one human message holding the tagged blocks.
    """
    parts = [
        _block("task", task),
        _block("agents", list(cards)),
        _block("progress", list(progress)),
        _block("context", dict(context)),
    ]
    if feedback:
        parts.append(_block("feedback", feedback))
    return [SystemMessage(SUPERVISOR_SYSTEM), HumanMessage("\n\n".join(parts))]
