"""Tokenising, stemming and the TF-IDF matcher."""

from __future__ import annotations

import pytest

from switchboard.engine.classify import Matcher
from switchboard.text import FIRST_PERSON, TfidfIndex, cosine, features, stem, words


@pytest.mark.parametrize(
    ("forms", "root"),
    [
        (("return", "returns", "returned", "returning"), "return"),
        (("cancel", "cancelled", "canceled", "cancelling", "cancellation"), "cancel"),
        (("exchange", "exchanged", "exchanging"), "exchang"),
        (("ship", "shipped", "shipping"), "ship"),
        (("damage", "damaged"), "damag"),
    ],
)
def test_inflections_meet(forms: tuple[str, ...], root: str) -> None:
    assert {stem(f) for f in forms} == {root}


def test_words_drop_ids_numbers_and_function_words() -> None:
    assert words("Please cancel order #W1234567 for jane@example.com, 3 items!") == [
        "cancel",
        "order",
        "item",
    ]
    assert words("I don't need it") == ["not"]


def test_features_add_bigrams_and_the_first_person() -> None:
    feats = features("I no longer need the gift card")
    assert "no_longer" in feats and "gift_card" in feats and FIRST_PERSON in feats
    assert FIRST_PERSON not in features("Restock the returned items")


def test_synonyms_map_words_before_matching() -> None:
    assert words("my parcel", {"parcel": "package"}) == ["packag"]
    assert words("the blender broke", {"blender": "item"}) == ["item", "brok"]


def test_tfidf_vectors_are_normalised_and_ignore_unknown_words() -> None:
    index = TfidfIndex([["cancel", "order"], ["return", "order"]])
    vector = index.vector(["cancel", "zebra"])
    assert set(vector) == {"cancel"}
    assert cosine(vector, vector) == pytest.approx(1.0)
    assert index.idf["order"] < index.idf["cancel"]


def test_matcher_ranks_and_calibrates() -> None:
    matcher = Matcher(
        [
            ("cancel", ["cancel my order", "please cancel it"]),
            ("track", ["where is my package", "track my order"]),
        ]
    )
    best = matcher.best("cancel the order now")
    assert best is not None and best.label == "cancel" and best.runner_up == "track"
    assert 0.2 <= best.confidence <= 0.95
    assert matcher.best("zebra crossing") is None
    assert matcher.best("cancel it", allowed=["track"]) is None


def test_tfidf_similarities_rank_documents() -> None:
    index = TfidfIndex([features("cancel my order"), features("where is my package")])
    cancel, track = index.similarities(features("please cancel it"))
    assert cancel > track == 0.0
