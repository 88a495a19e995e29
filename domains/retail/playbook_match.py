"""Matching a customer's words to real records: order items, variants, products.

Slots keep the customer's words ("the blue water bottle", "for the red one");
these functions decide which items of an order and which variant of a
product those words mean, once the records have been read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_GENERIC_VALUES = frozenset({"no", "yes", "none", "not resistant"})
"""Option values too common in prose to count as a mention."""
_ALIASES = {"tee": "shirt", "gray": "grey", "colour": "color", "earphone": "earbud"}


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def tokens(text: str) -> set[str]:
    """Lower-case singular words of a text, with hyphenated words also joined ("tshirt")."""
    lowered = text.lower()
    found = {_ALIASES.get(w, w) for w in map(_singular, re.findall(r"[a-z0-9]+", lowered))}
    found |= {_singular(w.replace("-", "")) for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", lowered)}
    return found


def mentions(value: str, text: str) -> bool:
    """Whether an option value ("rose gold", "L", "1000ml") is written in ``text``."""
    value = value.lower().replace("gray", "grey")
    if value in _GENERIC_VALUES:
        return False
    text = text.lower().replace("gray", "grey")
    return re.search(rf"(?<![\w'\-]){re.escape(value)}(?![\w\-])", text) is not None


def _name_score(name: str, words: set[str]) -> tuple[float, str] | None:
    """How well ``words`` name a product: None if its head noun is absent."""
    parts = [_ALIASES.get(w, w) for w in map(_singular, re.findall(r"[a-z0-9]+", name.lower()))]
    if not parts:
        return None
    head = parts[-1]
    joined = _singular(re.sub(r"[^a-z0-9]", "", name.lower()))
    exact = head in words or joined in words
    partial = any(len(w) >= 4 and head.endswith(w) for w in words)
    if not (exact or partial):
        return None
    share = sum(p in words for p in parts) / len(parts)
    return (2.0 if exact else 1.0) + share, head


def match_items(items: Sequence[Mapping[str, Any]], text: str) -> list[str]:
    """The item ids of an order that ``text`` talks about (each id once).

    An item is named by its head noun ("kettle" for "Electric Kettle"). When
    several items share a head noun, the other name words and the option
    values in the text ("the black one") pick the best of them.
    """
    words = tokens(text)
    best: dict[str, float] = {}
    scored: list[tuple[str, float, str]] = []
    for item in items:
        named = _name_score(str(item.get("name", "")), words)
        if named is None:
            continue
        options = item.get("options") or {}
        score = named[0] + 0.5 * sum(mentions(str(v), text) for v in options.values())
        scored.append((str(item.get("item_id")), score, named[1]))
        best[named[1]] = max(best.get(named[1], 0.0), score)
    chosen = [item_id for item_id, score, head in scored if score >= best[head]]
    return list(dict.fromkeys(chosen))


def choose_variant(product: Mapping[str, Any], current: Mapping[str, Any], target: str) -> dict[str, Any] | None:
    """The available variant the customer asks for, or None if the words name none.

    The asked-for option values must all hold; among the variants that have
    them, the one that keeps the most of the current item's other options wins.
    """
    variants = sorted(
        (v for v in (product.get("variants") or {}).values() if isinstance(v, Mapping)),
        key=lambda v: str(v.get("item_id")),
    )
    wanted = {
        key: str(value)
        for v in variants
        for key, value in (v.get("options") or {}).items()
        if mentions(str(value), target)
    }
    if not wanted:
        return None
    current_options = current.get("options") or {}
    ranked = []
    for variant in variants:
        options = variant.get("options") or {}
        if not variant.get("available") or variant.get("item_id") == current.get("item_id"):
            continue
        hits = sum(mentions(str(options.get(k, "")), target) for k in wanted)
        kept = sum(options.get(k) == v for k, v in current_options.items() if k not in wanted)
        ranked.append((hits, kept, variant))
    ranked = [r for r in ranked if r[0] == len(wanted)]
    if not ranked:
        return None
    ranked.sort(key=lambda r: (-r[0], -r[1]))
    return dict(ranked[0][2])


def find_products(catalogue: Mapping[str, str], text: str) -> list[tuple[str, str]]:
    """The ``(name, product_id)`` pairs of a catalogue that ``text`` names, best first."""
    words = tokens(text)
    scored = []
    for name, product_id in catalogue.items():
        named = _name_score(name, words)
        if named is not None:
            scored.append((named[0], name, str(product_id)))
    if not scored:
        return []
    top = max(s for s, _, _ in scored)
    return [(name, pid) for s, name, pid in sorted(scored, key=lambda x: -x[0]) if s >= top]


def variants_matching(product: Mapping[str, Any], text: str) -> list[dict[str, Any]]:
    """The variants that have, for every option the text names, one of the named values.

    "in size 10, black or brown" keeps size-10 variants that are black or brown.
    """
    variants = [v for v in (product.get("variants") or {}).values() if isinstance(v, Mapping)]
    named: dict[str, set[str]] = {}
    for variant in variants:
        for key, value in (variant.get("options") or {}).items():
            if mentions(str(value), text):
                named.setdefault(key, set()).add(str(value))
    return [
        dict(v) for v in variants if all(str((v.get("options") or {}).get(k)) in values for k, values in named.items())
    ]
