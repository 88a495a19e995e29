"""The escalation node: pause the thread and ask a human.

It asks through :func:`~switchboard.agents.interrupts.ask`: the thread is
checkpointed and stops with an
:class:`~switchboard.policies.answers.EscalationRequest`; the answer arrives
later as the resume value and is checked here, in the graph. When the policy
names principals, going on needs a signed answer by a principal holding one
of the policy's ``escalation_roles`` (any principal when it names none);
stopping the run needs no signature. A refused answer asks again. An
approval sends the run back to the supervisor with the human's note in the
trail and a fresh hop budget; a rejection ends the run cleanly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from switchboard.agents.interrupts import Governance, ask
from switchboard.agents.records import EscalationEvent
from switchboard.graph.state import SupervisorState
from switchboard.policies.answers import escalation_request

EscalationNode = Callable[[SupervisorState, RunnableConfig], Awaitable[Command[Literal["supervisor", "finalize"]]]]


def escalation_node(gov: Governance) -> EscalationNode:
    """Build the escalation node for a team's governance (who may answer, where it is recorded)."""
    roles, path = list(gov.policy.escalation_roles), gov.policy.escalation_path

    async def escalate(state: SupervisorState, config: RunnableConfig) -> Command[Literal["supervisor", "finalize"]]:
        """Ask the pending question and route on the answer."""
        question = state.get("pending") or "The supervisor asks a human to decide how to proceed."

        def build(interrupt_id: str, asked_at: float) -> object:
            return escalation_request(question, roles, interrupt_id=interrupt_id, asked_at=asked_at, escalation=path)

        _, verdict = await ask(gov, config, "escalation", build, signed=gov.signed_escalations)
        event = EscalationEvent(
            kind="escalation",
            source="supervisor",
            question=question,
            agent=None,
            rule=None,
            approved=verdict.approved,
            note=verdict.note,
            approver=verdict.answered_by,
            at_call=0,
        )
        update = {"trail": [event], "pending": None}
        if verdict.approved:
            return Command(goto="supervisor", update={**update, "hops": 0})
        return Command(goto="finalize", update={**update, "outcome": "rejected"})

    return escalate
