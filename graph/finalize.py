"""The finalize node: write the turn's report from its trail.

The report is composed from the agents' own summaries rather than asked of a
model: it is the record of what happened, and it must be exact. It closes the
turn three ways: a ``report`` record in the trail, ``summary`` and
``outcome`` in the state, and an ``AIMessage`` in the conversation, which is
what a chat client (LangGraph Studio, agent-chat-ui) shows as the answer.

The outcome is read from the trail, not taken on trust: a turn is
``resolved`` only when every step it started finished ``done``. A step that
failed and was not taken over, and that a human (or the supervisor) let the
run go past, leaves the turn ``handed_over``: the work is the human's now,
and nobody may read the run as a success.
"""

from __future__ import annotations

from langchain_core.messages import AIMessage

from switchboard.graph import trail as query
from switchboard.graph.state import Outcome, ReportEvent, SupervisorState


async def finalize(state: SupervisorState) -> dict[str, object]:
    """Close the turn with its outcome and a summary (a coroutine: no worker-thread hop, see ``intake``)."""
    turn = query.current_turn(state.get("trail") or [])
    unfinished = query.unfinished_steps(turn)
    outcome = _outcome(state.get("outcome"), bool(unfinished))
    lines = [f"{h['agent']}: {h['summary']}" for h in query.handoffs(turn) if h["status"] != "failed"]
    last = query.last_decision(turn)
    closing = last["reason"] if last else ""
    if outcome == "rejected":
        headline = "Stopped: a human rejected the request; nothing further was changed."
    elif outcome == "escalated":
        headline = closing or "Stopped for a human to take over."
    elif outcome == "handed_over":
        steps = ", ".join(repr(a["skill"] or a["instruction"]) for a in unfinished)
        headline = f"Handed over: step {steps} did not finish; a human must complete it."
    else:
        headline = f"Done: {closing}" if closing else "Done."
    summary = "\n".join([headline, *(f"- {line}" for line in lines)])
    report = ReportEvent(kind="report", outcome=outcome, summary=summary)
    message = AIMessage(summary, name="supervisor", response_metadata={"outcome": outcome})
    return {"trail": [report], "summary": summary, "outcome": outcome, "messages": [message]}


def _outcome(asked: Outcome | None, unfinished: bool) -> Outcome:
    """``resolved`` only when nothing is left undone; a rejection or a stop for a human stays what it is."""
    if asked in ("rejected", "escalated"):
        return asked
    return "handed_over" if unfinished else "resolved"
