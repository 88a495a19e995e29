"""Matching a customer's words to real records: order items, variants, products.

Slots keep the customer's words ("the blue water bottle", "for the red one");
these functions decide which items of an order (and how many units of an
item the order holds twice) and which variant of a product those words
mean, once the records have been read. A new variant differs from the
current item only in the options the customer named.
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


def choose_variant(product: Mapping[str, Any], current: Mapping[str, Any], target: str) -> dict[str, Any] | str:
    """The available variant the customer asks for, or a sentence saying why there is none.

    The customer asks to change some options ("size M", "in silver", "a size
    up"); every option they do not mention must stay as it is. So the only
    acceptable variant differs from the current item in the asked-for options
    alone: if that combination is not sold, or not in stock, the answer says
    so instead of settling for a variant that changes something else.
    """
    name = str(product.get("name") or "the product")
    variants = sorted(
        (v for v in (product.get("variants") or {}).values() if isinstance(v, Mapping)),
        key=lambda v: str(v.get("item_id")),
    )
    current_options = {str(k): str(v) for k, v in (current.get("options") or {}).items()}
    wanted = _wanted_options(variants, current_options, target)
    if isinstance(wanted, str):
        return wanted
    if not wanted:
        return f"'{target}' names no option of {name} (it comes in {_option_values(variants)})."
    if all(current_options.get(k) in values for k, values in wanted.items()):
        return f"The customer's {name} already is {_describe(current_options)}; '{target}' asks for no change."
    fitting = [
        v
        for v in variants
        if v.get("item_id") != current.get("item_id") and _differs_only_in(v, current_options, wanted)
    ]
    available = [v for v in fitting if v.get("available")]
    if available:
        return dict(available[0])
    desired = _describe({**current_options, **{k: " or ".join(sorted(vs)) for k, vs in wanted.items()}})
    state = "is out of stock" if fitting else "is not sold"
    return (
        f"{name} in {desired} {state}, and every other variant also changes options the customer did not "
        f"ask to change.{_alternatives(variants, current, wanted)}"
    )


def _alternatives(
    variants: Sequence[Mapping[str, Any]], current: Mapping[str, Any], wanted: Mapping[str, set[str]]
) -> str:
    """The available variants with the asked-for values, for whoever decides next (at most three)."""
    found = [
        _describe({str(k): str(v) for k, v in (variant.get("options") or {}).items() if k not in wanted})
        for variant in variants
        if variant.get("available")
        and variant.get("item_id") != current.get("item_id")
        and all(str((variant.get("options") or {}).get(k)) in vs for k, vs in wanted.items())
    ]
    if not found:
        return ""
    asked = _describe({k: " or ".join(sorted(vs)) for k, vs in wanted.items()})
    return f" Available with {asked}: {'; '.join(found[:3])}{' …' if len(found) > 3 else ''}."


def _wanted_options(
    variants: Sequence[Mapping[str, Any]], current: Mapping[str, str], target: str
) -> dict[str, set[str]] | str:
    """The option values the target asks for, by option name (or why a relative size cannot be had)."""
    wanted: dict[str, set[str]] = {}
    for variant in variants:
        for key, value in (variant.get("options") or {}).items():
            if mentions(str(value), target):
                wanted.setdefault(str(key), set()).add(str(value))
    for key, values in wanted.items():
        if len(values) > 1 and current.get(key) in values:
            values.discard(current[key])  # "size 8 instead of 9": 9 is what they have
    named_keys = {k for k in wanted if mentions(k, target)}
    for value in {v for vs in wanted.values() for v in vs}:
        keys = [k for k, vs in wanted.items() if value in vs]
        if len(keys) > 1 and named_keys & set(keys):  # "white" colour or "white" backlight: the key says
            for key in set(keys) - named_keys:
                wanted[key].discard(value)
    wanted = {k: vs for k, vs in wanted.items() if vs}
    relative = relative_size(target)
    if relative is not None and not any("size" in k for k in wanted):
        step = _size_step(variants, current, relative)
        if isinstance(step, str):
            return step
        wanted[step[0]] = {step[1]}
    return wanted


def _differs_only_in(variant: Mapping[str, Any], current: Mapping[str, str], wanted: Mapping[str, set[str]]) -> bool:
    options = {str(k): str(v) for k, v in (variant.get("options") or {}).items()}
    if any(options.get(k) not in values for k, values in wanted.items()):
        return False
    return all(options.get(k) == v for k, v in current.items() if k not in wanted)


def _describe(options: Mapping[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in options.items())


def _option_values(variants: Sequence[Mapping[str, Any]]) -> str:
    values: dict[str, list[str]] = {}
    for variant in variants:
        for key, value in (variant.get("options") or {}).items():
            if str(value) not in values.setdefault(str(key), []):
                values[str(key)].append(str(value))
    return "; ".join(f"{k}: {', '.join(vs)}" for k, vs in values.items()) or "no options"


RELATIVE_SIZE = re.compile(
    r"\b(?:(?P<half>half\s+)?(?P<count>a|one|two|2)\s+sizes?\s+(?P<dir>up|down|bigger|larger|smaller)"
    r"|(?:a|the next)\s+(?P<dir2>bigger|larger|smaller)\s+size|size\s+(?P<dir3>up|down))\b",
    re.IGNORECASE,
)
"""A size relative to the current one: "a size up", "two sizes smaller", "the next bigger size"."""
_LETTER_SIZES = ("xxs", "xs", "s", "m", "l", "xl", "xxl", "xxxl")
_WORD_SIZES = ("extra small", "small", "medium", "large", "extra large")


def relative_size(text: str) -> int | None:
    """The size steps a text asks for: +1 for "a size up", -2 for "two sizes smaller"; 0 for half sizes."""
    match = RELATIVE_SIZE.search(text)
    if match is None:
        return None
    if match.group("half"):
        return 0
    direction = (match.group("dir") or match.group("dir2") or match.group("dir3")).lower()
    count = 2 if (match.group("count") or "").lower() in ("two", "2") else 1
    return count if direction in ("up", "bigger", "larger") else -count


def _size_step(variants: Sequence[Mapping[str, Any]], current: Mapping[str, str], steps: int) -> tuple[str, str] | str:
    """The size option and the value ``steps`` sizes away from the current one, or why there is none."""
    key = "size" if "size" in current else next((k for k in current if "size" in k), None)
    if key is None:
        return "The item has no size option, so 'a size up or down' means nothing for it."
    if steps == 0:
        return f"Half sizes are not sold; the item's size is {current[key]}. Which size should it be?"
    sizes = sorted({str((v.get("options") or {}).get(key)) for v in variants} - {"None"}, key=_size_rank)
    if any(_size_rank(s)[0] == 2 for s in sizes) or current[key] not in sizes:
        return f"I cannot order the sizes {', '.join(sizes)} to find the one {abs(steps)} step(s) from {current[key]}."
    index = sizes.index(current[key]) + steps
    if not 0 <= index < len(sizes):
        edge = "largest" if steps > 0 else "smallest"
        return f"Size {current[key]} is already the {edge} size on offer ({', '.join(sizes)})."
    return key, sizes[index]


def _size_rank(size: str) -> tuple[int, float]:
    """Where a size sits: numbers by value, then S/M/L letters, then words; (2, 0) if unknown."""
    lowered = size.lower().strip()
    number = re.match(r"\d+(?:\.\d+)?", lowered)
    if number:
        return 0, float(number.group(0))
    for group, scale in ((1, _LETTER_SIZES), (1, _WORD_SIZES)):
        if lowered in scale:
            return group, float(scale.index(lowered))
    return 2, 0.0


def units(items: Sequence[Mapping[str, Any]], item_ids: Sequence[str], text: str) -> list[str]:
    """``item_ids`` with an id repeated once per unit the text asks for.

    An order can hold the same item twice. "The two t-shirts", "both
    shirts" or "the shirts" mean every unit; "the shirt" or "one of the
    shirts" means one.
    """
    chosen: list[str] = []
    for item_id in item_ids:
        held = [i for i in items if str(i.get("item_id")) == item_id]
        wanted = _count_asked(str(held[0].get("name", "")), text) if len(held) > 1 else 1
        chosen += [item_id] * max(1, min(len(held), wanted))
    return chosen


_COUNT_WORDS = {"both": 2, "two": 2, "2": 2, "three": 3, "3": 3, "four": 4, "4": 4, "all": 99, "every": 99}
_ONE_WORDS = frozenset({"one", "1", "a", "an", "single", "either"})


def _count_asked(name: str, text: str) -> int:
    """How many units of the product called ``name`` the text asks for (99 for all of them)."""
    parts = [_ALIASES.get(w, w) for w in map(_singular, re.findall(r"[a-z0-9]+", name.lower()))]
    head, joined = (parts[-1] if parts else ""), _singular(re.sub(r"[^a-z0-9]", "", name.lower()))
    words = re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower())
    plural = False
    for index, word in enumerate(words):
        last = _ALIASES.get(_singular(word.split("-")[-1]), _singular(word.split("-")[-1]))
        if last != head and _singular(word.replace("-", "")) != joined:
            continue
        for before in reversed(words[max(0, index - 4) : index]):
            if before in _COUNT_WORDS:
                return _COUNT_WORDS[before]
            if before in _ONE_WORDS:
                return 1
        plural = plural or _singular(word) != word
    return 99 if plural else 1


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
