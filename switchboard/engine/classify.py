"""Matching free text to labels: intents, agent skills, playbook skills.

All three use one :class:`Matcher`, a nearest-centroid TF-IDF classifier:
every label has a few texts (examples, a description, keywords); each text
becomes a TF-IDF vector, a label is the centroid of its texts' vectors, and a
query scores against a label by cosine similarity to that centroid. Inverse
document frequencies are counted over *labels*, not texts, so a word shared
by every label ("order") weighs little and a word unique to one ("cancel")
weighs a lot, however many examples each label has. On our labelled tasks
this beat matching the closest single example, which over-fits to one
phrasing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from switchboard.engine.playbook import Playbook
from switchboard.text import FIRST_PERSON, TfidfIndex, centroid, cosine, features, words


@dataclass(frozen=True)
class Match:
    """The best label for a text, with the runner-up and a calibrated confidence."""

    label: str
    """The winning label (an intent name or a skill id)."""
    score: float
    """Its similarity score, between 0 and 1."""
    runner_up: str | None
    """The second-best label, if any."""
    runner_up_score: float
    """The second-best score (0 if none)."""
    evidence: int = 3
    """How many of the text's words and word pairs the matcher knows."""

    @property
    def confidence(self) -> float:
        """How sure the match is: high for a strong score, well ahead, on enough words.

        A score of 0.5 is already a close paraphrase; a runner-up within half
        of the winner's score means the text could well be about either; a
        match on one known word ("refund") is weaker than one on three.
        """
        strength = min(1.0, self.score / 0.5)
        margin = (self.score - self.runner_up_score) / self.score if self.score > 0 else 0.0
        separation = min(1.0, 2.0 * margin)
        support = 0.6 + 0.4 * min(1.0, self.evidence / 3)
        return round(0.2 + 0.75 * strength * (0.35 + 0.65 * separation) * support, 2)


KEYWORD_BONUS = 0.03
"""Added to a label's score when the text contains one of its keywords.

A nudge, not a rule: enough to settle a near tie ("restock" in a text that
also says "returned items"), too little to override a clear match.
"""


class Matcher:
    """Scores texts against labelled groups of texts."""

    def __init__(
        self,
        groups: Sequence[tuple[str, Sequence[str]]],
        synonyms: Mapping[str, str] | None = None,
        keywords: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.synonyms = dict(synonyms or {})
        texts = [[features(text, self.synonyms) for text in group] for _, group in groups]
        self.labels = [label for label, _ in groups]
        self.index = TfidfIndex([[t for doc in docs for t in doc] for docs in texts])
        self.centroids = [centroid(self.index.vector(doc) for doc in docs) for docs in texts]
        self.keywords = {
            label: [tuple(words(k, self.synonyms)) for k in phrases if words(k, self.synonyms)]
            for label, phrases in (keywords or {}).items()
        }

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every label with its score, best first (ties keep the declared order)."""
        feats = features(text, self.synonyms)
        if not any(f in self.index.idf for f in feats if f != FIRST_PERSON):
            return [(label, 0.0) for label in self.labels]  # "I", alone, says nothing
        query = self.index.vector(feats)
        said = words(text, self.synonyms)
        scored = []
        for label, middle in zip(self.labels, self.centroids, strict=True):
            score = cosine(query, middle)
            if score > 0 and any(_contains(said, k) for k in self.keywords.get(label, ())):
                score = min(1.0, score + KEYWORD_BONUS)
            scored.append((label, round(score, 4)))
        return sorted(scored, key=lambda pair: -pair[1])

    def best(self, text: str, allowed: Sequence[str] | None = None) -> Match | None:
        """The best label (among ``allowed`` if given), or None if nothing scores."""
        ranked = [(lbl, s) for lbl, s in self.rank(text) if allowed is None or lbl in allowed]
        if not ranked or ranked[0][1] <= 0:
            return None
        second = ranked[1] if len(ranked) > 1 else (None, 0.0)
        evidence = len((set(features(text, self.synonyms)) - {FIRST_PERSON}) & self.index.idf.keys())
        return Match(ranked[0][0], ranked[0][1], second[0], second[1], evidence)


def _contains(said: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(said[i : i + n]) == phrase for i in range(len(said) - n + 1))


@lru_cache(maxsize=16)
def intent_matcher(playbook: Playbook) -> Matcher:
    """The matcher over a playbook's intents (built once per playbook)."""
    groups = [(i.name, [*i.examples, *([" ".join(i.keywords)] if i.keywords else [])]) for i in playbook.intents]
    keywords = {i.name: i.keywords for i in playbook.intents}
    return Matcher(groups, playbook.synonyms, keywords)


@lru_cache(maxsize=16)
def skill_matcher(playbook: Playbook) -> Matcher:
    """The matcher over a playbook's skills, for instructions that name no skill."""
    groups = [(s.id, [s.id.replace("_", " "), s.description, *s.examples]) for s in playbook.skills]
    return Matcher(groups, playbook.synonyms)


@lru_cache(maxsize=64)
def _capability_matcher(cards_json: str, synonyms_json: str) -> Matcher:
    groups = []
    for card in json.loads(cards_json):
        for skill in card.get("skills") or []:
            texts = [str(skill.get("id", "")).replace("_", " "), str(skill.get("description", ""))]
            texts += [str(e) for e in skill.get("examples") or []]
            if not skill.get("description"):  # the compact prompt's skill ids: the card's line says what it does
                texts.append(str(card.get("description", "")))
            groups.append((f"{card.get('name')}/{skill.get('id')}", texts))
    return Matcher(groups, json.loads(synonyms_json))


def capability_match(text: str, cards: Sequence[Mapping[str, Any]], synonyms: Mapping[str, str]) -> Match | None:
    """The best ``agent/skill`` of the cards on offer for a text, or None."""
    cards_json = json.dumps(list(cards), sort_keys=True, default=str)
    matcher = _capability_matcher(cards_json, json.dumps(dict(synonyms), sort_keys=True))
    return matcher.best(text) if matcher.labels else None
