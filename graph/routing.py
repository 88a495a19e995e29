"""The routing decision: pinned rules first, then the model, over a live offer.

This is everything the supervisor does to pick the next agent, kept apart
from the graph node so that ``switchboard route`` and ``eval-routing`` make
exactly the decision a run would, without running anything.

The *offer* is the list of agent cards the model may choose from: the
capability shortlist, minus agents that are saturated or whose circuit is
open (a saturated agent whose skill no free agent has stays, marked
unavailable: its step queues, see :mod:`~graph.backpressure`), ordered by
preference (agents near capacity last, then cheaper first, then file
order). Each card in the prompt carries its live load and health.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import InvalidToolCall
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp

from switchboard.agents.card import AgentCard, Team
from switchboard.agents.health import AgentHealth, HealthRegistry
from switchboard.agents.subgraph import invalid_args_error
from switchboard.errors import ConfigError, SwitchboardError
from switchboard.graph import trail as query
from switchboard.graph.backpressure import queued
from switchboard.graph.decision import PlanStep, RoutingDecision, decision_schema
from switchboard.graph.loops import detect_loop, step_key
from switchboard.graph.offer import Offer
from switchboard.graph.parallel import PlannedStep, parallel_conflict
from switchboard.graph.prompts import refusal_feedback, routing_messages
from switchboard.graph.shortlist import Shortlister
from switchboard.graph.state import CapacityWait, TrailEvent
from switchboard.graph.structured import StructuredAnswer, StructuredCall
from switchboard.models import StructuredMethod, model_options, structured_method
from switchboard.policies import PolicyFile

__all__ = ["Offer", "RouteResult", "Router", "context_view", "progress_view"]

Source = Literal["model", "plan", "rule", "reassign", "guard"]
_COST = {"low": 0, "standard": 1, "high": 2}
_BUSY = 0.75
_AMBIGUOUS = 0.8
"""The shortlist is ambiguous when the runner-up scores at least this share
of the best card's match with the task (or nothing matches at all); then
the prompt carries the skills' descriptions and examples to tell them apart."""
_FENCE = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True)
class RouteResult:
    """One routing decision and how it was reached."""

    decision: RoutingDecision
    source: Source
    offer: Offer
    attempts: int = 0
    error: str | None = None
    rule: str | None = None
    wait: CapacityWait | None = None
    """How long the step queued for a saturated agent, when it did (back-pressure)."""


def progress_view(trail: Sequence[TrailEvent]) -> list[dict[str, Any]]:
    """What the supervisor sees of the current turn: handoff records and human answers, never transcripts.

    A handoff is ``{"agent", "skill", "status", "summary", "facts",
    "confidence"}``, plus the ``instruction`` it was given when it did not
    come back done (a done step's summary says what was done); a human
    answer is ``{"kind": "human", "question", "approved", "note"}``.
    """
    view: list[dict[str, Any]] = []
    for event in query.current_turn(trail):
        if query.is_handoff(event):
            entry: dict[str, Any] = {"agent": event["agent"], "skill": event["skill"]}
            if event["status"] != "done":
                entry["instruction"] = event["instruction"]
            entry.update(
                status=event["status"], summary=event["summary"], facts=event["facts"], confidence=event["confidence"]
            )
            view.append(entry)
        elif query.is_escalation(event):
            view.append(
                {"kind": "human", "question": event["question"], "approved": event["approved"], "note": event["note"]}
            )
    return view


