"""``switchboard dashboard``: Datasette over the telemetry database, on 127.0.0.1.

Datasette is a well-kept tool that already does what a monitoring page
needs: sortable tables, drill-down links, JSON and CSV export of every view,
and SQL for the question nobody anticipated. Switchboard adds only metadata
and canned queries (below) and a two-hook plugin (:mod:`.datasette_plugin`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from switchboard.errors import ConfigError
from switchboard.monitoring.store import ensure_schema

PLUGIN = "switchboard-monitoring"
"""The plugin's name, under which its settings sit in the metadata."""

BREAKER_THRESHOLD = 3
BREAKER_COOLDOWN_S = 30
"""The health registry's defaults (``switchboard.agents.health``): the breaker column uses the same rule."""

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
        "description": "Load (steps in flight now), error rate, mean latency, tokens, cost and circuit breaker.",
        "sql": f"""
SELECT t.agent, COALESCE(l.in_flight, 0) AS load, t.steps, t.errors, t.error_rate, t.avg_ms, t.tokens, t.cost,
       t.denials,
       CASE WHEN COALESCE(h.streak, 0) < {BREAKER_THRESHOLD} THEN 'closed'
            WHEN strftime('%s', 'now') - h.last_failure < {BREAKER_COOLDOWN_S} THEN 'open'
            ELSE 'half_open' END AS breaker
FROM agent_totals t
LEFT JOIN (SELECT agent, COUNT(*) AS in_flight FROM health.leases
           WHERE started > strftime('%s', 'now') - 600 GROUP BY agent) l ON l.agent = t.agent
LEFT JOIN (SELECT o.agent, COUNT(*) AS streak, MAX(o.at) AS last_failure FROM health.outcomes o
           WHERE o.ok = 0 AND o.seq > COALESCE(
             (SELECT MAX(s.seq) FROM health.outcomes s WHERE s.agent = o.agent AND s.ok = 1), 0)
           GROUP BY o.agent) h ON h.agent = t.agent
WHERE t.agent NOT IN ('finalize', 'escalate')
ORDER BY t.agent""",
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


def metadata(database: str, health_db: Path) -> dict[str, Any]:
    """Datasette metadata: titles, the canned queries and the plugin's settings.

    Args:
        database: The telemetry database's name in Datasette (its file's stem).
        health_db: The health database, attached for load and breaker state.
    """
    links = " · ".join(
        f'<a href="/{database}/{name}">{q["title"]}</a>' for name, q in QUERIES.items() if name != "chain"
    )
    return {
        "title": "Switchboard monitoring",
        "description_html": f"<p>All agents, all runs, offline. {links}</p>",
        "databases": {database: {"queries": QUERIES}},
        "plugins": {PLUGIN: {"health_db": str(health_db), "database": database}},
    }


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


def make_app(telemetry_db: Path, health_db: Path) -> Any:
    """The dashboard's ASGI app over the telemetry database, with health attached."""
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
    datasette = Datasette(
        [str(telemetry_db)], metadata=metadata(telemetry_db.stem, health_db), settings={"default_page_size": 200}
    )
    return datasette.app()


def serve(telemetry_db: Path, health_db: Path, port: int) -> None:
    """Serve the dashboard on 127.0.0.1 until interrupted."""
    import uvicorn

    uvicorn.run(make_app(telemetry_db, health_db), host="127.0.0.1", port=port, log_level="warning")
