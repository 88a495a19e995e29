"""A thread keeps the model it was started with.

A run started with ``--model openai:…`` and resumed without ``--model`` used
to continue on the embedded engine, which then made real writes the thread's
own model never decided. The model spec is recorded with every checkpoint, and
a resume or reply that names no model continues with the recorded one.

The model is scripted (standing in for a provider, resolved from its spec);
the retail MCP server, the SQLite checkpoints and the policy are real.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel

from switchboard import runs
from switchboard.agents.card import Team
from switchboard.runs import resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel
from tests.monitoring.conftest import return_script

pytestmark = pytest.mark.usefixtures("principals")

SPEC = "openai:gpt-test"


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, mia: Any, retail_db: Path) -> ScriptedChatModel:
    """The scripted model every resolution of ``SPEC`` returns; other specs resolve as usual."""
    scripted = ScriptedChatModel(steps=return_script(retail_db, mia))
    resolve = runs.resolve_model

    def resolve_spec(spec: str, team: Team) -> BaseChatModel:
        return scripted if spec == SPEC else resolve(spec, team)

    monkeypatch.setattr(runs, "resolve_model", resolve_spec)
    return scripted


async def test_a_resume_without_a_model_continues_with_the_threads_own(
    settings: Settings, provider: ScriptedChatModel
) -> None:
    paused = await start_run("return everything", settings=settings.model_copy(update={"model": SPEC}))
    assert paused.status == "paused"

    done = await resume_run(paused.thread_id, approved=True, approver="alice", settings=settings)
    provider.assert_complete()  # the thread's model decided the rest, not the embedded engine
    assert done.status == "completed" and done.outcome == "resolved"


async def test_a_model_named_on_resume_wins_and_the_switch_is_logged(
    settings: Settings, provider: ScriptedChatModel, caplog: pytest.LogCaptureFixture
) -> None:
    paused = await start_run("return everything", settings=settings.model_copy(update={"model": SPEC}))
    other = settings.model_copy(update={"model": "embedded"})

    with caplog.at_level(logging.WARNING, logger="switchboard.runs"):
        await resume_run(paused.thread_id, approved=True, approver="alice", settings=other)
    assert f"started with the model {SPEC!r}; continuing with 'embedded'" in caplog.text
    assert len(provider.calls) == 3  # the route and the two tool calls before the pause; none after it
