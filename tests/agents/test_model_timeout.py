"""An agent's model call may take as long as the model's own request timeout, not only the card's default.

Reported: with ``openai:…?timeout=600&concurrency=1`` (the README's llama.cpp
row) a model answering in 130 s failed every agent step with "did not answer
within 120s", the card's default, and the step was reassigned. The card's
``timeout_s`` is now the limit only for a model that names no timeout.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from switchboard.agents.card import Team, load_team
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.models import OPTIONS_KEY, ModelOptions, request_timeout, resolve_model
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish, handoff, route

TEAM = """
name: desk
agents:
  - name: finance
    description: Cancels orders and refunds them.
    skills: [{id: cancel_order, description: Cancel a pending order.}]
    timeout_s: 0.2
    tools: []
"""
CONFIG: Any = {"configurable": {"thread_id": "slow-model"}}
ANSWER_S = 0.5
"""How long the slow model takes: past the card's 0.2 s, within a declared 2 s."""


def _slow(messages: Sequence[BaseMessage], tools: list[str]) -> AIMessage:
    time.sleep(ANSWER_S)  # a local model on a small machine
    return handoff("Cancelled the order.")


def _script(timeout: float | None) -> ScriptedChatModel:
    model = ScriptedChatModel(
        steps=[route("finance", "Cancel the order", skill="cancel_order"), finish()], agents={"finance": [_slow]}
    )
    if timeout is not None:  # as resolve_model stores a spec's options
        model.metadata = {OPTIONS_KEY: ModelOptions(timeout=timeout).model_dump()}
    return model


async def _step(model: ScriptedChatModel, tmp_path: Path) -> Any:
    file = tmp_path / "desk.yaml"
    file.write_text(TEAM)
    team: Team = load_team(file)
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(team=team, model=model, checkpointer=saver)
        await graph.ainvoke({"task": "cancel my order"}, CONFIG)
        state = await graph.aget_state(CONFIG)
    (step,) = query.handoffs(state.values["trail"])
    return step


async def test_a_model_with_its_own_timeout_gets_that_long_per_agent_call(tmp_path: Path) -> None:
    model = _script(timeout=2.0)
    step = await _step(model, tmp_path)
    model.assert_complete()
    assert (step["status"], step["summary"]) == ("done", "Cancelled the order.")


async def test_the_cards_timeout_still_bounds_a_model_that_names_none(tmp_path: Path) -> None:
    step = await _step(_script(timeout=None), tmp_path)
    assert step["status"] == "failed" and step["retryable"]
    assert step["summary"] == "finance's model did not answer within 0.2s."


async def test_a_timeout_from_the_spec_or_the_environment_travels_with_the_model() -> None:
    assert request_timeout(resolve_model("embedded?timeout=600", env=ModelOptions())) == 600
    from_env = Settings(model_timeout=300).model_options()
    assert request_timeout(resolve_model("embedded", env=from_env)) == 300
    assert request_timeout(resolve_model("embedded?timeout=600", env=from_env)) == 600  # the spec wins
    assert request_timeout(resolve_model("embedded", env=ModelOptions())) is None
    assert request_timeout(ScriptedChatModel(steps=[])) is None  # a model built elsewhere: the card decides
