"""The offer: the agent cards one routing decision may choose from, as the prompt shows them.

Built by :meth:`switchboard.graph.routing.Router.offer`: the capability
shortlist minus unavailable agents (with their fallbacks instead), in order
of preference. The prompt views here are the compact routing context: a
card is its name and first sentence, and each distinct skill is listed once
with the agents offering it (see :mod:`switchboard.graph.prompts`).
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
        """The cards as the prompt shows them: name, one line, live load and health.

        Skills are not repeated per card: :meth:`skills_view` lists each once
        with the agents that offer it.
        """
        views = []
        backups = {n: a.name for a in (*self.cards, *self.held) for names in a.fallbacks.values() for n in names}
        for card in (*self.cards, *self.held):
            item: dict[str, Any] = {"name": card.name, "description": _first_sentence(card.description)}
            if card.cost_tier != "standard":
                item["cost_tier"] = card.cost_tier
            if card.name in backups:
                item["backup_for"] = sorted({a for n, a in backups.items() if n == card.name})
            health = self.health.get(card.name)
            if health is not None:
                item["load"] = f"{health.in_flight}/{card.max_concurrency}"
                item["error_rate"] = round(health.error_rate, 2)
            if card.name in self.unavailable:
                item["available"] = False
                item["unavailable_because"] = self.unavailable[card.name]
            views.append(item)
        return views

    def skills_view(self, *, detail: bool) -> list[dict[str, Any]]:
        """Every distinct skill on offer, once, with the agents offering it.

        Args:
            detail: Add each skill's examples, for a shortlist whose cards
                match the task about equally well.
        """
        skills: dict[str, dict[str, Any]] = {}
        for card in (*self.cards, *self.held):
            for skill in card.skills:
                item = skills.get(skill.id)
                if item is None:
                    item = skills[skill.id] = {"id": skill.id, "description": skill.description, "agents": []}
                    if skill.writes:
                        item["writes"] = True
                    if detail and skill.examples:
                        item["examples"] = list(skill.examples)
                item["agents"].append(card.name)
        return list(skills.values())


def _first_sentence(text: str) -> str:
    line = " ".join(text.split())
    end = line.find(". ")
    return line if end < 0 else line[: end + 1]
