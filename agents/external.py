"""Agents you built yourself: a LangGraph compiled graph or any named Runnable.

Switchboard does not hold such an agent's tools, so it cannot check its tool
calls. It governs it at the handoff instead: routing decides who may receive
which work, the step is leased, timed and recorded in the trail, and a
failure is reassigned or escalated like any other. An agent whose every tool
call must pass the policy file is an :class:`~switchboard.agents.spec.AgentSpec`
or a card over MCP tools.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from switchboard.agents.card import AgentCard, derive_card
from switchboard.errors import ConfigError

_DEFAULT_NAMES = frozenset({"LangGraph"})
"""Names LangGraph gives a graph compiled without one: not a name to route by."""
_LIBRARIES = ("langchain", "langgraph", "pydantic")


@dataclass(frozen=True)
class Agent:
    """A compiled graph or Runnable you bring, optionally with its card.

    Example:
        >>> from langchain_core.runnables import RunnableLambda
        >>> def echo(state: dict) -> dict:
        ...     '''Repeats what it is told.'''
        ...     return state
        >>> Agent(RunnableLambda(echo)).card.name
        'echo'
    """

    runnable: Runnable[Any, Any]
    """Invoked with ``{"messages": [...]}``; its last AI message is its answer."""
    card: AgentCard = field(default=None)  # type: ignore[assignment]  # derived in __post_init__
    """Who it is, for routing; derived from the runnable when not given."""
    description: str | None = None
    """What it is for, when no card is given (else its docstring, else its name)."""
    examples: tuple[str, ...] = ()
    """Typical requests for it, when no card is given."""

    def __post_init__(self) -> None:
        if not isinstance(self.runnable, Runnable):
            raise ConfigError(
                f"{type(self.runnable).__name__} is not a LangGraph graph or LangChain Runnable; pass a "
                "compiled graph (e.g. create_react_agent(...)), an AgentSpec, or an AgentCard"
            )
        card = self.card or derive_card(
            _name(self.runnable), self.description or _description(self.runnable), examples=tuple(self.examples)
        )
        if card.tools:
            raise ConfigError(
                f"the card of {card.name!r} lists tools {list(card.tools)}, but Switchboard cannot check the tool "
                "calls of a graph you bring; leave `tools` empty (it is governed at the handoff) or give the "
                "tools to an AgentSpec so the guard checks each call"
            )
        if card.model or card.instructions:
            raise ConfigError(
                f"the card of {card.name!r} sets `model` or `instructions`, but a graph you bring runs with its "
                "own model and prompt; set them where you build the graph, or use an AgentSpec"
            )
        object.__setattr__(self, "card", card)

    @property
    def name(self) -> str:
        """The node name: the card's name."""
        return self.card.name


def as_agent(value: Any) -> Agent:
    """Wrap a bare Runnable as an :class:`Agent`; an ``Agent`` is returned as is.

    Raises:
        ConfigError: ``value`` is no Runnable, or it has no usable name.
    """
    return value if isinstance(value, Agent) else Agent(value)


def _name(runnable: Runnable[Any, Any]) -> str:
    name = getattr(runnable, "name", None)
    if not isinstance(name, str) or not name or name in _DEFAULT_NAMES:
        raise ConfigError(
            f"the {type(runnable).__name__} you passed has no name to route by; name it "
            "(create_react_agent(model, tools, name='weather'), graph.compile(name='weather')) "
            "or give it a card: Agent(runnable, card=AgentCard(name='weather', ...))"
        )
    return name


def _description(runnable: Runnable[Any, Any]) -> str:
    """The runnable's own description or docstring, else words from its name."""
    described = getattr(runnable, "description", None)
    if isinstance(described, str) and described.strip():
        return described.strip()
    owner: Any = runnable.func if isinstance(runnable, RunnableLambda) else type(runnable)
    module = getattr(owner, "__module__", "") or ""
    doc = inspect.getdoc(owner) if not module.startswith(_LIBRARIES) else None
    if doc:
        return doc.strip().split("\n\n", 1)[0].replace("\n", " ")
    return f"The {getattr(runnable, 'name', 'agent')} agent.".replace("_", " ")
