"""The supervisor node: decide the next move and start it.

In order, the supervisor:

1. joins what came back since its last decision: a human rejection ends the
   run; a step that may have acted before it failed (``uncertain``) asks a
   human, whatever question came before it; a monitoring alert configured to
   pause asks a human (see ``switchboard.monitoring.pause_point``); a step
   that failed for technical reasons is reassigned to a fallback with the
   context of what was tried (or escalated past the retry budget);
2. escalates past the hop limit;
3. follows the plan of the last model decision while its steps go as
   expected (:mod:`~graph.plan`), else asks the
   :class:`~graph.routing.Router` (pinned rules, then the model);
4. applies the routing settings: waiting for or escalating about an
   unavailable agent, and escalating a low-confidence guess;
5. starts every step of the decision with ``Send``, in parallel when the
   decision has several.

Bad model answers never crash a run: the router retries once and then turns
them into an escalation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, Send

from switchboard.agents.interrupts import Governance
from switchboard.agents.questions import ASK_TOOL, REPLY_FIELD
from switchboard.graph import backpressure
from switchboard.graph import trail as query
from switchboard.graph.decision import RoutingDecision
from switchboard.graph.oversight import (
    counted,
    govern_results,
    refused_handoff,
    stopped_run,
    thread_epoch,
    trail_records,
)
from switchboard.graph.plan import next_planned, plan_entries
from switchboard.graph.routing import Offer, Router, RouteResult
from switchboard.graph.state import (
    AgentInput,
    Assignment,
    CapacityWait,
    DecisionEvent,
    HandoffEvent,
    SupervisorState,
    ToolCallRecord,
    TrailEvent,
)
from switchboard.monitoring import pause_point

SupervisorNode = Callable[[SupervisorState, RunnableConfig], Awaitable[Command[Any]]]

UNCERTAIN_STEP = "uncertain step"
"""The ``error`` of the decision that puts uncertain steps to a human: how the supervisor knows it asked."""

_SHOWN_CHARS = 300
"""How much of an uncertain call's arguments and result a question quotes."""


def supervisor_node(router: Router, *, max_hops: int, gov: Governance | None = None) -> SupervisorNode:
    """Build the supervisor node.

    Args:
        router: Makes the routing decisions for the team it was built with;
            its health registry supplies live load for waiting and reassignment.
        max_hops: Agent steps allowed before a human is asked to step in.
        gov: The policy's handoff grants, budgets and guardians, and the audit
            log every handoff and routing decision is appended to.
    """
    decide = _decider(router, max_hops)
    if gov is None:
        return decide

    async def supervisor(state: SupervisorState, config: RunnableConfig) -> Command[Any]:
        trail = state.get("trail") or []
        # Everything up to this node's previous decision was recorded when it was made (before its
        # checkpoint), so only the events since then are new: the audit costs O(steps), not O(steps²).
        # All of it is written in one transaction before the node returns (so before its checkpoint).
        epoch = thread_epoch(state)
        pending = trail_records(config, trail, _after_last_decision(trail), epoch=epoch)
        try:
            stop = govern_results(gov, config, state, pending)
            if stop is not None:
                command = stopped_run(stop.question) if stop.fail else _guard(stop.question, stop.error)
            else:
                command = await counted(decide, state, config)
        except Exception:
            await gov.record_many(pending)  # what came in is on record even when deciding fails
            raise
        refused = refused_handoff(gov, config, trail, command.update, pending, epoch=epoch)
        if refused:
            command = _guard(refused, "handoff not granted")
        update = command.update if isinstance(command.update, dict) else {}
        pending += trail_records(config, [*trail, *(update.get("trail") or [])], len(trail), epoch=epoch)
        await gov.record_many(pending)
        return command

    return supervisor


def _after_last_decision(trail: Sequence[TrailEvent]) -> int:
    """Where the events this node has not recorded yet start: after its last decision (recorded when made)."""
    for index in range(len(trail) - 1, -1, -1):
        if query.is_decision(trail[index]):
            return index + 1
    return 0


