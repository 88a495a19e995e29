"""The dashboard's Agents page lists every agent of the team, with or without telemetry.

The operator review's finding 5: the page was driven by the telemetry
database, so an agent that had not run a step there (finance with its
breaker open, logistics holding a slot) did not appear at all. Served in
process through httpx's ASGI transport: no browser, no port.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from markupsafe import escape

from switchboard.agents.card import load_team
from switchboard.agents.health import HealthRegistry
from switchboard.monitoring.dashboard import make_app
from switchboard.monitoring.events import TelemetryEvent
from switchboard.monitoring.store import TelemetryStore

TEAM = load_team().names
"""The shipped retail team's agents."""


async def _rows(app: Any) -> list[dict[str, Any]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        page = await client.get("/telemetry/agents")
        assert page.status_code == 200
        answer = await client.get("/telemetry/agents.json", params={"_shape": "array"})
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()
        for row in rows:
            assert f">{escape(row['agent'])}</td>" in page.text  # the HTML table shows the same agents
        return rows


def agents_page(tmp_path: Path, agents: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """The Agents page over a data directory where only customer_service has telemetry, by agent."""
    telemetry = tmp_path / "telemetry.sqlite"
    store = TelemetryStore(telemetry)
    now = time.time()
    for kind, outcome in (("step", "ok"), ("handoff", "done")):
        store.record(
            TelemetryEvent(
                kind=kind, name="identify_customer", run_id="r", thread_id="t", agent="customer_service",
                started=now - 1, ended=now, outcome=outcome,
            )
        )  # fmt: skip
    store.close()
    health = HealthRegistry(tmp_path / "health.sqlite")
    for _ in range(3):
        health.record("finance", ok=False)  # its breaker opens; its steps ran where no telemetry was kept
    health.acquire("logistics")  # a step in flight
    health.close()
    app = make_app(telemetry, tmp_path / "health.sqlite", **({} if agents is None else {"agents": agents}))
    rows = asyncio.run(_rows(app))
    return {row["agent"]: row for row in rows}


def test_every_agent_of_the_team_is_listed_with_its_health(tmp_path: Path) -> None:
    rows = agents_page(tmp_path, TEAM)
    assert set(TEAM) <= set(rows)
    assert rows["customer_service"]["steps"] == 1 and rows["customer_service"]["breaker"] == "closed"
    assert rows["finance"]["breaker"] == "open" and rows["finance"]["steps"] == 0
    assert rows["logistics"]["load"] == 1 and rows["logistics"]["breaker"] == "closed"
    assert rows["inventory"] == {**rows["inventory"], "load": 0, "steps": 0, "errors": 0, "breaker": "closed"}


def test_the_configured_team_is_read_when_no_agents_are_given(tmp_path: Path) -> None:
    """``switchboard dashboard`` names no agents: the team of the settings (here the shipped retail team) is used."""
    assert set(TEAM) <= set(agents_page(tmp_path))


def test_agents_outside_the_team_still_show_from_health_and_telemetry(tmp_path: Path) -> None:
    rows = agents_page(tmp_path, ["analytics"])
    assert {"analytics", "customer_service", "finance", "logistics"} <= set(rows)
    assert rows["finance"]["breaker"] == "open"


@pytest.mark.parametrize("name", ["o'brien", "a:b"])
def test_an_agent_name_is_data_not_sql(tmp_path: Path, name: str) -> None:
    assert name in agents_page(tmp_path, [name])
