"""The supervisor node: an LLM decides which agent acts next.

Bad decisions must not crash a run. An answer that breaks the schema, names an
agent that does not exist, or asks for nothing is fed back to the model once
with the reason; a second bad answer, or a run past its hop limit, becomes an
escalation to a human instead of an exception.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agents.card import Team
from graph.decision import RoutingDecision, decision_schema
from graph.prompts import routing_messages
from graph.state import DecisionEvent, SupervisorState, TrailEvent, next_step

SupervisorNode = Callable[[SupervisorState, RunnableConfig], Awaitable[Command[str]]]


def progress_view(trail: list[TrailEvent]) -> list[dict[str, Any]]:
    """What the supervisor sees of the past: handoffs and human answers only."""
    view: list[dict[str, Any]] = []
    for event in trail:
        if event["kind"] == "handoff":
            view.append(
                {
                    "kind": "handoff",
                    "agent": event["agent"],
                    "skill": event["skill"],
                    "instruction": event["instruction"],
                    "status": event["status"],
                    "summary": event["summary"],
                    "facts": event["facts"],
                    "confidence": event["confidence"],
                }
            )
        elif event["kind"] == "escalation":
            view.append(
                {"kind": "human", "question": event["question"], "approved": event["approved"], "note": event["note"]}
            )
    return view


def supervisor_node(team: Team, model: BaseChatModel, *, max_hops: int) -> SupervisorNode:
    """Build the supervisor node for a team.

    Args:
        team: The agents on offer; their names are the only valid targets.
        model: The routing model; it must support structured output.
        max_hops: Agent steps allowed before a human is asked to step in.
    """
    names = team.names
    structured = model.with_structured_output(decision_schema(names), include_raw=True)
    cards = [card.prompt_view() for card in team.agents]

    async def supervisor(state: SupervisorState, config: RunnableConfig) -> Command[str]:
        step = next_step(state)
        hops = state.get("hops", 0)
        if hops >= max_hops:
            reason = f"The run reached its limit of {max_hops} agent steps without finishing. Continue?"
            return _escalate(step, reason, attempts=0, error="hop limit")
        trail = state.get("trail") or []
        feedback: str | None = None
        errors: list[str] = []
        for attempt in (1, 2):
            messages = routing_messages(
                state["task"], cards, progress_view(trail), state.get("context") or {}, feedback
            )
            output = await structured.ainvoke(messages, config)
            decision, error = _validate(output, names)
            if decision is not None:
                return _follow(decision, step, hops, attempt, "; ".join(errors) or None)
            errors.append(error)
            feedback = f"Your previous answer was refused: {error}. Answer again with the RoutingDecision tool."
        reason = f"The supervisor could not make a valid decision ({'; '.join(errors)}). How should we proceed?"
        return _escalate(step, reason, attempts=2, error="; ".join(errors))

    return supervisor


def _validate(output: Any, names: tuple[str, ...]) -> tuple[RoutingDecision | None, str]:
    parsed = output.get("parsed") if isinstance(output, dict) else output
    if output.get("parsing_error") if isinstance(output, dict) else None:
        return None, f"the answer did not match the schema ({output['parsing_error']})"
    if not isinstance(parsed, RoutingDecision):
        return None, "no RoutingDecision tool call was made"
    if parsed.action == "route":
        if parsed.agent not in names:
            return None, f"agent {parsed.agent!r} does not exist; choose one of {', '.join(names)}"
        if not parsed.instruction.strip():
            return None, "a route needs an instruction for the agent"
    return parsed, ""


def _follow(decision: RoutingDecision, step: int, hops: int, attempts: int, error: str | None) -> Command[str]:
    event = _event(decision, step, attempts, error)
    if decision.action == "route":
        assert decision.agent is not None
        active = {"agent": decision.agent, "skill": decision.skill, "instruction": decision.instruction}
        return Command(goto=decision.agent, update={"trail": [event], "active": active, "hops": hops + 1})
    if decision.action == "escalate":
        return Command(goto="escalate", update={"trail": [event], "pending": decision.reason})
    return Command(goto="finalize", update={"trail": [event], "outcome": "resolved"})


def _escalate(step: int, reason: str, *, attempts: int, error: str) -> Command[str]:
    decision = RoutingDecision(action="escalate", reason=reason, confidence=0.0)
    return Command(goto="escalate", update={"trail": [_event(decision, step, attempts, error)], "pending": reason})


def _event(decision: RoutingDecision, step: int, attempts: int, error: str | None) -> DecisionEvent:
    return DecisionEvent(
        kind="decision",
        step=step,
        action=decision.action,
        agent=decision.agent,
        skill=decision.skill,
        instruction=decision.instruction,
        reason=decision.reason,
        confidence=decision.confidence,
        attempts=attempts,
        error=error,
    )
