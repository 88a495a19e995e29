"""An agent given as tools plus a prompt, which Switchboard builds and governs.

An :class:`AgentSpec` is the shortest way to add an agent whose tool calls
Switchboard must govern: Switchboard builds it with the same think → guarded
act → handoff subgraph as a card agent, so every call goes through the guard
(the spec's tools are its allow-list, and the policy file applies).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.agents.card import AgentCard, Skill, derive_card
from switchboard.errors import ConfigError


class AgentSpec(BaseModel):
    """An agent described by its tools and prompt; Switchboard builds it.

    Example:
        >>> def get_weather(city: str) -> str:
        ...     '''The weather in a city.'''
        ...     return "sunny"
        >>> spec = AgentSpec(name="weather", description="Weather reports.", tools=[get_weather])
        >>> spec.card().tools
        ('get_weather',)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    """Node name in the graph; lower_snake_case, unique among the agents."""
    description: str
    """What the agent is for; routing matches tasks against it."""
    tools: tuple[BaseTool, ...] = Field(min_length=1)
    """The tools it may call (LangChain tools, or plain typed functions, plain
    or ``async def``, with a docstring); they are its allow-list."""
    prompt: str = ""
    """Instructions added to the agent's system prompt."""
    model: str | BaseChatModel | None = None
    """Its own model: a chat model, or a spec such as ``openai:gpt-4.1-mini``;
    ``None`` uses the graph's agent model."""
    examples: tuple[str, ...] = ()
    """Typical requests for this agent, to route by."""
    skills: tuple[Skill, ...] = ()
    """Its skills; one skill named after the agent when left empty."""

    if TYPE_CHECKING:
        # What callers may pass: lists as well as tuples, and plain functions as
        # tools. The fields above stay tuples of tools, so a spec is immutable;
        # validation converts (mypy would otherwise demand tuples of BaseTool).
        def __init__(
            self,
            *,
            name: str,
            description: str,
            tools: Sequence[BaseTool | Callable[..., Any]],
            prompt: str = ...,
            model: str | BaseChatModel | None = ...,
            examples: Sequence[str] = ...,
            skills: Sequence[Skill] = ...,
        ) -> None: ...

    @field_validator("tools", mode="before")
    @classmethod
    def _as_tools(cls, tools: Any) -> Any:
        if not isinstance(tools, Sequence) or isinstance(tools, str):
            return tools
        return tuple(_as_tool(tool) for tool in tools)

    @model_validator(mode="after")
    def _distinct_tools(self) -> AgentSpec:
        names = [tool.name for tool in self.tools]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"agent {self.name!r} has two tools named {', '.join(twice)}; rename one")
        return self

    def card(self) -> AgentCard:
        """The card routing and the guard read: the spec's tools are the allow-list.

        Raises:
            ConfigError: The name is not a valid agent name.
        """
        extra: dict[str, Any] = {"skills": self.skills} if self.skills else {}
        return derive_card(
            self.name,
            self.description,
            examples=self.examples,
            tools=tuple(tool.name for tool in self.tools),
            instructions=self.prompt,
            model=self.model if isinstance(self.model, str) else None,
            **extra,
        )


def _as_tool(tool: Any) -> Any:
    """A plain function becomes a LangChain tool; anything else is left to validation.

    An ``async def`` function is given as the tool's coroutine, not as its
    function: as a function it would be called without being awaited, and its
    result would be the coroutine object, reported as the tool's answer.
    """
    if isinstance(tool, BaseTool) or not callable(tool) or not _documented(tool):
        return tool
    if inspect.iscoroutinefunction(tool):
        return StructuredTool.from_function(coroutine=tool)
    return StructuredTool.from_function(func=tool)


def _documented(func: Callable[..., Any]) -> bool:
    if not (func.__doc__ or "").strip():
        name = getattr(func, "__name__", repr(func))
        raise ConfigError(f"tool function {name!r} needs a docstring: the model reads it to know what the tool does")
    return True