def _decider(router: Router, max_hops: int) -> SupervisorNode:
    settings = router.settings

    async def supervisor(state: SupervisorState, config: RunnableConfig) -> Command[Any]:
        trail = state.get("trail") or []
        fresh = query.since_last_decision(trail)
        if any(h["status"] == "rejected" for h in fresh):
            return Command(goto="finalize", update={"outcome": "rejected"})
        uncertain = unasked_uncertain(trail)
        if uncertain:  # before anything else may hand its work on, and before an alert is taken off its list
            return _ask_about(uncertain)
        alert = pause_point(config)  # a monitoring alert configured to pause asks a human before the next move
        if alert is not None:
            return _guard(f"Monitoring alert ({alert.detector}): {alert.message}. Continue the run?", "alert")
        failed = [h for h in fresh if h["status"] == "failed" and h["retryable"]]
        if failed:
            # reads the health registry, so off the event loop
            return await asyncio.to_thread(_reassign, failed, trail, state, router, settings.retry_budget)
        hops = state.get("hops", 0)
        if hops >= max_hops:
            reason = f"The run reached its limit of {max_hops} agent steps without finishing. Continue?"
            return _guard(reason, "hop limit")
        planned = await asyncio.to_thread(next_planned, trail, router)  # reads the health registry
        if planned is not None:
            if planned.decision.agent in planned.offer.unavailable:  # saturated: the step queues for it
                held = await _hold(planned, router)
                if isinstance(held, Command):
                    return held
                planned = held
            return _follow(planned, state, hops)
        human_said_go = query.human_said_go(trail)
        result = await router.decide(state["task"], trail, state.get("context") or {}, config)
        decision = result.decision
        if decision.action == "route" and decision.confidence < settings.min_confidence and not human_said_go:
            return _guard(_low_confidence_question(decision, settings.on_low_confidence), "low confidence", result)
        if decision.action == "route" and decision.agent in result.offer.unavailable:
            held = await _hold(result, router)
            if isinstance(held, Command):
                return held
            result = held
        return _follow(result, state, hops)

    return supervisor


def is_uncertain(handoff: HandoffEvent) -> bool:
    """Whether a step failed after an action whose effect is unknown.

    A card agent's write that timed out or was cut off mid-call, and a
    brought agent stopped, or left without an answer, after its request
    may have reached it (its run is recorded as one ``uncertain`` call),
    may have taken effect. Another agent given the step could do it again,
    so only a human may decide what follows.
    """
    return handoff["status"] == "failed" and any(call["outcome"] == "uncertain" for call in handoff["tool_calls"])


def unasked_uncertain(trail: Sequence[TrailEvent]) -> list[HandoffEvent]:
    """The current turn's uncertain steps that no human has been asked about yet.

    Steps are asked about by a decision with error :data:`UNCERTAIN_STEP`;
    those after the last such decision are not. Counting from there rather
    than from the last decision keeps a step in view after another question
    (a budget, a guardian, an alert) came first: a go-ahead on that question
    says nothing about the uncertain step.
    """
    turn = query.current_turn(trail)
    asked = [i for i, event in enumerate(turn) if query.is_decision(event) and event.get("error") == UNCERTAIN_STEP]
    since = turn[asked[-1] + 1 :] if asked else turn
    return [event for event in since if query.is_handoff(event) and is_uncertain(event)]


def _ask_about(uncertain: Sequence[HandoffEvent]) -> Command[Literal["escalate"]]:
    """Pause for a human, who decides what follows a step that may have acted.

    The question names each call whose effect is unknown. Going on sends
    the run back to the routing model, with the human's note, and it may
    then give the step to another agent: that is the human's call, not the
    model's. Rejecting ends the run.
    """
    steps = " ".join(_uncertain_step(handoff) for handoff in uncertain)
    question = (
        f"{steps} A human should check whether it took effect before anyone tries again. Go on (with a note on "
        "what you found) to let the supervisor decide the next step, which may give this work to another agent; "
        "reject to end the run."
    )
    return _guard(question, UNCERTAIN_STEP)


def _uncertain_step(handoff: HandoffEvent) -> str:
    calls = "; ".join(
        f"{call['tool']}({_clip(_arguments(call['args']))}): {_clip(call['result'])}"
        for call in handoff["tool_calls"]
        if call["outcome"] == "uncertain"
    )
    return f"{handoff['agent']}'s step {handoff['skill'] or _clip(handoff['instruction'])!r} may have acted: {calls}."


def _arguments(args: dict[str, Any]) -> str:
    return ", ".join(f"{name}={json.dumps(value, default=str)}" for name, value in args.items())


