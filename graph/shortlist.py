"""Capability shortlisting: which agents the routing model gets to see.

A catalogue of hundreds of agents cannot go into every routing prompt. The
shortlist ranks cards by how well their description, skills and examples
match the task (TF-IDF, deterministic, offline, well under a millisecond for
500 cards), keeps the best ``k``, and adds the fallbacks of those it keeps, so
a failing agent's work always has somewhere to go. The prompt then grows with
``k``, not with the catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.card import AgentCard, Team
from switchboard.engine.text import TfidfIndex, features


def _card_text(card: AgentCard) -> str:
    parts = [card.name.replace("_", " "), card.description]
    for skill in card.skills:
        parts += [skill.id.replace("_", " "), skill.description, *skill.examples]
    return " ".join(parts)


class Shortlister:
    """Ranks a team's cards against a task."""

    def __init__(self, team: Team) -> None:
        self._team = team
        self._index = TfidfIndex([features(_card_text(card)) for card in team.agents])

    def rank(self, text: str) -> list[tuple[AgentCard, float]]:
        """Every card with its similarity to ``text``, best first, ties in file order."""
        scores = self._index.similarities(features(text))
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [(self._team.agents[i], scores[i]) for i in order]

    def shortlist(self, text: str, k: int) -> list[AgentCard]:
        """The ``k`` best cards plus their fallbacks, in rank order.

        A team no larger than ``k`` is returned whole, in file order, so that
        small teams behave exactly as if there were no shortlist.
        """
        if len(self._team.agents) <= k:
            return list(self._team.agents)
        kept = [card for card, _ in self.rank(text)[:k]]
        names = {card.name for card in kept}
        for card in list(kept):
            for fallbacks in card.fallbacks.values():
                for name in fallbacks:
                    if name not in names:
                        names.add(name)
                        kept.append(self._team.card(name))
        return kept


def names(cards: Sequence[AgentCard]) -> tuple[str, ...]:
    """The names of some cards, in order."""
    return tuple(card.name for card in cards)
