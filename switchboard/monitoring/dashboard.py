"""``switchboard dashboard``: Datasette over the telemetry database, on 127.0.0.1.

Datasette is a well-kept tool that already does what a monitoring page
needs: sortable tables, drill-down links, JSON and CSV export of every view,
and SQL for the question nobody anticipated. Switchboard adds only metadata
and canned queries (below) and a two-hook plugin (:mod:`.datasette_plugin`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from switchboard.errors import ConfigError
from switchboard.monitoring.store import ensure_schema

log = logging.getLogger(__name__)

PLUGIN = "switchboard-monitoring"
"""The plugin's name, under which its settings sit in the metadata."""

BREAKER_THRESHOLD = 3
BREAKER_COOLDOWN_S = 30
"""The health registry's defaults (``switchboard.agents.health``): the breaker column uses the same rule."""
LEASE_WINDOW_S = 600
"""The registry's default ``lease_ttl``: a lease older than that is presumed dead, and is no load."""


def agents_query(agents: Iterable[str] = ()) -> str:
    """The Agents page's SQL: one row per agent of the team (``agents``), of the health registry or of telemetry.

    The list starts from every agent anyone knows of, not from telemetry:
    an agent that has not run a step here yet (its steps ran in a process
    writing telemetry elsewhere, or none) still shows its live load and
    breaker from the health database, and a card that never ran shows as
    idle, with no steps.

    Args:
        agents: The team's agent names; they are written into the query as
            SQL string literals (quotes doubled), never as parameters.
    """
    named = [f"SELECT '{name.replace(chr(39), chr(39) * 2)}'" for name in dict.fromkeys(agents)]
    known = " UNION ".join(
        [
            *named,
            "SELECT agent FROM agent_totals",
            "SELECT agent FROM health.outcomes",
            f"SELECT agent FROM health.leases WHERE started > strftime('%s', 'now') - {LEASE_WINDOW_S}",
        ]
    )
    return f"""
WITH known(agent) AS ({known})
SELECT k.agent, COALESCE(l.in_flight, 0) AS load, COALESCE(t.steps, 0) AS steps, COALESCE(t.errors, 0) AS errors,
       COALESCE(t.error_rate, 0) AS error_rate, t.avg_ms, COALESCE(t.tokens, 0) AS tokens,
       COALESCE(t.cost, 0) AS cost, COALESCE(t.denials, 0) AS denials,
       CASE WHEN COALESCE(h.streak, 0) < {BREAKER_THRESHOLD} THEN 'closed'
            WHEN strftime('%s', 'now') - h.last_failure < {BREAKER_COOLDOWN_S} THEN 'open'
            ELSE 'half_open' END AS breaker
FROM known k
LEFT JOIN agent_totals t ON t.agent = k.agent
LEFT JOIN (SELECT agent, COUNT(*) AS in_flight FROM health.leases
           WHERE started > strftime('%s', 'now') - {LEASE_WINDOW_S} GROUP BY agent) l ON l.agent = k.agent
LEFT JOIN (SELECT o.agent, COUNT(*) AS streak, MAX(o.at) AS last_failure FROM health.outcomes o
           WHERE o.ok = 0 AND o.seq > COALESCE(
             (SELECT MAX(s.seq) FROM health.outcomes s WHERE s.agent = o.agent AND s.ok = 1), 0)
           GROUP BY o.agent) h ON h.agent = k.agent
WHERE k.agent IS NOT NULL AND k.agent NOT IN ('finalize', 'escalate')
ORDER BY k.agent"""


