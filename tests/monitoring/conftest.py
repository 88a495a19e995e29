"""Fixtures for monitoring: a real run recorded through the callback handler."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from switchboard.domains.retail import DEMO_PERSONAS, RetailStore
from switchboard.monitoring import Budget, Monitor, MonitoringConfig, recording
from switchboard.runs import resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, make_principals, route


@dataclass(frozen=True)
class RecordedReturn:
    """A refund above the limit: paused for approval, approved, completed, all recorded."""

    database: Path
    thread_id: str
    monitor: Monitor
    settings: Settings
    retail_db: Path


def return_script(db: Path, persona: Any) -> list[Any]:
    order_id = persona.orders["delivered_over_500"]
    with RetailStore.open(db) as store:
        order = store.get_order(order_id)
    assert order is not None
    items = [item["item_id"] for item in order["items"]]
    method = order["payment_history"][0]["payment_method_id"]
    return [
        route("finance", f"Return {items} of {order_id}", skill="process_return"),
        call("find_user_id_by_email", email=persona.email),  # scoped tools act only for an identified customer
        call("return_delivered_order_items", order_id=order_id, item_ids=items, payment_method_id=method),
        handoff("Return requested.", order_id=order_id),
        finish("return requested"),
    ]


@pytest.fixture(scope="package")
def recorded_return(pristine_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordedReturn]:
    """The return, run once for the package with a tiny token budget, so that an alert is raised too.

    Tests only read what it recorded. It has its own directory, retail copy
    and checkpoints; the environment it needs is set for its lifetime.
    """
    root = tmp_path_factory.mktemp("recorded")
    db = root / "retail.sqlite"
    shutil.copy(pristine_db, db)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SWITCHBOARD_HOME", str(root / "home"))
        make_principals(root / "home")  # the approval is signed by alice, a finance_manager
        env.setenv("SWITCHBOARD_RETAIL_DB", str(db))
        settings = Settings(home=root / "home", checkpoint_db=str(root / "checkpoints.sqlite"))
        config = MonitoringConfig(telemetry_db=root / "telemetry.sqlite", budgets=Budget(run_tokens=500), sinks=())
        model = ScriptedChatModel(steps=return_script(db, DEMO_PERSONAS["mia_chen"]))
        monitor = asyncio.run(_record(settings, config, model))
    model.assert_complete()
    yield RecordedReturn(root / "telemetry.sqlite", "ret-1", monitor, settings, db)


async def _record(settings: Settings, config: MonitoringConfig, model: ScriptedChatModel) -> Monitor:
    with recording(config=config) as monitor:
        assert monitor is not None
        paused = await start_run("return everything", thread_id="ret-1", settings=settings, model=model)
        assert paused.status == "paused"
        done = await resume_run("ret-1", approved=True, approver="alice", settings=settings, model=model)
        assert done.status == "completed"
    return monitor
