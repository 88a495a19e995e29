"""The finalize node: write the run's report from its trail.

The report is composed from the agents' own summaries rather than asked of a
model: it is the record of what happened, and it must be exact.
"""

from __future__ import annotations

from switchboard.graph.state import ReportEvent, SupervisorState


def finalize(state: SupervisorState) -> dict[str, object]:
    """Close the run with its outcome and a summary."""
    trail = state.get("trail") or []
    outcome = state.get("outcome") or "resolved"
    lines = [
        f"{event['agent']}: {event['summary']}"
        for event in trail
        if event["kind"] == "handoff" and event["status"] != "failed"
    ]
    decisions = [e for e in trail if e["kind"] == "decision"]
    closing = decisions[-1]["reason"] if decisions else ""
    if outcome == "rejected":
        headline = "Stopped: a human rejected the request; nothing further was changed."
    else:
        headline = f"Done: {closing}" if closing else "Done."
    summary = "\n".join([headline, *(f"- {line}" for line in lines)])
    report = ReportEvent(kind="report", outcome=outcome, summary=summary)
    return {"trail": [report], "summary": summary, "outcome": outcome}
