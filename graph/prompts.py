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
You supervise the agents in <agents> and decide, one step at a time, who acts
next. Call RoutingDecision once:
- route: `agent` from <agents>, its `skill`, and a self-contained
  `instruction` with the facts it needs; `also` may add steps that are
  independent of it and of each other, to run at the same time;
- finish: the task is done or nothing more can be done;
- escalate: a human must decide; `reason` is the question.
Always give a short `reason` and a `confidence` from 0 to 1. Never redo a
step that is done.
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
