"""A swept thread goes on with its own model, and keeps it on record (code review, defect 1).

A thread records the model spec it runs with in every checkpoint, so that
``switchboard resume`` continues it with that model rather than with
whatever the resuming process defaults to (see ``tests/graph/test_thread_model.py``).
The sweeper resumed threads through one graph, built on the cron process's
default model, and sent its claims without a spec: the rest of a swept
thread ran under that default, and its checkpoints after the sweep recorded
no model at all, so a later ``resume`` fell back to the default as well.

Now a swept thread runs on its recorded model, through a graph built on it,
and the checkpoints the sweep writes record that model, as ``resume``'s do.
A model object given to the sweep (tests) still runs every thread, as one
given to ``resume_run`` does.

The thread's model is scripted, standing in for ``SPEC`` (resolved from it);
the retail MCP server, the SQLite checkpoints, the audit trail and the
policy's ``money`` path are real. The sweeper runs with the default model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel

from switchboard import runs
from switchboard.agents.card import Team
from switchboard.checkpoints import open_checkpointer
from switchboard.errors import ConfigError
from switchboard.runs import read_thread, recorded_model, resume_run, start_run, thread_config
from switchboard.settings import Settings
from switchboard.sweeper import sweep
from switchboard.testing import ScriptedChatModel
from tests.policies.helpers import large_refund_model

pytestmark = pytest.mark.usefixtures("principals")

SPEC = "embedded?max_tokens=4000"
"""The thread's model: not the sweeper's (``embedded``)."""
HOUR = 3600.0


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, retail_db: Path, mia: Any) -> ScriptedChatModel:
    """The scripted model every resolution of ``SPEC`` returns; other specs resolve as usual."""
    scripted = large_refund_model(retail_db, mia)
    resolve = runs.resolve_model

    def resolve_spec(spec: str, team: Team) -> BaseChatModel:
        return scripted if spec == SPEC else resolve(spec, team)

    monkeypatch.setattr(runs, "resolve_model", resolve_spec)
    return scripted


@pytest.fixture
def resolved(monkeypatch: pytest.MonkeyPatch, provider: ScriptedChatModel) -> list[str]:
    """Every model spec a graph is built on, in order (``SPEC`` too)."""
    specs: list[str] = []
    resolve = runs.resolve_model

    def record(spec: str, team: Team) -> BaseChatModel:
        specs.append(spec)
        return resolve(spec, team)

    monkeypatch.setattr(runs, "resolve_model", record)
    return specs


async def _paused(settings: Settings, thread: str) -> dict[str, Any]:
    own = settings.model_copy(update={"model": SPEC})
    paused = await start_run("Mia Chen: refund my order", thread_id=thread, settings=own)
    assert paused.status == "paused" and paused.pending is not None, paused
    assert paused.pending["rule"] == "large-refund" and paused.pending["escalation"] == "money"
    assert await recorded_model(settings, thread) == SPEC
    return paused.pending


async def _models_on_record(settings: Settings, thread: str) -> list[Any]:
    """The model each of the thread's checkpoints records, newest first."""
    async with open_checkpointer(settings.checkpoint_target, key=settings.checkpoint_key()) as saver:
        found = [c async for c in saver.alist(thread_config(thread))]
    return [(c.metadata or {}).get(runs.MODEL_METADATA_KEY) for c in found]


async def test_a_thread_rejected_by_time_runs_on_and_stays_on_its_own_model(
    settings: Settings, provider: ScriptedChatModel, resolved: list[str]
) -> None:
    pending = await _paused(settings, "m1")
    before = len(await _models_on_record(settings, "m1"))
    resolved.clear()

    [result] = await sweep(settings, clock=lambda: pending["asked_at"] + 30 * HOUR)
    assert result.thread == "m1" and result.action == "rejected", result
    assert (await read_thread("m1", settings=settings))["outcome"] == "rejected"
    assert await recorded_model(settings, "m1") == SPEC  # not erased by the sweep
    models = await _models_on_record(settings, "m1")
    assert len(models) > before and models[: len(models) - before] == [SPEC] * (len(models) - before), models
    assert SPEC in resolved  # the claim ran through a graph on the thread's model, not only the sweeper's default


async def test_after_an_escalation_by_time_a_resume_continues_with_the_threads_model(
    settings: Settings, provider: ScriptedChatModel
) -> None:
    pending = await _paused(settings, "m2")
    later = pending["asked_at"] + 4 * HOUR + 1  # past the finance manager's step: the store manager may answer

    [result] = await sweep(settings, clock=lambda: later)
    assert result.action == "escalated" and "store_manager" in result.roles, result
    assert await recorded_model(settings, "m2") == SPEC

    done = await resume_run("m2", approved=True, approver="alice", settings=settings)
    provider.assert_complete()  # the thread's model decided the rest, not the resuming process's default
    assert done.status == "completed" and done.outcome == "resolved", done
    assert await recorded_model(settings, "m2") == SPEC


async def test_a_model_object_given_to_the_sweep_still_wins(
    settings: Settings, provider: ScriptedChatModel, resolved: list[str]
) -> None:
    pending = await _paused(settings, "m3")
    resolved.clear()
    given = ScriptedChatModel(steps=[])

    [result] = await sweep(settings, model=given, clock=lambda: pending["asked_at"] + 30 * HOUR)
    assert result.action == "rejected", result
    assert resolved == []  # no graph was built on a spec: the object ran the claim, as in resume_run
    assert await recorded_model(settings, "m3") is None  # and, as resume_run does, no spec is recorded for it


async def test_a_thread_whose_model_cannot_be_built_is_reported_and_the_others_are_swept(
    settings: Settings, provider: ScriptedChatModel, monkeypatch: pytest.MonkeyPatch, retail_db: Path, mia: Any
) -> None:
    """A cron sweep without one thread's provider key stopped the whole sweep (closing note, round 4).

    The thread of ``SPEC`` is made unbuildable here (as an ``openai:`` thread
    is on a host with no key): it is reported ``unavailable``, with why, and
    the thread on the sweeper's own model is still swept.
    """
    plain = await start_run(
        "Mia Chen: refund my order", thread_id="m5", settings=settings, model=large_refund_model(retail_db, mia)
    )  # a model object: no spec on record, so the sweep runs it on its own default model
    assert plain.status == "paused", plain
    lost = await _paused(settings, "m4")  # newer: swept first
    resolve = runs.resolve_model

    def unbuildable(spec: str, team: Team) -> BaseChatModel:
        if spec == SPEC:
            raise ConfigError("provider 'openai' is not installed: pip install 'switchboard[openai]'")
        return resolve(spec, team)

    monkeypatch.setattr(runs, "resolve_model", unbuildable)

    results = await sweep(settings, clock=lambda: lost["asked_at"] + 30 * HOUR)
    by_thread = {r.thread: r for r in results}
    assert by_thread["m4"].action == "unavailable", results
    assert SPEC in by_thread["m4"].question and "not installed" in by_thread["m4"].question
    assert (await read_thread("m4", settings=settings))["status"] == "paused"  # nothing ran on another model
    assert by_thread["m5"].action == "rejected", results  # the sweep went on past the thread it could not run

    # From cron, the exit code says a thread could not be swept (review, round 5: it was 0).
    import asyncio

    from switchboard.cli import main

    monkeypatch.setattr("time.time", lambda: lost["asked_at"] + 30 * HOUR)
    monkeypatch.setenv("SWITCHBOARD_CHECKPOINT_DB", str(settings.checkpoint_db))  # the CLI reads the environment
    assert await asyncio.to_thread(main, ["escalations", "--sweep", "--json"]) == 1
