"""The routing decision: pinned rules first, then the model, over a live offer.

This is everything the supervisor does to pick the next agent, kept apart
from the graph node so that ``switchboard route`` and ``eval-routing`` make
exactly the decision a run would, without running anything.

The *offer* is the list of agent cards the model may choose from: the
capability shortlist, minus agents that are saturated or whose circuit is
open, ordered by preference (agents near capacity last, then cheaper first,
then file order). Each card in the prompt carries its live load and health.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig

from switchboard.agents.card import AgentCard, Team
from switchboard.agents.health import AgentHealth, HealthRegistry
from switchboard.graph import trail as query
from switchboard.graph.decision import RoutingDecision, decision_schema
from switchboard.graph.prompts import routing_messages
from switchboard.graph.shortlist import Shortlister
from switchboard.graph.state import TrailEvent
from switchboard.policies import PolicyFile

Source = Literal["model", "rule", "reassign", "guard"]
_COST = {"low": 0, "standard": 1, "high": 2}
_BUSY = 0.75


@dataclass(frozen=True)
class Offer:
    """The agents on offer for one decision, and why others are not."""

    cards: tuple[AgentCard, ...]
    shortlist: tuple[str, ...]
    unavailable: Mapping[str, str] = field(default_factory=dict)
    health: Mapping[str, AgentHealth] = field(default_factory=dict)
    held: tuple[AgentCard, ...] = ()
    """Unavailable agents still shown (``on_unavailable`` wait or escalate):
    choosing one makes the supervisor wait for it or ask a human."""

    @property
    def names(self) -> tuple[str, ...]:
        """Names the model may choose, in preference order (held agents last)."""
        return tuple(card.name for card in (*self.cards, *self.held))

    def free(self, card: AgentCard) -> int:
        """How many more steps ``card`` can take now."""
        health = self.health.get(card.name)
        return card.max_concurrency - (health.in_flight if health else 0)

    def view(self) -> list[dict[str, Any]]:
        """The cards as the prompt shows them, with live load and health."""
        views = []
        for card in (*self.cards, *self.held):
            item = card.prompt_view()
            health = self.health.get(card.name)
            if health is not None:
                item["load"] = f"{health.in_flight}/{card.max_concurrency}"
                item["error_rate"] = round(health.error_rate, 2)
            if card.name in self.unavailable:
                item["available"] = False
                item["unavailable_because"] = self.unavailable[card.name]
            views.append(item)
        return views


@dataclass(frozen=True)
class RouteResult:
    """One routing decision and how it was reached."""

    decision: RoutingDecision
    source: Source
    offer: Offer
    attempts: int = 0
    error: str | None = None
    rule: str | None = None


def progress_view(trail: Sequence[TrailEvent]) -> list[dict[str, Any]]:
    """What the supervisor sees of the current turn: handoffs and human answers only."""
    view: list[dict[str, Any]] = []
    for event in query.current_turn(trail):
        if query.is_handoff(event):
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
        elif query.is_escalation(event):
            view.append(
                {"kind": "human", "question": event["question"], "approved": event["approved"], "note": event["note"]}
            )
    return view


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
    """

    def __init__(
        self, team: Team, model: BaseChatModel, policy: PolicyFile, health: HealthRegistry | None = None
    ) -> None:
        self.team = team
        self.model = model
        self.settings = policy.routing
        self.health = health
        self._shortlister = Shortlister(team)
        self._rules = [(rule, re.compile(rule.pattern, re.IGNORECASE)) for rule in self.settings.rules]
        for rule in self.settings.rules:
            team.card(rule.agent)  # a rule naming an unknown agent fails at build time

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
        held: tuple[AgentCard, ...] = ()
        if self.settings.on_unavailable != "fallback":
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

    async def decide(
        self,
        task: str,
        trail: Sequence[TrailEvent],
        context: Mapping[str, Any],
        config: RunnableConfig | None = None,
    ) -> RouteResult:
        """Decide the next move: a pinned rule, else the model (one retry on a bad answer)."""
        offer = await asyncio.to_thread(self.offer, task)  # reads the health registry
        pinned = self.pinned(task, trail, offer)
        if pinned is not None:
            return pinned
        structured = self.model.with_structured_output(_schema(offer.names), include_raw=True)
        feedback: str | None = None
        errors: list[str] = []
        for attempt in (1, 2):
            messages = routing_messages(task, offer.view(), progress_view(trail), context, feedback)
            output = await structured.ainvoke(messages, config)
            decision, error = self._validate(output, offer)
            if decision is not None:
                return RouteResult(decision, "model", offer, attempt, "; ".join(errors) or None)
            errors.append(error)
            feedback = f"Your previous answer was refused: {error}. Answer again with the RoutingDecision tool."
        reason = f"The supervisor could not make a valid decision ({'; '.join(errors)}). How should we proceed?"
        decision = RoutingDecision(action="escalate", reason=reason, confidence=0.0)
        return RouteResult(decision, "guard", offer, 2, "; ".join(errors))

    def _validate(self, output: Any, offer: Offer) -> tuple[RoutingDecision | None, str]:
        if isinstance(output, dict) and output.get("parsing_error"):
            return None, self._explain(output, offer)
        parsed = output.get("parsed") if isinstance(output, dict) else output
        if not isinstance(parsed, RoutingDecision):
            return None, "no RoutingDecision tool call was made"
        if parsed.action == "route":
            steps = [(parsed.agent, parsed.instruction), *((s.agent, s.instruction) for s in parsed.also)]
            for agent, instruction in steps:
                if agent not in offer.names:
                    return None, self._unknown(agent, offer)
                if not instruction.strip():
                    return None, f"the step for {agent} needs an instruction"
            for card in (*offer.cards, *offer.held):
                wanted = sum(agent == card.name for agent, _ in steps)
                if card.name not in offer.unavailable and wanted > offer.free(card):
                    return None, f"{card.name} can take {offer.free(card)} more step(s) now, not {wanted}"
        return parsed, ""

    def _explain(self, output: dict[str, Any], offer: Offer) -> str:
        raw = output.get("raw")
        for call in getattr(raw, "tool_calls", None) or []:
            agent = (call.get("args") or {}).get("agent")
            if call.get("name") == "RoutingDecision" and agent and agent not in offer.names:
                return self._unknown(agent, offer)
        return f"the answer did not match the schema ({output['parsing_error']})"

    def _unknown(self, agent: Any, offer: Offer) -> str:
        if agent in offer.unavailable:
            return (
                f"agent {agent!r} is unavailable ({offer.unavailable[agent]}); choose one of {', '.join(offer.names)}"
            )
        return f"agent {agent!r} does not exist; choose one of {', '.join(offer.names)}"
