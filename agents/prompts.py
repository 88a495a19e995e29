"""An agent's prompt.

Like the supervisor's, it is plain text with tagged blocks (``<task>``,
``<instruction>``, ``<skill>``, ``<context>``) so that a real LLM and the
embedded engine read the same thing. The agent finishes by calling the
``handoff`` tool with its findings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from switchboard.agents.findings import HANDOFF_TOOL

AGENT_SYSTEM = """\
You are {name}, one agent in a team run by a supervisor.
{description}

Work only on the instruction you were given, using your tools. Read before you
write, and never repeat a write that succeeded. When you are done, or cannot go
on, call the `handoff` tool once with:
- status: "done"; "failed" when a rule or precondition refused it; "unable"
  when you cannot do it yourself and another agent might;
- summary: one or two sentences on what you did or found;
- facts: the ids and values the next agent will need (for example user_id,
  order_id, item_ids, payment_method_id, amount);
- reasoning: why you did what you did;
- confidence: between 0 and 1.
When your last tool calls cannot change what you will report, call `handoff`
in the same turn: it counts only if all of them succeed.
"""


_HANDOFF_SCHEMA: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": HANDOFF_TOOL,
        "description": "Finish your step and hand your findings to the supervisor.",
        "parameters": {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["done", "failed", "unable"]},
                "summary": {"type": "string"},
                "facts": {"type": "object"},
                "reasoning": {"type": "string"},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "required": ["status", "summary"],
        },
    },
}


def handoff_schema() -> dict[str, Any]:
    """The ``handoff`` tool as the agent's model is shown it.

    Its fields are explained once, in the system prompt, so the schema
    carries none of :class:`~switchboard.agents.findings.HandoffArgs`'
    descriptions; the answer is still validated against ``HandoffArgs``.
    """
    return _HANDOFF_SCHEMA


def agent_messages(
    *,
    name: str,
    description: str,
    task: str,
    instruction: str,
    skill: str | None,
    context: Mapping[str, Any],
    instructions: str = "",
) -> list[BaseMessage]:
    """Build the opening messages of one agent step.

    ``instructions`` (an ``AgentSpec``'s prompt) go at the end of the system
    prompt, after the rules every agent follows.
    """
    parts = [f"<task>\n{task}\n</task>", f"<instruction>\n{instruction}\n</instruction>"]
    if skill:
        parts.append(f"<skill>\n{skill}\n</skill>")
    parts.append(f"<context>\n{json.dumps(dict(context), separators=(',', ': '), default=str)}\n</context>")
    system = AGENT_SYSTEM.format(name=name, description=description)
    if instructions:
        system += f"\n{instructions.strip()}\n"
    return [
        SystemMessage(system),
        HumanMessage("\n\n".join(parts)),
    ]
