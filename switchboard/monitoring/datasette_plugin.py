"""The Datasette plugin behind ``switchboard dashboard``.

Two hooks: every connection to the telemetry database attaches the health
database read-only as ``health`` (live load and breaker state live there,
shared with the running processes), and every ``thread_id`` cell links to
the thread's chain.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from datasette import hookimpl
from markupsafe import Markup, escape

from switchboard.monitoring.dashboard import PLUGIN as NAME

TELEMETRY = "telemetry"
"""The telemetry database's default name in the dashboard (Datasette names a database after its file)."""


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    """Attach the health database to the telemetry database's connections."""
    config = datasette.plugin_config(NAME) or {}
    health = config.get("health_db")
    if database == config.get("database", TELEMETRY) and health:
        conn.execute("ATTACH DATABASE ? AS health", (f"file:{Path(health)}?mode=ro",))


@hookimpl
def render_cell(value: Any, column: str, database: str, datasette: Any) -> Markup | None:
    """Link a thread id to its chain."""
    telemetry = (datasette.plugin_config(NAME) or {}).get("database", TELEMETRY)
    if column != "thread_id" or database != telemetry or not isinstance(value, str):
        return None
    url = datasette.urls.database(telemetry) + "/chain?thread=" + quote(value, safe="")
    return Markup(f'<a href="{escape(url)}">{escape(value)}</a>')
