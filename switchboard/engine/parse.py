"""Reading the tagged prompt blocks the graph writes for the model.

``graph/prompts.py`` and ``agents/prompts.py`` document the contract: a human
message of ``<tag>`` blocks. This module turns those messages back into
typed values, and an agent's tool calls and results into a history of
:class:`~switchboard.engine.playbook.Step`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from switchboard.engine.playbook import Step

_ROUTING_TAGS = ("task", "agents", "skills", "progress", "context", "feedback")
_AGENT_TAGS = ("task", "instruction", "skill", "context")


def blocks(text: str, tags: Sequence[str]) -> dict[str, str]:
    """The bodies of the ``<tag>`` blocks in ``text``, by tag.

    A block ends at its closing tag when that is followed by the next block or
    the end of the text, so a task that itself mentions ``</task>`` survives.
    """
    names = "|".join(tags)
    found: dict[str, str] = {}
    for tag in tags:
        pattern = rf"<{tag}>\n(.*?)\n</{tag}>(?=\n\n<(?:{names})>\n|\s*\Z)"
        match = re.search(pattern, text, re.DOTALL)
        if match and tag not in found:
            found[tag] = match.group(1)
    return found


def _json(body: str | None, default: Any) -> Any:
    if body is None:
        return default
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return default


def _first_human(messages: Sequence[BaseMessage]) -> str:
    for message in messages:
        if isinstance(message, HumanMessage):
            return message.text
    return ""


@dataclass(frozen=True)
class RoutingPrompt:
    """The supervisor's view of a run, read from the routing messages."""

    task: str
    agents: list[dict[str, Any]]
    progress: list[dict[str, Any]]
    context: dict[str, Any]
    feedback: str | None


def read_routing(messages: Sequence[BaseMessage]) -> RoutingPrompt:
    """Read the routing blocks; a message without blocks is taken as the task itself."""
    text = _first_human(messages)
    found = blocks(text, _ROUTING_TAGS)
    agents = _with_skills(_json(found.get("agents"), []), _json(found.get("skills"), []))
    progress = _json(found.get("progress"), [])
    progress = [p for p in progress if isinstance(p, dict)] if isinstance(progress, list) else []
    context = _json(found.get("context"), {})
    return RoutingPrompt(
        task=found.get("task", text).strip(),
        agents=[a for a in agents if isinstance(a, dict)] if isinstance(agents, list) else [],
        progress=progress,
        context=_memory(progress, context if isinstance(context, dict) else {}),
        feedback=(found.get("feedback") or "").strip() or None,
    )


def with_cards(prompt: RoutingPrompt, cards: Mapping[str, Mapping[str, Any]]) -> RoutingPrompt:
    """``prompt`` with each agent on offer filled in from its full card: description, skill descriptions, examples.

    Only agents and skills the prompt lists are filled in, so what is on
    offer (load, health, the shortlist) is still the prompt's to say.
    """
    if not cards:
        return prompt
    agents = []
    for agent in prompt.agents:
        card = cards.get(str(agent.get("name")))
        if card is None:
            agents.append(agent)
            continue
        known = card.get("skills") or {}
        skills = [
            {**known.get(str(s.get("id")), {}), **{k: v for k, v in s.items() if v}} if isinstance(s, dict) else s
            for s in agent.get("skills") or []
        ]
        agents.append({**agent, "description": card.get("description") or agent.get("description"), "skills": skills})
    return replace(prompt, agents=agents)


def _with_skills(agents: Any, skills: Any) -> Any:
    """Cards whose skills are full entries ``{"id", "description", "examples"}``.

    A card lists its skill ids in ``"skills"`` and, for those that change
    records, ``"writes"``; the ``<skills>`` block, when sent, describes each
    skill once. A card with
    skill entries already (a full card view) is kept as it is; so is one
    without skills, completed from a ``<skills>`` block that names the
    agents offering each skill (the earlier form).
    """
    if not isinstance(agents, list):
        return agents
    entries = [s for s in skills if isinstance(s, dict) and "id" in s] if isinstance(skills, list) else []
    by_id = {str(s["id"]): s for s in entries}
    for card in agents:
        if not isinstance(card, dict):
            continue
        listed, writes = card.get("skills"), card.get("writes")
        if listed is None and writes is None:
            card["skills"] = [s for s in entries if card.get("name") in (s.get("agents") or [])]
        elif isinstance(listed or [], list) and isinstance(writes or [], list):
            card["skills"] = [_skill(s, by_id, False) for s in listed or []]
            card["skills"] += [_skill(s, by_id, True) for s in writes or []]
    return agents


def _skill(listed: Any, by_id: Mapping[str, Mapping[str, Any]], writes: bool) -> Any:
    if not isinstance(listed, str):
        return listed  # a full skill entry
    entry = {"id": listed, **by_id.get(listed, {})}
    if writes:
        entry["writes"] = True
    return entry


def _memory(progress: Sequence[Mapping[str, Any]], context: Mapping[str, Any]) -> dict[str, Any]:
    """The whole shared memory: each done handoff's facts, in order, over the facts sent in ``<context>``."""
    memory = dict(context)
    for entry in progress:
        facts = entry.get("facts")
        if entry.get("kind", "handoff") == "handoff" and entry.get("status") == "done" and isinstance(facts, dict):
            memory.update(facts)
    return memory


@dataclass(frozen=True)
class AgentPrompt:
    """An agent's view of its step: the blocks plus the tool calls so far."""

    task: str
    instruction: str
    skill: str | None
    context: dict[str, Any]
    history: tuple[Step, ...]


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks, as some adapters return them
        parts = [b.get("text", "") if isinstance(b, Mapping) else str(b) for b in content]
        return "".join(parts)
    return str(content)


def _step(message: ToolMessage, calls: Mapping[str, tuple[str, dict[str, Any]]]) -> Step:
    name, args = calls.get(message.tool_call_id, (message.name or "", {}))
    text = _content_text(message.content)
    if message.status == "error" or text.lstrip().lower().startswith("error"):
        return Step(name, args, ok=False, error=text.strip() or "the tool reported an error")
    try:
        result: Any = json.loads(text)
    except json.JSONDecodeError:
        result = text
    return Step(name, args, ok=True, result=result)


def read_agent(messages: Sequence[BaseMessage]) -> AgentPrompt:
    """Read the agent blocks and rebuild the history from tool calls and results."""
    found = blocks(_first_human(messages), _AGENT_TAGS)
    context = _json(found.get("context"), {})
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    history: list[Step] = []
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                calls[call.get("id") or ""] = (call["name"], dict(call["args"]))
        elif isinstance(message, ToolMessage):
            history.append(_step(message, calls))
    return AgentPrompt(
        task=found.get("task", "").strip(),
        instruction=found.get("instruction", "").strip(),
        skill=(found.get("skill") or "").strip() or None,
        context=context if isinstance(context, dict) else {},
        history=tuple(history),
    )
