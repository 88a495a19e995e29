"""The escalation node: pause the thread and ask a human.

It uses LangGraph's ``interrupt()``: the thread is checkpointed and stops; the
answer arrives later (``switchboard resume``) as the interrupt's value. An
approval sends the run back to the supervisor with the human's note in the
trail and a fresh hop budget; a rejection ends the run cleanly.
"""

from __future__ import annotations

from typing import Literal

from langgraph.types import Command, interrupt

from switchboard.agents.guard import Answer
from switchboard.agents.records import EscalationEvent
from switchboard.graph.state import SupervisorState


def escalate(state: SupervisorState) -> Command[Literal["supervisor", "finalize"]]:
    """Ask the pending question and route on the answer."""
    question = state.get("pending") or "The supervisor asks a human to decide how to proceed."
    answer = Answer.parse(interrupt({"kind": "escalation", "question": question}))
    event = EscalationEvent(
        kind="escalation",
        source="supervisor",
        question=question,
        agent=None,
        rule=None,
        approved=answer.approved,
        note=answer.note,
        approver=answer.approver,
        at_call=0,
    )
    update = {"trail": [event], "pending": None}
    if answer.approved:
        return Command(goto="supervisor", update={**update, "hops": 0})
    return Command(goto="finalize", update={**update, "outcome": "rejected"})
