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
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

pytestmark = pytest.mark.usefixtures("principals")

SPEC = "openai:gpt-test"


def _script(mia: Any, retail_db: Path) -> list[Any]:
    from switchboard.domains.retail import RetailStore

    order_id = mia.orders["delivered_over_500"]
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
    assert order is not None
    items = [item["item_id"] for item in order["items"]]
    method = order["payment_history"][0]["payment_method_id"]
    return [
        route("finance", f"Return {items} of {order_id}", skill="process_return"),
        call("find_user_id_by_email", email="mia.chen@example.com"),
        call("return_delivered_order_items", order_id=order_id, item_ids=items, payment_method_id=method),
        handoff("Return requested.", order_id=order_id),
        finish("return requested"),
    ]


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, mia: Any, retail_db: Path) -> ScriptedChatModel:
    """The scripted model every resolution of ``SPEC`` returns; other specs resolve as usual."""
    scripted = ScriptedChatModel(steps=_script(mia, retail_db))
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
