"""Following the routing model's plan: steps that go as expected need no model call.

A model decision may carry ``plan``: the steps the model expects after this
one. The supervisor then routes the next planned step itself, recorded in
the trail as a decision with source ``"plan"``, as long as the run goes the
way the plan assumed. Every step the last decision started must have come
back:

- ``done`` (a failure, a refusal or an ``unable`` is a deviation);
- with a confidence of at least :data:`PLAN_CONFIDENCE`;
- reporting no new value for a fact the planned instructions quote (the
  plan was written with the old one);
- with no human answer in between that refused or added a note;

and the planned agent must still be on the team, offer the step's skill and
be available, or saturated with no free agent to stand in (then the step
queues for a slot, see :mod:`~graph.backpressure`). Anything else sends the decision back to the model, which
sees the progress so far and may make a new plan. The model keeps the
routing: a plan is only its own earlier answer, replayed while it still holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from switchboard.agents.card import AgentCard
from switchboard.graph import backpressure
from switchboard.graph import trail as query
from switchboard.graph.decision import PlanStep, RoutingDecision
from switchboard.graph.offer import Offer
from switchboard.graph.routing import Router, RouteResult
from switchboard.graph.state import DecisionEvent, PlanEntry, TrailEvent

__all__ = ["PLAN_CONFIDENCE", "deviation", "next_planned", "plan_entries"]

PLAN_CONFIDENCE = 0.6
"""A handoff below this confidence sends the run back to the routing model."""


def plan_entries(decision: RoutingDecision) -> list[PlanEntry]:
    """A decision's plan as trail records."""
    return [PlanEntry(agent=s.agent, skill=s.skill, instruction=s.instruction) for s in decision.plan]


def deviation(trail: Sequence[TrailEvent], last: DecisionEvent) -> str | None:
    """Why the run has left the plan of ``last``, or ``None`` while it holds."""
    start = _index(trail, last)
    after = trail[start + 1 :]
    came_back = [e for e in after if query.is_handoff(e)]
    if len(came_back) < max(1, len(last["assignments"])):
        return "not every step of the last decision has come back"
    for event in after:
        if query.is_escalation(event) and (not event["approved"] or event["note"].strip()):
            return f"a human answered {event['question']!r}" + (f" with {event['note']!r}" if event["note"] else "")
    known = _facts(trail[:start])
    for handoff in came_back:
        if handoff["status"] != "done":
            return f"{handoff['agent']}'s step ended {handoff['status']}"
        if handoff["confidence"] < PLAN_CONFIDENCE:
            return f"{handoff['agent']} handed back with confidence {handoff['confidence']:.2f}"
        stale = _stale(known, handoff["facts"], last.get("plan") or [])
        if stale:
            return f"{handoff['agent']} reported new values for {', '.join(stale)}, which the plan relies on"
    return None


def _stale(known: Mapping[str, Any], facts: Mapping[str, Any], plan: Sequence[PlanEntry]) -> list[str]:
    """Facts whose earlier value a planned instruction quotes, and which a step has changed.

    A state that moves on (an order from "return requested" to "returned")
    is progress, not news; an order id or an amount the plan was written
    with, reported differently, means the plan's instructions are wrong.
    """
    text = " ".join(step["instruction"] for step in plan)
    return sorted(
        key
        for key, value in facts.items()
        if key in known and known[key] != value and any(str(old) in text for old in _values(known[key]))
    )


def _values(value: Any) -> list[Any]:
    items = value if isinstance(value, list | tuple) else [value]
    return [item for item in items if isinstance(item, str | int | float) and str(item).strip()]


def next_planned(trail: Sequence[TrailEvent], router: Router) -> RouteResult | None:
    """The next step of the last model decision's plan, if the run still follows it.

    Reads the health registry (availability), so call it off the event loop.
    """
    last = query.last_decision(trail)
    plan = (last.get("plan") or []) if last is not None and last["action"] == "route" else []
    if last is None or not plan or deviation(trail, last) is not None:
        return None
    step, rest = plan[0], plan[1:]
    card = next((c for c in router.team.agents if c.name == step["agent"]), None)
    if card is None or (step["skill"] and not card.has_skill(step["skill"])):
        return None
    offer: Offer | None = Offer((card,), ())
    if not router.available(card.name):
        offer = _queue(router, card, step["skill"])
    if offer is None:
        return None
    decision = RoutingDecision(
        action="route",
        agent=card.name,
        skill=step["skill"],
        instruction=step["instruction"],
        reason=f"Following the plan: the previous step went as expected; {len(rest)} more step(s) planned.",
        confidence=last["confidence"],
        plan=[PlanStep(agent=e["agent"], skill=e["skill"], instruction=e["instruction"]) for e in rest],
    )
    return RouteResult(decision, "plan", offer)


def _queue(router: Router, card: AgentCard, skill: str | None) -> Offer | None:
    """The planned agent is unavailable: an offer that queues the step for it, or ``None`` to ask the model.

    Only a saturated agent (circuit closed) that no free agent can stand in
    for keeps its planned step, which then waits for a slot (back-pressure,
    :mod:`~graph.backpressure`); otherwise the model chooses among the free.
    """
    if router.settings.on_unavailable != "fallback" or router.health is None:
        return None
    health = router.health.health(card.name)
    if not backpressure.saturated(health, card.max_concurrency) or backpressure.stand_in(router, card.name, skill):
        return None
    why = health.why_unavailable(card.max_concurrency) or "at capacity"
    return Offer((), (card.name,), {card.name: why}, {card.name: health}, (card,))


def _index(trail: Sequence[TrailEvent], event: DecisionEvent) -> int:
    for index in range(len(trail) - 1, -1, -1):
        if trail[index] is event:
            return index
    return len(trail) - 1


def _facts(trail: Sequence[TrailEvent]) -> dict[str, Any]:
    known: dict[str, Any] = {}
    for handoff in query.handoffs(trail):
        if handoff["status"] == "done":
            known.update(handoff["facts"])
    return known