def _clip(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _payload(state: SupervisorState, assignment: Assignment) -> AgentInput:
    return AgentInput(
        task=state["task"],
        context=dict(state.get("context") or {}),
        history=[
            call for event in state.get("trail") or [] if event["kind"] == "handoff" for call in event["tool_calls"]
        ],
        assignment=assignment,
    )


def _follow(result: RouteResult, state: SupervisorState, hops: int) -> Command[Any]:
    decision = result.decision
    if decision.action == "escalate":
        return Command(goto="escalate", update={"trail": [_event(result)], "pending": decision.reason})
    if decision.action == "finish":
        return Command(goto="finalize", update={"trail": [_event(result)], "outcome": "resolved"})
    steps = [(decision.agent or "", decision.skill, decision.instruction)]
    steps += [(s.agent, s.skill, s.instruction) for s in decision.also]  # validated by the router
    assignments = [
        Assignment(id=uuid.uuid4().hex[:8], agent=agent, skill=skill, instruction=instruction, tried=[])
        for agent, skill, instruction in steps
    ]
    sends = [Send(a["agent"], _payload(state, a)) for a in assignments]
    update = {"trail": [_event(result, assignments)], "hops": hops + len(sends)}
    return Command(goto=sends, update=update)


def _reassign(
    failed: list[HandoffEvent], trail: Sequence[TrailEvent], state: SupervisorState, router: Router, budget: int
) -> Command[Any]:
    """Hand each failed step to another capable agent, or escalate."""
    assignments: list[Assignment] = []
    notes: list[str] = []
    for handoff in failed:
        tried = query.tried(trail, handoff["assignment"])
        target = _fallback_for(handoff, tried, router) if len(tried) <= budget else None
        if target is None:
            why = "its retry budget is spent" if len(tried) > budget else "no other capable agent is available"
            question = (
                f"Step {handoff['skill'] or handoff['instruction']!r} failed with {', '.join(tried)} and "
                f"{why}: {handoff['summary']} How should we proceed?"
            )
            return _guard(question, "reassignment exhausted")
        assignments.append(
            Assignment(
                id=handoff["assignment"],
                agent=target,
                skill=handoff["skill"],
                instruction=_with_history(handoff),
                tried=tried,
            )
        )
        notes.append(f"{handoff['agent']} failed ({handoff['summary']}); {target} takes over")
    first = assignments[0]
    decision = RoutingDecision(
        action="route",
        agent=first["agent"],
        skill=first["skill"],
        instruction=first["instruction"],
        reason="Reassigned: " + "; ".join(notes),
        confidence=1.0,
    )
    result = RouteResult(decision, "reassign", router.offer(state["task"]))
    sends = [Send(a["agent"], _payload(state, a)) for a in assignments]
    return Command(
        goto=sends, update={"trail": [_event(result, assignments)], "hops": state.get("hops", 0) + len(sends)}
    )


def _fallback_for(handoff: HandoffEvent, tried: list[str], router: Router) -> str | None:
    """The first free agent that can take over the step.

    With a known skill: the failed agent's fallbacks for it, then any agent
    with the skill. Without one, only the failed agent's declared fallbacks:
    capability cannot be guessed from a name.
    """
    team = router.team
    skill = handoff["skill"]
    card = next((c for c in team.agents if c.name == handoff["agent"]), None)  # it may have been removed
    if skill:
        preferred = list(card.fallbacks.get(skill, ())) if card else []
        preferred += [c.name for c in team.offering(skill)]
    else:
        preferred = [name for names in (card.fallbacks.values() if card else ()) for name in names]
    known = set(team.names)
    return next((n for n in preferred if n not in tried and n in known and router.available(n)), None)


def _with_history(handoff: HandoffEvent) -> str:
    """The failed step's instruction for its fallback: what was asked, what went wrong, what was tried.

    The instruction is sent with every model call of the new step, so tool
    results stay out of it (a read can return pages); the fallback reads
    again what it needs. The customer's replies are the exception: they
    exist nowhere else, and without them the fallback asks the same
    question again (see :func:`_tried`).
    """
    done = [_tried(call) for call in handoff["tool_calls"]]
    return (
        f"{handoff['instruction']}\n\nThis step was first given to {handoff['agent']}, which failed: "
        f"{handoff['summary']} Tool calls it made (do not repeat a write that succeeded, "
        f"nor a question the customer answered): {json.dumps(done, default=str)}"
    )


def _tried(call: ToolCallRecord) -> dict[str, Any]:
    """One tool call of a failed step, as its fallback is told of it: no result but the customer's reply.

    A reply is bounded (``MAX_REPLY_CHARS``), so keeping it costs the new
    step's every model call little, while asking again costs the customer a
    second round trip.
    """
    tried: dict[str, Any] = {"tool": call["tool"], "args": call["args"], "outcome": call["outcome"]}
    if call["tool"] == ASK_TOOL and call["outcome"] == "ok":
        tried[REPLY_FIELD] = call["result"]
    return tried


async def _hold(result: RouteResult, router: Router) -> RouteResult | Command[Any]:
    """The decision chose an agent that is unavailable: wait for it, or ask a human.

    With ``on_unavailable: fallback`` only a saturated agent no free agent
    can stand in for is chosen (see :mod:`~graph.backpressure`): the step
    queues for a slot, up to ``max_wait_s``, then a human is asked. With
    ``wait``, after a bounded wait the step goes to a fallback with the
    skill, if one is free. With ``escalate`` a human is asked at once.
    """
    settings = router.settings
    decision = result.decision
    agent = decision.agent or ""
    why = result.offer.unavailable[agent]
    if settings.on_unavailable == "fallback":
        return await _queue(result, router, agent, why)
    if settings.on_unavailable == "wait":
        for _ in range(settings.wait_attempts):
            await asyncio.sleep(settings.wait_seconds)
            if await asyncio.to_thread(router.available, agent):
                return result
        card = router.team.card(agent)
        candidates = [*card.fallbacks.get(decision.skill or "", ())]
        candidates += [c.name for c in router.team.offering(decision.skill)] if decision.skill else []
        free = [n for n in candidates if n != agent and await asyncio.to_thread(router.available, n)]
        target = free[0] if free else None
        if target is not None:
            waited = settings.wait_seconds * settings.wait_attempts
            note = f"{agent} still unavailable after {waited:g}s: {why}"
            moved = decision.model_copy(update={"agent": target, "reason": f"{decision.reason} ({note})"})
            return RouteResult(moved, result.source, result.offer, result.attempts, result.error, result.rule)
    question = f"{agent} is unavailable ({why}) and no fallback is free. Should the run go on without it?"
    return _guard(question, "agent unavailable", result)


async def _queue(result: RouteResult, router: Router, agent: str, why: str) -> RouteResult | Command[Any]:
    """Back-pressure: the step waits for a slot on ``agent``; a human is asked only when the wait expires."""
    decision = result.decision
    if await asyncio.to_thread(backpressure.stand_in, router, agent, decision.skill):
        return await asyncio.to_thread(_reoffered, result, router)
    wait = await backpressure.wait_for_capacity(router, agent, why, router.settings.max_wait_s)
    if wait["expired"]:
        return _guard(backpressure.expired_question(wait), "capacity wait expired", result, wait=wait)
    return dataclasses.replace(result, wait=wait)


def _reoffered(result: RouteResult, router: Router) -> RouteResult:
    """A free agent with the step's skill appeared while the decision was made: it takes the step."""
    decision = result.decision
    skill = decision.skill or ""
    card = router.team.card(decision.agent or "")
    candidates = [*card.fallbacks.get(skill, ()), *(c.name for c in router.team.offering(skill))]
    target = next(n for n in candidates if n != card.name and router.available(n))
    note = f"{card.name}: {result.offer.unavailable.get(card.name, 'unavailable')}; {target} is free"
    moved = decision.model_copy(update={"agent": target, "reason": f"{decision.reason} ({note})"})
    return dataclasses.replace(result, decision=moved)


def _low_confidence_question(decision: RoutingDecision, mode: str) -> str:
    guess = f"best guess {decision.agent} at {decision.confidence:.2f}: {decision.reason}"
    if mode == "clarify":
        return f"I am not sure what this task needs ({guess}). Please clarify the request."
    return f"I am not confident enough to route this ({guess}). Should {decision.agent} take it?"


def _guard(
    reason: str,
    error: str,
    result: RouteResult | None = None,
    offer: Offer | None = None,
    *,
    wait: CapacityWait | None = None,
) -> Command[Any]:
    decision = RoutingDecision(action="escalate", reason=reason, confidence=0.0)
    offer = offer or (result.offer if result else Offer((), ()))
    guarded = RouteResult(decision, "guard", offer, result.attempts if result else 0, error, wait=wait)
    return Command(goto="escalate", update={"trail": [_event(guarded)], "pending": reason})


def _event(result: RouteResult, assignments: list[Assignment] | None = None) -> DecisionEvent:
    decision = result.decision
    event = DecisionEvent(
        kind="decision",
        action=decision.action,
        agent=decision.agent,
        skill=decision.skill,
        instruction=decision.instruction,
        reason=decision.reason,
        confidence=decision.confidence,
        source=result.source,
        rule=result.rule,
        attempts=result.attempts,
        error=result.error,
        assignments=assignments or [],
        shortlist=list(result.offer.shortlist),
        unavailable=dict(result.offer.unavailable),
        plan=plan_entries(decision) if decision.action == "route" else [],
    )
    if result.wait is not None:
        event["capacity_wait"] = result.wait
    return event