QUERIES: dict[str, dict[str, str]] = {
    "runs": {
        "title": "Runs",
        "description": "Every start and resume of a thread, newest first. Click a thread for its chain.",
        "sql": "SELECT status, thread_id, task, started, duration_ms, agents, tokens, cost, alerts "
        "FROM runs ORDER BY started_ts DESC LIMIT 500",
    },
    "chain": {
        "title": "Chain of a thread",
        "description": "Who did what, and why, in order: decisions, agent steps, tool calls, refusals, "
        "questions to humans, alerts and the report.",
        "sql": "SELECT at, kind, who, what, outcome, why, duration_ms, tokens, cost FROM chain "
        "WHERE thread_id = :thread ORDER BY started",
    },
    "agents": {
        "title": "Agents",
        "description": "Every agent of the team, whether or not it has run yet: load (steps in flight now), "
        "error rate, mean latency, tokens, cost and circuit breaker.",
        "sql": agents_query(),
    },
    "agents_by_day": {
        "title": "Agents by day",
        "description": "Health and cost per agent over time.",
        "sql": "SELECT * FROM agent_daily ORDER BY day DESC, agent",
    },
    "escalations": {
        "title": "Open escalations",
        "description": (
            "Questions waiting for a human; answer with `switchboard resume THREAD` "
            '(an approval) or `switchboard reply THREAD "TEXT"` (a question to the customer).'
        ),
        "sql": "SELECT thread_id, agent, question, asked, waiting_s FROM open_escalations ORDER BY started",
    },
    "alerts": {
        "title": "Alerts",
        "description": "Anomalies raised while runs were going, newest first.",
        "sql": "SELECT at, detector, severity, thread_id, agent, message, pause FROM alerts "
        "ORDER BY started DESC LIMIT 500",
    },
}


def metadata(database: str, health_db: Path, agents: Iterable[str] = ()) -> dict[str, Any]:
    """Datasette metadata: titles, the canned queries and the plugin's settings.

    Args:
        database: The telemetry database's name in Datasette (its file's stem).
        health_db: The health database, attached for load and breaker state.
        agents: The team's agents, each listed on the Agents page even before it has run.
    """
    queries = {**QUERIES, "agents": {**QUERIES["agents"], "sql": agents_query(agents)}}
    links = " · ".join(
        f'<a href="/{database}/{name}">{q["title"]}</a>' for name, q in queries.items() if name != "chain"
    )
    return {
        "title": "Switchboard monitoring",
        "description_html": f"<p>All agents, all runs, offline. {links}</p>",
        "databases": {database: {"queries": queries}},
        "plugins": {PLUGIN: {"health_db": str(health_db), "database": database}},
    }


def team_agents() -> tuple[str, ...]:
    """The agents of the configured team (``SWITCHBOARD_TEAM``), or none if it cannot be read.

    The dashboard only reads; a team file it cannot load costs the page
    the agents that have not run yet, never the page itself.
    """
    from switchboard.agents.card import load_team
    from switchboard.settings import Settings

    try:
        return load_team(Settings().team).names
    except (ConfigError, ValueError, OSError) as exc:  # pydantic's ValidationError is a ValueError
        log.warning("the dashboard lists only agents with telemetry or health records: %s", exc)
        return ()


def ensure_health_schema(health_db: Path) -> None:
    """Create the health database and its tables, if a process has not already.

    The plugin attaches it read-only to every telemetry connection, and
    SQLite cannot attach a missing file: without this a data directory where
    nothing has run yet answers every page with an error. The registry
    creates its schema only when it first opens the database, so it is made
    to read once (an empty file, created but never written, is fixed too).
    """
    from switchboard.agents.health import HealthRegistry

    registry = HealthRegistry(health_db)
    try:
        registry.health("supervisor")  # any read opens the database, which creates the schema
    finally:
        registry.close()


def make_app(telemetry_db: Path, health_db: Path, agents: Iterable[str] | None = None) -> Any:
    """The dashboard's ASGI app over the telemetry database, with health attached.

    Args:
        telemetry_db: The telemetry database.
        health_db: The health database (live load and breakers).
        agents: The agents the Agents page lists even before they run;
            ``None`` reads them from the configured team.
    """
    try:
        from datasette.app import Datasette
        from datasette.plugins import pm
    except ImportError as exc:
        raise ConfigError("the dashboard needs Datasette: pip install 'switchboard[dashboard]'") from exc

    from switchboard.monitoring import datasette_plugin

    ensure_schema(telemetry_db)
    ensure_health_schema(health_db)
    if pm.get_plugin(PLUGIN) is None:
        pm.register(datasette_plugin, name=PLUGIN)
    roster = team_agents() if agents is None else tuple(agents)
    datasette = Datasette(
        [str(telemetry_db)],
        metadata=metadata(telemetry_db.stem, health_db, roster),
        settings={"default_page_size": 200},
    )
    return datasette.app()


def serve(telemetry_db: Path, health_db: Path, port: int, agents: Iterable[str] | None = None) -> None:
    """Serve the dashboard on 127.0.0.1 until interrupted (``agents``: as for :func:`make_app`)."""
    import uvicorn

    uvicorn.run(make_app(telemetry_db, health_db, agents), host="127.0.0.1", port=port, log_level="warning")
