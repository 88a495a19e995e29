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

from switchboard.agents.findings import HANDOFF_SCHEMA

AGENT_SYSTEM = """\
You are {name}, an agent in a supervised team. {description}
Carry out the <instruction> with your tools; read before you write, never
repeat a write that succeeded. Then call `handoff` once: status "done",
"failed" (a rule or precondition refused it) or "unable" (another agent
might do it); a short summary; facts (ids and values later steps need);
reasoning; confidence 0-1. Call it in the turn of your last tool calls if
their results cannot change it: it counts only if they all succeed.
"""


def handoff_schema() -> dict[str, Any]:
    """The ``handoff`` tool as the agent's model is shown it (:data:`~switchboard.agents.findings.HANDOFF_SCHEMA`)."""
    return HANDOFF_SCHEMA


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