def context_view(context: Mapping[str, Any], progress: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The shared memory minus what the done handoffs in ``progress`` already show.

    The memory is the earlier turns' facts overlaid with each done handoff's
    facts, in order; so the facts of ``progress`` plus this view are the
    whole memory, and no fact is sent twice (tokens grow with the steps,
    not with their square).
    """
    shown: dict[str, Any] = {}
    for entry in progress:
        if entry.get("kind", "handoff") == "handoff" and entry.get("status") == "done":
            shown.update(entry.get("facts") or {})
    return {key: value for key, value in context.items() if key not in shown or shown[key] != value}


@lru_cache(maxsize=256)
def _schema(names: tuple[str, ...]) -> type[RoutingDecision]:
    return decision_schema(names)


class Router:
    """Makes routing decisions for one team.

    Args:
        team: The agents.
        model: The routing model (any chat model with structured output).
        policy: Routing settings and pinned rules (``routing:`` in the policy file).
        health: Live load and health; ``None`` treats every agent as idle.
        retries: Extra attempts of a model call that raised; default from
            the model's options (``?retries=``, ``SWITCHBOARD_MODEL_RETRIES``).
        backoff: Seconds before the first retry, doubled after each one;
            default from the model's options.
        method: How structured output is asked for; default from the model's
            options, by provider.
    """

    def __init__(
        self,
        team: Team,
        model: BaseChatModel,
        policy: PolicyFile,
        health: HealthRegistry | None = None,
        *,
        retries: int | None = None,
        backoff: float | None = None,
        method: StructuredMethod | None = None,
    ) -> None:
        self.team = team
        self.model = model
        self.settings = policy.routing
        self.health = health
        options = model_options(model)
        self.retries = options.retries if retries is None else retries
        self.backoff = options.backoff if backoff is None else backoff
        self.method: StructuredMethod = method or structured_method(model)
        self._bound: dict[tuple[str, ...], StructuredCall] = {}
        self._shortlister = Shortlister(team)
        self._rules = [(rule, re.compile(rule.pattern, re.IGNORECASE)) for rule in self.settings.rules]
        where = f" in {policy.source}" if policy.source else ""
        for rule in self.settings.rules:  # a rule naming an unknown agent fails at build time
            if rule.agent not in team.names:
                raise ConfigError(
                    f"routing rule {rule.id!r}{where} routes to {rule.agent!r}, which is no agent of team "
                    f"{team.name!r}; its agents: {', '.join(team.names)}"
                )

    def rank(self, text: str) -> list[tuple[AgentCard, float]]:
        """Every card by capability match with ``text``, best first."""
        return self._shortlister.rank(text)

    def offer(self, task: str, *, exclude: Sequence[str] = ()) -> Offer:
        """Shortlist by capability, swap unavailable agents for their fallbacks, order by preference.

        Args:
            task: What the shortlist is matched against.
            exclude: Agents not to offer (for example those that already failed).
        """
        pool = self._shortlister.shortlist(task, self.settings.shortlist)
        shortlist = [c for c in pool if c.name not in exclude]
        snapshot = self.health.snapshot(c.name for c in shortlist) if self.health else {}
        unavailable: dict[str, str] = {}
        candidates = list(shortlist)
        for card in candidates:  # grows: an unavailable agent's fallbacks join the offer
            health = snapshot.get(card.name)
            if health is None or health.available(card.max_concurrency):
                continue
            unavailable[card.name] = health.why_unavailable(card.max_concurrency) or "unavailable"
            for name in (n for names in card.fallbacks.values() for n in names):
                if name not in exclude and all(c.name != name for c in candidates):
                    candidates.append(self.team.card(name))
                    snapshot = {**snapshot, name: self.health.health(name)} if self.health else snapshot
        offered = [
            ((int(self._busy(card, snapshot)), _COST[card.cost_tier], index), card)
            for index, card in enumerate(candidates)
            if card.name not in unavailable
        ]
        cards = tuple(card for _, card in sorted(offered, key=lambda pair: pair[0]))
        if self.settings.on_unavailable == "fallback":  # back-pressure: a saturated agent nobody can stand in for
            held = queued(shortlist, snapshot, cards)
        else:
            held = tuple(c for c in shortlist if c.name in unavailable)
        return Offer(cards, tuple(c.name for c in shortlist), unavailable, snapshot, held)

    def available(self, name: str) -> bool:
        """Whether one agent may be given work now."""
        card = self.team.card(name)
        return self.health is None or self.health.health(name).available(card.max_concurrency)

    @staticmethod
    def _busy(card: AgentCard, snapshot: Mapping[str, AgentHealth]) -> bool:
        health = snapshot.get(card.name)
        return health is not None and health.in_flight >= _BUSY * card.max_concurrency

    def pinned(self, task: str, trail: Sequence[TrailEvent], offer: Offer) -> RouteResult | None:
        """The first routing rule that matches and has not fired yet, if any."""
        fired = query.fired_rules(trail)
        for rule, pattern in self._rules:
            match = pattern.search(task)
            if match is None or rule.id in fired or rule.agent not in offer.names:
                continue
            instruction = rule.instruction.format(task=task, match=match.group(0))
            decision = RoutingDecision(
                action="route",
                agent=rule.agent,
                skill=rule.skill,
                instruction=instruction,
                reason=f"routing rule {rule.id!r} matched {match.group(0)!r}",
                confidence=1.0,
            )
            return RouteResult(decision, "rule", offer, rule=rule.id)
        return None

    def structured(self, names: tuple[str, ...]) -> StructuredCall:
        """The model bound to the decision schema for an offer of ``names``, bound once per offer."""
        bound = self._bound.get(names)
        if bound is None:
            if len(self._bound) >= 256:
                self._bound.clear()
            bound = self._bound[names] = StructuredCall.bind(self.model, _schema(names), self.method)
        return bound

    def ambiguous(self, task: str, offer: Offer) -> bool:
        """Whether the offer's best two cards match ``task`` about equally (or nothing matches).

        Cards with the same skills (an agent and its backup) count once: they
        are not a choice between capabilities.
        """
        offered = set(offer.names)
        scores: list[float] = []
        seen: set[frozenset[str]] = set()
        for card, score in self.rank(task):
            skills = frozenset(s.id for s in card.skills)
            if card.name in offered and skills not in seen:  # a backup with the same skills is no rival
                seen.add(skills)
                scores.append(score)
            if len(scores) == 2:
                break
        return len(scores) < 2 or scores[0] <= 0 or scores[1] >= _AMBIGUOUS * scores[0]

    async def decide(
        self,
        task: str,
        trail: Sequence[TrailEvent],
        context: Mapping[str, Any],
        config: RunnableConfig | None = None,
    ) -> RouteResult:
        """Decide the next move: a pinned rule, else the model.

        A refused answer gets one retry with the reason; a model call that
        raises is retried with backoff. Either, past its budget, becomes an
        escalation that says why, and so does a decision that would continue
        a routing loop.
        """
        offer = await asyncio.to_thread(self.offer, task)  # reads the health registry
        pinned = self.pinned(task, trail, offer)
        if pinned is not None:
            return pinned
        structured = self.structured(offer.names)
        skills = offer.skills_view() if self.ambiguous(task, offer) else []
        feedback: str | None = None
        errors: list[str] = []
        for attempt in (1, 2):
            progress = progress_view(trail)
            messages = routing_messages(
                task,
                offer.view(),
                progress,
                context_view(context, progress),
                feedback,
                skills=skills,
                method=self.method,
            )
            output = await self._call(structured, messages, config)
            if isinstance(output, Unparsed):  # the provider's own parser refused the answer: a bad answer
                errors.append(output.reason)
                feedback = refusal_feedback(output.reason, self.method)
                continue
            if isinstance(output, BaseException):
                error = f"the routing model failed {self.retries + 1} time(s): {type(output).__name__}: {output}"
                return self._escalate(f"The supervisor's model is not answering ({error}).", offer, attempt, error)
            decision, error = self._validate(output, offer)
            if decision is not None:
                loop = self._loop(decision, trail)
                if loop is not None:
                    return self._escalate(loop, offer, attempt, "routing loop")
                return RouteResult(decision, "model", offer, attempt, "; ".join(errors) or None)
            errors.append(error)
            feedback = refusal_feedback(error, self.method)
        reason = f"The supervisor could not make a valid decision ({'; '.join(errors)})."
        return self._escalate(reason, offer, 2, "; ".join(errors))

    async def _call(
        self, structured: StructuredCall, messages: Any, config: RunnableConfig | None
    ) -> StructuredAnswer | Unparsed | BaseException:
        """The model's answer, why its provider could not parse it, or the last error once the retries are spent."""
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return await structured.ainvoke(messages, config)
            except (SwitchboardError, GraphBubbleUp):
                raise  # our own misconfiguration, or LangGraph's control flow: not a model failure
            except Exception as exc:  # any provider error: retried, then escalated with its name
                unparsed = unparsed_answer(exc)
                if unparsed is not None:
                    return unparsed  # the same prompt would get the same answer: the model needs to be told
                if attempt == self.retries:
                    return exc
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _loop(self, decision: RoutingDecision, trail: Sequence[TrailEvent]) -> str | None:
        if decision.action != "route" or query.human_said_go(trail):
            return None
        steps = [(decision.agent or "", decision.skill, decision.instruction)]
        steps += [(s.agent, s.skill, s.instruction) for s in decision.also]
        loop = detect_loop(trail, [step_key(*step) for step in steps])
        return loop.reason if loop else None

    @staticmethod
    def _escalate(reason: str, offer: Offer, attempts: int, error: str) -> RouteResult:
        if not reason.endswith("?"):
            reason += " How should we proceed?"
        decision = RoutingDecision(action="escalate", reason=reason, confidence=0.0)
        return RouteResult(decision, "guard", offer, attempts, error)

    def _validate(self, output: Any, offer: Offer) -> tuple[RoutingDecision | None, str]:
        parsed = output.get("parsed") if isinstance(output, dict) else output
        if not isinstance(parsed, RoutingDecision) and isinstance(output, dict):
            raw = output.get("raw")
            parsed = self._from_text(raw, offer)
            if parsed is None and (output.get("parsing_error") or self.method != "function_calling" or _broken(raw)):
                explained = self._explain(output, offer)
                if explained:
                    return None, explained
        if not isinstance(parsed, RoutingDecision):
            tool = self.method == "function_calling"
            return None, "no RoutingDecision tool call was made" if tool else "no JSON decision was given"
        if parsed.action == "route":
            steps = [(parsed.agent, parsed.skill, parsed.instruction)]
            steps += [(s.agent, s.skill, s.instruction) for s in parsed.also]
            for agent, skill, instruction in steps:
                if agent not in offer.names:
                    return None, self._unknown(agent, offer)
                if not instruction.strip():
                    return None, f"the step for {agent} needs an instruction"
                if skill and not self.team.card(agent).has_skill(skill):
                    return None, f"{agent} does not offer skill {skill!r}"
            for card in (*offer.cards, *offer.held):
                wanted = sum(agent == card.name for agent, _, _ in steps)
                if card.name not in offer.unavailable and wanted > offer.free(card):
                    return None, f"{card.name} can take {offer.free(card)} more step(s) now, not {wanted}"
            if len(steps) > 1:
                planned = [PlannedStep(agent or "", skill, instruction) for agent, skill, instruction in steps]
                conflict = parallel_conflict(planned, self.team)
                if conflict is not None:
                    return None, f"these steps cannot run in parallel: {conflict}"
            parsed = parsed.model_copy(update={"plan": self._feasible(parsed.plan)})
        return parsed, ""

    def _feasible(self, plan: list[PlanStep]) -> list[PlanStep]:
        """The plan up to its first step no agent of the team can take: the model is asked there."""
        known = {card.name: card for card in self.team.agents}
        for index, step in enumerate(plan):
            card = known.get(step.agent)
            if card is None or not step.instruction.strip() or (step.skill and not card.has_skill(step.skill)):
                return plan[:index]
        return plan

    def _from_text(self, raw: Any, offer: Offer) -> RoutingDecision | None:
        """A decision written as JSON text, as providers answer in the JSON methods."""
        if self.method == "function_calling":
            return None  # a tool was asked for: JSON text is a model not following the format
        content = getattr(raw, "content", None)
        found = _FENCE.search(content) if isinstance(content, str) else None
        if found is None:
            return None
        try:
            return _schema(offer.names).model_validate(json.loads(found.group(0)))
        except ValueError:
            return None

    def _explain(self, output: dict[str, Any], offer: Offer) -> str | None:
        """Why an answer that did not parse was wrong, in terms the model can fix."""
        raw = output.get("raw")
        broken = _broken(raw)
        if broken:
            return f"the RoutingDecision arguments were not valid JSON ({invalid_args_error(broken[0])})"
        calls = getattr(raw, "tool_calls", None) or []
        answers = [c.get("args") or {} for c in calls if c.get("name") == "RoutingDecision"]
        content = getattr(raw, "content", None)
        if self.method != "function_calling" and isinstance(content, str) and (found := _FENCE.search(content)):
            try:
                answers.append(json.loads(found.group(0)))
            except ValueError:
                return "the answer was not valid JSON"
        for args in answers:
            agent = args.get("agent") if isinstance(args, dict) else None
            if agent and agent not in offer.names:
                return self._unknown(agent, offer)
        error = output.get("parsing_error")
        if error:
            return f"the answer did not match the schema ({error})"
        return "the answer did not match the schema" if answers else None

    def _unknown(self, agent: Any, offer: Offer) -> str:
        if agent in offer.unavailable:
            return (
                f"agent {agent!r} is unavailable ({offer.unavailable[agent]}); choose one of {', '.join(offer.names)}"
            )
        return f"agent {agent!r} does not exist; choose one of {', '.join(offer.names)}"


def _broken(raw: Any) -> list[InvalidToolCall]:
    """The answer's RoutingDecision calls whose arguments were not valid JSON.

    LangChain keeps such a call apart (``invalid_tool_calls``), so the
    parser finds no call at all; told "no tool call was made", the model
    cannot see what to fix, and neither can the human it is escalated to.
    """
    calls: list[InvalidToolCall] = getattr(raw, "invalid_tool_calls", None) or []
    return [call for call in calls if call.get("name") == "RoutingDecision"]


@dataclass(frozen=True)
class Unparsed:
    """An answer the provider's client received and could not parse (it raised inside the model call)."""

    reason: str
    """Why, worded for the model's feedback and the human's escalation."""


_PARSE_ERRORS = frozenset({"ValidationError", "OutputParserException", "JSONDecodeError"})
"""Exceptions (by class name, so no provider package is imported) that mean the answer arrived but did not parse."""


def unparsed_answer(exc: BaseException) -> Unparsed | None:
    """Why an exception from a structured model call means a bad answer rather than a failing provider, if it does.

    Clients that parse structured output themselves (langchain-openai with
    ``json_schema``) raise inside the call: a ``ValidationError`` for JSON in
    a fence or of the wrong shape, ``LengthFinishReasonError`` for an answer
    cut off at ``max_tokens``. Retrying the same prompt would only get the
    same answer; telling the model what was wrong may not.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "LengthFinishReasonError" in names:
        return Unparsed("the answer was cut off at the token cap before it was complete; answer briefly")
    if names & _PARSE_ERRORS:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return Unparsed(f"the answer did not parse as a RoutingDecision ({type(exc).__name__}: {first})")
    return None
