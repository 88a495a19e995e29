"""The offer: the agent cards one routing decision may choose from, as the prompt shows them.

Built by :meth:`switchboard.graph.routing.Router.offer`: the capability
shortlist minus unavailable agents (with their fallbacks instead), in order
of preference. The prompt views here are the compact routing context: a
card is its name, first sentence and skill ids (``skills``, and ``writes`` for
those that change records); the skills' descriptions and
examples are listed once each, only when the shortlist is ambiguous (see
:mod:`switchboard.graph.prompts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.agents.card import AgentCard
from switchboard.agents.health import AgentHealth

__all__ = ["Offer"]


@dataclass(frozen=True)
class Offer:
    """The agents on offer for one decision, and why others are not."""

    cards: tuple[AgentCard, ...]
    shortlist: tuple[str, ...]
    unavailable: Mapping[str, str] = field(default_factory=dict)
    health: Mapping[str, AgentHealth] = field(default_factory=dict)
    held: tuple[AgentCard, ...] = ()
    """Unavailable agents still shown (``on_unavailable`` wait or escalate,
    or with ``fallback`` a saturated agent no free agent can stand in for):
    choosing one makes the supervisor wait for it, then ask a human."""

    @property
    def names(self) -> tuple[str, ...]:
        """Names the model may choose, in preference order (held agents last)."""
        return tuple(card.name for card in (*self.cards, *self.held))

    def free(self, card: AgentCard) -> int:
        """How many more steps ``card`` can take now."""
        health = self.health.get(card.name)
        return card.max_concurrency - (health.in_flight if health else 0)

    def view(self) -> list[dict[str, Any]]:
        """The cards as the prompt shows them: name, one line, skill ids, and what is not usual.

        The skill ids are split in two, each id once: ``skills`` for those
        that change nothing outside the run, ``writes`` for those that do
        (for the parallel rule). ``cost_tier`` appears when not standard, ``backup_for`` on a
        fallback, ``load`` and ``error_rate`` when the agent is busy or has
        failed lately (absent: idle and healthy), ``available`` and
        ``unavailable_because`` when it cannot take work. Skill descriptions
        and examples go in :meth:`skills_view`, sent only when needed.
        """
        views = []
        backups = {n: a.name for a in (*self.cards, *self.held) for names in a.fallbacks.values() for n in names}
        for card in (*self.cards, *self.held):
            item: dict[str, Any] = {"name": card.name, "description": _first_sentence(card.description)}
            reads = [skill.id for skill in card.skills if not skill.writes]
            writes = [skill.id for skill in card.skills if skill.writes]
            if reads:
                item["skills"] = reads
            if writes:
                item["writes"] = writes
            if card.cost_tier != "standard":
                item["cost_tier"] = card.cost_tier
            if card.name in backups:
                item["backup_for"] = sorted({a for n, a in backups.items() if n == card.name})
            health = self.health.get(card.name)
            if health is not None and (health.in_flight or health.error_rate):
                item["load"] = f"{health.in_flight}/{card.max_concurrency}"
                item["error_rate"] = round(health.error_rate, 2)
            if card.name in self.unavailable:
                item["available"] = False
                item["unavailable_because"] = self.unavailable[card.name]
            views.append(item)
        return views

    def skills_view(self) -> list[dict[str, Any]]:
        """Every distinct skill on offer, once, with its description and examples.

        Sent only when the cards' one line and skill ids may not tell the
        choices apart (an ambiguous shortlist, see
        :meth:`switchboard.graph.routing.Router.ambiguous`).
        """
        skills: dict[str, dict[str, Any]] = {}
        for card in (*self.cards, *self.held):
            for skill in card.skills:
                if skill.id not in skills:
                    item = skills[skill.id] = {"id": skill.id, "description": skill.description}
                    if skill.examples:
                        item["examples"] = list(skill.examples)
        return list(skills.values())


def _first_sentence(text: str) -> str:
    line = " ".join(text.split())
    end = line.find(". ")
    return line if end < 0 else line[: end + 1]
