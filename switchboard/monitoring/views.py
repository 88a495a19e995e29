"""The SQL views over the ``events`` table, shared by the dashboard and ``trace``.

Each view answers one question a reviewer asks; the dashboard's canned
queries select from them, so the answers are the same in the browser, in the
terminal and in any SQLite client.
"""

from __future__ import annotations

VIEWS: dict[str, str] = {
    # Who did what, and why, in order, for every thread: the readable chain,
    # without the graph's plumbing (substeps) or raw model calls.
    "chain": """
        SELECT thread_id, run_id, strftime('%Y-%m-%d %H:%M:%f', started, 'unixepoch') AS at, kind,
               COALESCE(agent, '') AS who, name AS what, outcome, reason AS why,
               duration_ms, tokens_in + tokens_out AS tokens, cost, metadata, started
        FROM events
        WHERE kind IN ('run', 'step', 'tool', 'decision', 'handoff', 'denial', 'escalation', 'report', 'alert')
        ORDER BY thread_id, started, kind = 'run' DESC
    """,
    # One row per start or resume of a thread.
    "runs": """
        SELECT r.run_id, r.thread_id, r.reason AS task, COALESCE(r.outcome, 'running') AS status,
               strftime('%Y-%m-%d %H:%M:%f', r.started, 'unixepoch') AS started, r.duration_ms,
               (SELECT group_concat(DISTINCT e.agent) FROM events e
                 WHERE e.run_id = r.run_id AND e.kind = 'handoff') AS agents,
               (SELECT SUM(e.tokens_in + e.tokens_out) FROM events e
                 WHERE e.run_id = r.run_id AND e.kind = 'llm') AS tokens,
               (SELECT ROUND(SUM(e.cost), 6) FROM events e WHERE e.run_id = r.run_id AND e.kind = 'llm') AS cost,
               (SELECT COUNT(*) FROM events e WHERE e.run_id = r.run_id AND e.kind = 'alert') AS alerts,
               r.started AS started_ts
        FROM events r WHERE r.kind = 'run'
    """,
    # Health and cost per agent per day: steps, failures, latency, tokens, cost.
    "agent_daily": """
        SELECT date(started, 'unixepoch') AS day, agent,
               SUM(kind = 'step' AND outcome != 'paused') AS steps,
               SUM(kind = 'step' AND outcome = 'error')
                 + SUM(kind = 'handoff' AND outcome = 'failed') AS errors,
               ROUND(AVG(CASE WHEN kind = 'step' AND outcome != 'paused' THEN duration_ms END), 1) AS avg_ms,
               MAX(CASE WHEN kind = 'step' THEN duration_ms END) AS max_ms,
               SUM(CASE WHEN kind = 'llm' THEN tokens_in + tokens_out ELSE 0 END) AS tokens,
               ROUND(SUM(CASE WHEN kind = 'llm' THEN cost ELSE 0 END), 6) AS cost,
               SUM(kind = 'denial') AS denials
        FROM events WHERE agent IS NOT NULL
        GROUP BY day, agent
    """,
    # Per agent, over all time: the dashboard's agents table without live load.
    "agent_totals": """
        SELECT agent, SUM(steps) AS steps, SUM(errors) AS errors,
               ROUND(1.0 * SUM(errors) / MAX(SUM(steps), 1), 3) AS error_rate,
               ROUND(SUM(avg_ms * steps) / MAX(SUM(steps), 1), 1) AS avg_ms,
               SUM(tokens) AS tokens, ROUND(SUM(cost), 6) AS cost, SUM(denials) AS denials,
               MAX(day) AS last_day
        FROM agent_daily GROUP BY agent
    """,
    # Questions to a human that nobody has answered yet. Any later answer in the thread closes them
    # (approved, rejected, or a customer's reply: answered), as in the EscalationWatch detector.
    "open_escalations": """
        SELECT e.thread_id, e.run_id, e.agent, e.reason AS question,
               strftime('%Y-%m-%d %H:%M:%f', e.started, 'unixepoch') AS asked,
               ROUND(strftime('%s', 'now') - e.started) AS waiting_s, e.metadata, e.started
        FROM events e
        WHERE e.kind = 'escalation' AND e.outcome = 'waiting'
          AND NOT EXISTS (
            SELECT 1 FROM events a WHERE a.thread_id = e.thread_id AND a.kind = 'escalation'
              AND a.outcome != 'waiting' AND a.started >= e.started)
    """,
    "alerts": """
        SELECT strftime('%Y-%m-%d %H:%M:%f', started, 'unixepoch') AS at, name AS detector, outcome AS severity,
               thread_id, run_id, agent, reason AS message, json_extract(metadata, '$.pause') AS pause,
               metadata, started
        FROM events WHERE kind = 'alert'
    """,
}
