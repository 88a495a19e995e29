"""The dashboard over a data directory where nothing has run yet: every page answers, empty.

Served in process through httpx's ASGI transport, so it needs no browser and
no port (the full browser walk is in ``test_dashboard.py``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from switchboard.monitoring.dashboard import make_app

PAGES = ("/", "/telemetry", "/telemetry/runs", "/telemetry/agents", "/telemetry/alerts.json")


async def _statuses(app: object, pages: tuple[str, ...]) -> dict[str, int]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return {page: (await client.get(page)).status_code for page in pages}


@pytest.mark.parametrize("health_exists", [False, True], ids=["no-health-db", "empty-health-file"])
def test_a_fresh_data_directory_serves_an_empty_dashboard(tmp_path: Path, health_exists: bool) -> None:
    health = tmp_path / "health.sqlite"
    if health_exists:
        health.touch()  # a file another process created but never wrote a schema into
    app = make_app(tmp_path / "telemetry.sqlite", health)
    assert asyncio.run(_statuses(app, PAGES)) == dict.fromkeys(PAGES, 200)
