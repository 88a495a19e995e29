"""A model that cannot do what the graph asks of it is refused when the graph is built, not mid-run.

Agents need tool calling (``bind_tools``) to act and hand off; the supervisor
needs structured output (``with_structured_output``) to decide. A model
without them (LangChain's ``GenericFakeChatModel``, a plain completion
model) used to fail with a bare ``NotImplementedError`` once the thread
existed, and the thread then looked like a run that stopped and could be
resumed. ``build_graph`` now checks both bindings (no model call is made)
and raises a ``ConfigError`` that says what is missing and what would help.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable

from switchboard.agents.card import Team
from switchboard.agents.spec import AgentSpec
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.models import OPTIONS_KEY, resolve_model
from switchboard.testing import ScriptedChatModel


def _no_tools() -> GenericFakeChatModel:
    """The tester's model: answers in text, binds no tools and no structured output."""
    return GenericFakeChatModel(messages=itertools.cycle([AIMessage('{"action": "route", "agent": "alpha"}')]))


class _JsonSchemaOnly(ScriptedChatModel):
    """Tool calling, but structured output only as a JSON schema (as some local servers offer)."""

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any) -> Runnable[Any, Any]:
        if kwargs.get("method") != "json_schema":
            raise NotImplementedError("only json_schema")
        return super().with_structured_output(schema, include_raw=include_raw, **kwargs)


def test_a_model_without_tool_calling_is_refused_at_build(desk: Team) -> None:
    """The tester's case: a ConfigError naming the model and tool calling, before any thread exists."""
    with pytest.raises(ConfigError) as caught:
        build_graph(team=desk, model=_no_tools())
    text = str(caught.value)
    assert "GenericFakeChatModel" in text and "tool calling" in text and "bind_tools" in text
    assert "alpha" in text  # which agents need it
    assert "?structured=" not in text  # no spec option would help this model


def test_a_supervisor_model_without_structured_output_is_refused_at_build(desk: Team) -> None:
    with pytest.raises(ConfigError) as caught:
        build_graph(team=desk, model=ScriptedChatModel(steps=[]), supervisor_model=_no_tools())
    text = str(caught.value)
    assert "GenericFakeChatModel" in text and "supervisor" in text and "structured output" in text
    assert "bind_tools" in text and "no `?structured=` option helps" in text


def count_grapes(kind: str) -> str:
    """How many grapes of ``kind`` are in stock."""
    return f"{kind}: 3"


def test_an_agent_model_of_a_spec_is_checked_too(desk: Team) -> None:
    spec = AgentSpec(name="gamma", description="Counts grapes.", tools=[count_grapes], model=_no_tools())
    with pytest.raises(ConfigError, match=r"gamma.*bind_tools|bind_tools.*gamma"):
        build_graph([spec], team=desk, model=ScriptedChatModel(steps=[]))


def test_the_structured_option_that_would_help_is_named(desk: Team) -> None:
    """Structured output that binds only another way: the spec option that selects it is suggested."""
    model = _JsonSchemaOnly(steps=[])
    with pytest.raises(ConfigError) as caught:
        build_graph(team=desk, model=model)
    text = str(caught.value)
    assert "?structured=json_schema" in text and "function_calling" in text
    model.metadata = {OPTIONS_KEY: {"structured": "json_schema", "provider": "fake"}}
    build_graph(team=desk, model=model)  # with the option, it builds


def test_models_that_can_do_the_work_still_build(desk: Team) -> None:
    """The embedded engine and the scripted test model pass the check; no model is called at build time."""
    scripted = ScriptedChatModel(steps=[])
    build_graph(team=desk, model=scripted)
    assert scripted.calls == []
    build_graph(team=desk, model=resolve_model("embedded", desk))
    build_graph()  # the shipped retail team on the embedded engine


def test_the_routing_lab_checks_its_model_too() -> None:
    """``switchboard route`` and ``eval-routing`` build a router without ``build_graph``: same check, same fix."""
    from switchboard.lab import make_router

    with pytest.raises(ConfigError) as caught:
        make_router(model=_no_tools())
    assert "GenericFakeChatModel" in str(caught.value) and "structured output" in str(caught.value)


def ask_customer(question: str) -> str:
    """Ask the customer something (a tool of the user's own, named like the built-in one)."""
    return "yes"


def handoff(summary: str) -> str:
    """Hand the case to the next desk (named like the built-in one)."""
    return summary


@pytest.mark.parametrize("tool", [ask_customer, handoff], ids=lambda t: t.__name__)
def test_a_tool_named_like_a_built_in_is_refused_at_build(desk: Team, tool: Any) -> None:
    """It was bound twice and never ran: its calls paused for the customer or ended the step (outside review)."""
    spec = AgentSpec(name="gamma", description="Asks things.", tools=[tool], model=ScriptedChatModel(steps=[]))
    with pytest.raises(ConfigError, match=rf"'gamma' has a tool named '{tool.__name__}'.*rename"):
        build_graph([spec], team=desk, model=ScriptedChatModel(steps=[]))
