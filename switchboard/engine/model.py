"""The embedded default model: a deterministic engine dressed as a chat model.

Nothing else in the graph knows it is not an LLM. It is bound to tools like
any tool-calling model and answers every call with one ``AIMessage`` holding
exactly one tool call and a short explanation. The bound tools choose the
mode:

* ``RoutingDecision`` bound: it is the supervisor (see :mod:`.router`);
* ``handoff`` bound: it is an agent running a playbook recipe (see :mod:`.agent`).

Same messages in, same message out: tool-call ids are a hash of the input.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, field_validator

from switchboard.engine.agent import act
from switchboard.engine.parse import read_agent, read_routing, with_cards
from switchboard.engine.playbook import EMPTY_PLAYBOOK, Call, Handoff, Playbook, load_playbook
from switchboard.engine.router import decide
from switchboard.errors import ConfigError

ROUTING_TOOL = "RoutingDecision"
"""The tool whose presence puts the model in routing (supervisor) mode."""
HANDOFF_TOOL = "handoff"
"""The tool whose presence puts the model in agent mode."""


class EmbeddedChatModel(BaseChatModel):
    """A transparent, rule-based stand-in for an LLM, driven by a domain playbook.

    Example:
        >>> model = EmbeddedChatModel(playbook="switchboard.domains.retail.playbook:PLAYBOOK")
        >>> supervisor = model.with_structured_output(RoutingDecision)  # doctest: +SKIP
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    playbook: Playbook = Field(default=EMPTY_PLAYBOOK)
    """The domain knowledge; a ``"module:ATTR"`` string is loaded on construction."""
    cards: Mapping[str, Mapping[str, Any]] = Field(default_factory=dict)
    """The team's cards as the engine may know them (see :func:`card_views`).

    The routing prompt is compact for a real model: cards by name, a line of
    description and skill ids, with examples only when the shortlist is
    ambiguous. A model that knows the world reads "Is my dog vaccinated?"
    into a nurse's ``check_vaccines``; this engine matches words, so it
    reads the full cards of the agents on offer instead."""

    @field_validator("playbook", mode="before")
    @classmethod
    def _load(cls, value: Any) -> Any:
        return load_playbook(value) if isinstance(value, str) else value

    @property
    def _llm_type(self) -> str:
        return "switchboard-embedded"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"playbook": self.playbook.name}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools the usual way; the engine always calls exactly one of them."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = respond(self.playbook, messages, kwargs.get("tools") or [], self.cards)
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Pure CPU work of well under a millisecond: no need for a thread.
        return self._generate(messages, stop, None, **kwargs)


def _tool_names(tools: Sequence[Any]) -> list[str]:
    names = []
    for tool in tools:
        spec = tool if isinstance(tool, dict) and "function" in tool else convert_to_openai_tool(tool)
        names.append(str(spec["function"]["name"]))
    return names


def respond(
    playbook: Playbook,
    messages: Sequence[BaseMessage],
    tools: Sequence[Any],
    cards: Mapping[str, Mapping[str, Any]] | None = None,
) -> AIMessage:
    """The engine's answer to ``messages`` given the bound ``tools`` (and the team's ``cards``, for routing).

    Raises:
        ConfigError: Neither ``RoutingDecision`` nor ``handoff`` is bound, so the
            engine does not know what it is being asked to do.
    """
    names = _tool_names(tools)
    if ROUTING_TOOL in names:
        decision = decide(playbook, with_cards(read_routing(messages), cards or {}))
        target = f" -> {decision.agent} ({decision.skill})" if decision.agent else ""
        content = f"{decision.action}{target}: {decision.reason}"
        return _message(messages, names, content, ROUTING_TOOL, decision.args())
    if HANDOFF_TOOL in names:
        tool_set = frozenset(n for n in names if n != HANDOFF_TOOL)
        move = act(playbook, read_agent(messages), tool_set)
        if isinstance(move, Call):
            return _message(messages, names, move.why, move.tool, dict(move.args))
        return _message(messages, names, _handoff_text(move), HANDOFF_TOOL, _handoff_args(move))
    raise ConfigError(
        f"The embedded engine was bound to tools {names}, but it needs either "
        f"'{ROUTING_TOOL}' (supervisor) or '{HANDOFF_TOOL}' (agent) among them; "
        "bind one of those, or configure a real LLM for this use."
    )


def _handoff_args(move: Handoff) -> dict[str, Any]:
    return {
        "status": move.status,
        "summary": move.summary,
        "facts": dict(move.facts),
        "reasoning": move.reasoning or move.summary,
        "confidence": move.confidence,
    }


def _handoff_text(move: Handoff) -> str:
    return f"handoff ({move.status}): {move.summary}"


def _message(
    messages: Sequence[BaseMessage], names: list[str], content: str, tool: str, args: dict[str, Any]
) -> AIMessage:
    call_id = "call_" + _fingerprint(messages, names)
    return AIMessage(
        content=content,
        tool_calls=[{"name": tool, "args": args, "id": call_id, "type": "tool_call"}],
        response_metadata={"model_name": "switchboard-embedded"},
    )


def _fingerprint(messages: Sequence[BaseMessage], names: list[str]) -> str:
    """A stable hash of the conversation, so that ids repeat when inputs do."""
    payload = [[m.type, m.content, getattr(m, "tool_calls", None), getattr(m, "tool_call_id", None)] for m in messages]
    blob = json.dumps([payload, names], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def card_views(cards: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """What the engine keeps of agent cards: per agent, its description and each skill's description and examples."""
    return {
        card.name: {
            "description": card.description,
            "skills": {s.id: {"description": s.description, "examples": list(s.examples)} for s in card.skills},
        }
        for card in cards
    }
