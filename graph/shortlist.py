"""Capability shortlisting: which agents the routing model gets to see.

A catalogue of hundreds of agents cannot go into every routing prompt. The
shortlist ranks cards by how well their description, skills and examples
match the task (TF-IDF, deterministic, offline, well under a millisecond for
500 cards) and keeps the best ``k``. The router then swaps unavailable agents
for their fallbacks, so the prompt grows with ``k``, not with the catalogue.
"""

from __future__ import annotations

from switchboard.agents.card import AgentCard, Team
from switchboard.text import TfidfIndex, features


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
        """The ``k`` best cards, in rank order.

        A team no larger than ``k`` is returned whole, in file order, so that
        small teams behave exactly as if there were no shortlist.
        """
        if len(self._team.agents) <= k:
            return list(self._team.agents)
        return [card for card, _ in self.rank(text)[:k]]
