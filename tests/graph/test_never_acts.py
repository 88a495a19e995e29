"""A step whose model never acts is a failed step, never "done" (issue 11, defect 1).

A weak model wrote its tool calls as JSON text; every such step was recorded
"done" and no tool call ever reached the MCP server. Now a text answer gets
one corrective nudge, and a second one fails the step so the supervisor hands
it to a fallback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage

from switchboard.graph import trail as query
from switchboard.models import ModelOptions, _provider_kwargs
from switchboard.runs import read_thread, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish, handoff, route

TEXT_CALL = AIMessage('{"name": "find_user_id_by_email", "arguments": {"email": "mia.chen@example.com"}}')


async def test_tool_calls_written_as_text_fail_the_step_and_it_is_reassigned(
    settings: Settings, retail_db: Path
) -> None:
    model = ScriptedChatModel(
        steps=[route("finance", "Find the customer", skill="process_return"), finish("handed over")],
        agents={
            "finance": [TEXT_CALL, AIMessage("")],  # text, then an empty answer after the nudge
            "finance_backup": [handoff("Looked into it.")],
        },
    )
    result = await start_run("Find mia.chen@example.com please", thread_id="text-1", settings=settings, model=model)
    model.assert_complete()
    assert result.status == "completed"
    first, second = query.handoffs((await read_thread("text-1", settings=settings))["trail"])
    assert first["agent"] == "finance" and first["status"] == "failed" and first["retryable"]
    assert "answered without acting" in first["summary"] and first["tool_calls"] == []
    assert second["agent"] == "finance_backup" and second["status"] == "done"
    nudge = model.calls[2]  # finance's second call carries the nudge
    assert nudge.agent == "finance" and "Act only through tool calls" in nudge.text


def _runaway(cap: int) -> Any:
    """A small model forced into tool format: it writes on until the provider cuts it at ``cap`` tokens."""

    def step(messages: Any, tools: list[str]) -> AIMessage:
        endless = '{"name": "find_user_id_by_email", "arguments": {"email": "mia.chen@example.com", "note": "'
        words = (endless + "and also " * 4000).split(" ")  # about 8,000 tokens, were it not cut
        return AIMessage(" ".join(words[:cap]), response_metadata={"finish_reason": "length"})

    return step


async def test_runaway_output_cut_at_the_cap_is_never_done_and_the_model_is_told_to_be_brief(
    settings: Settings, retail_db: Path
) -> None:
    """Reported: a generation forced into tool format ran past 3,700 tokens (issue 11, defect 5)."""
    cap = ModelOptions(max_tokens=256).max_tokens
    assert cap is not None and _provider_kwargs("openai", ModelOptions(max_tokens=cap)) == {"max_tokens": cap}
    model = ScriptedChatModel(
        steps=[route("finance", "Find the customer", skill="process_return"), finish("handed over")],
        agents={"finance": [_runaway(cap), _runaway(cap)], "finance_backup": [handoff("Looked into it.")]},
    )
    result = await start_run("Find mia.chen@example.com please", thread_id="cut-1", settings=settings, model=model)
    model.assert_complete()
    assert result.status == "completed"
    first, second = query.handoffs((await read_thread("cut-1", settings=settings))["trail"])
    assert first["status"] == "failed" and first["retryable"] and first["tool_calls"] == []
    assert "cut off at the token cap" in first["summary"]
    assert second["agent"] == "finance_backup" and second["status"] == "done"
    nudge = model.calls[2]
    assert nudge.agent == "finance" and "ran past the token cap" in nudge.text
