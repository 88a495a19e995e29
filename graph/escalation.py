"""The escalation node: pause the thread and ask a human.

It uses LangGraph's ``interrupt()`` through :func:`~switchboard.agents.interrupts.ask`:
the thread is checkpointed and stops with an
:class:`~switchboard.agents.interrupts.EscalationRequest`; the answer arrives
later as the resume value. Only an :class:`~switchboard.agents.interrupts.Answer`
from someone in the policy's ``escalation_approvers`` (anyone, when it names
none) is accepted; anything else asks again. An approval sends the run back to
the supervisor with the human's note in the trail and a fresh hop budget; a
rejection ends the run cleanly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from langgraph.types import Command

from switchboard.agents.interrupts import EscalationRequest, ask
from switchboard.agents.records import EscalationEvent
from switchboard.graph.state import SupervisorState
from switchboard.policies import PolicyFile

EscalationNode = Callable[[SupervisorState], Command[Literal["supervisor", "finalize"]]]


def escalation_node(policy: PolicyFile) -> EscalationNode:
    """Build the escalation node for a team's policy (who may answer)."""
    approvers = list(policy.approvers_for(None))

    def escalate(state: SupervisorState) -> Command[Literal["supervisor", "finalize"]]:
        """Ask the pending question and route on the answer."""
        question = state.get("pending") or "The supervisor asks a human to decide how to proceed."
        answer = ask(EscalationRequest(question=question, approvers=approvers))
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

    return escalate
