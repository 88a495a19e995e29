"""The finalize node: write the turn's report from its trail.

The report is composed from the agents' own summaries rather than asked of a
model: it is the record of what happened, and it must be exact. It closes the
turn three ways: a ``report`` record in the trail, ``summary`` and
``outcome`` in the state, and an ``AIMessage`` in the conversation, which is
what a chat client (LangGraph Studio, agent-chat-ui) shows as the answer.
"""

from __future__ import annotations

from langchain_core.messages import AIMessage

from switchboard.graph import trail as query
from switchboard.graph.state import ReportEvent, SupervisorState


def finalize(state: SupervisorState) -> dict[str, object]:
    """Close the turn with its outcome and a summary."""
    turn = query.current_turn(state.get("trail") or [])
    outcome = state.get("outcome") or "resolved"
    lines = [f"{h['agent']}: {h['summary']}" for h in query.handoffs(turn) if h["status"] != "failed"]
    last = query.last_decision(turn)
    closing = last["reason"] if last else ""
    if outcome == "rejected":
        headline = "Stopped: a human rejected the request; nothing further was changed."
    elif outcome == "escalated":
        headline = closing or "Stopped for a human to take over."
    else:
        headline = f"Done: {closing}" if closing else "Done."
    summary = "\n".join([headline, *(f"- {line}" for line in lines)])
    report = ReportEvent(kind="report", outcome=outcome, summary=summary)
    message = AIMessage(summary, name="supervisor", response_metadata={"outcome": outcome})
    return {"trail": [report], "summary": summary, "outcome": outcome, "messages": [message]}
