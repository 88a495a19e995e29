"""Tokenising and a small TF-IDF index, in pure Python.

Two parts of Switchboard match free text (a task, an instruction) against
short texts (agent cards; intent examples and skill descriptions): capability
shortlisting in the graph and the embedded engine. Both use this module, so
neither depends on the other. A bag of lightly stemmed words plus bigrams,
weighted by TF-IDF and compared by cosine similarity, is fast (well under a
millisecond) and transparent: every score can be explained by the words two
texts share.

It also finds the control characters in text that came from outside (a
task, a reply, an answer's note), which must not reach a terminal.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import pairwise

_STOPWORD_TEXT = """
    a an the and or but if then than so as of at by for with about into onto from to in on
    up out off over under again once here there all any both each few more most other some
    such only own same too very can will just should would could may might must shall is am
    are was were be been being have has had having do does did doing this that these those
    it its it's i me my mine myself we our ours you your yours he him his she her hers they
    them their theirs what which who whom whose also please hi hello hey thanks thank
    regards cheers dear kindly ok okay yes yeah well im ive id get got getting let lets like
    want wanted wants need needs s t d ll m re ve
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""Function words that carry no intent.

Negations ("no longer", "not") and the question words "where", "when", "why"
and "how" stay: they tell "where is it?" from "cancel it".
"""
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|myself)\b|\bi'(?:m|ve|d|ll)\b")
FIRST_PERSON = "_1p"
"""A feature every text written in the first person singular gets.

It tells a customer's own request ("my order", "I want") from a colleague's
("the customer's order", "restock the items").
"""

_WRITTEN_OUT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def control_characters(text: str, allowed: str = "") -> list[str]:
    """The control characters of ``text`` not in ``allowed``, each once, as ``U+001B``, sorted.

    Control characters are C0, DEL and C1 (Unicode category ``Cc``): an
    escape sequence among them can repaint an operator's terminal, hide
    part of a line or fake another (``switchboard show`` prints notes and
    names), so text from outside is refused when it holds any.
    """
    return sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cc" and c not in allowed})


def visible(text: str, keep: str = "\n") -> str:
    """``text`` with each control character not in ``keep`` written out (``\\x1b``), harmless on a terminal.

    For printing text that may predate the checks (an old audit entry):
    what it holds is shown, not obeyed.
    """
    if not control_characters(text, keep):
        return text
    return "".join(_written_out(c) if unicodedata.category(c) == "Cc" and c not in keep else c for c in text)


def _written_out(char: str) -> str:
    """One control character as Python writes it in a string (every one is below U+0100)."""
    return _WRITTEN_OUT.get(char, f"\\x{ord(char):02x}")


_TOKEN = re.compile(r"[a-z][a-z0-9]*")
_STRIP = re.compile(
    r"\S+@\S+|#?\bw\d{5,}\b|\b\d[\d.,:/-]*\b",  # emails, order ids, numbers: they are slots
    re.IGNORECASE,
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Reduce a word to a crude stem, so that "returned" and "returns" meet.

    Deliberately small (a few English suffixes); it only has to make the
    inflections of the same word collide, not to produce real roots. Cached:
    a catalogue of hundreds of cards repeats the same few thousand words.
    """
    w = word
    if len(w) <= 3:
        return w
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ations", ""), ("ation", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + repl
            break
    else:
        if w.endswith("s") and not w.endswith(("ss", "us", "is")):
            w = w[:-1]
    for suffix in ("ing", "ed", "ly"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if len(w) > 4 and w[-1] == w[-2] and w[-1] not in "aeiousl":
        w = w[:-1]  # shipp -> ship, but keep "dress", "small"
    if len(w) > 4 and w.endswith("ll") and word.endswith(("lled", "lling", "llation")):
        w = w[:-1]  # cancelled, cancelling, cancellation -> cancel
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]  # exchange/exchanged -> exchang
    return w


def words(text: str, synonyms: Mapping[str, str] | None = None) -> list[str]:
    """Lower-case content words of ``text``, stemmed, without ids and numbers."""
    text = text.lower().replace("\u2019", "'").replace("n't", " not")
    text = _STRIP.sub(" ", text)
    raw = _TOKEN.findall(text)
    if synonyms:
        raw = [part for w in raw for part in synonyms.get(w, w).split()]
    return [stem(w) for w in raw if w not in _STOPWORDS and len(w) > 1]


def features(text: str, synonyms: Mapping[str, str] | None = None) -> list[str]:
    """Words plus adjacent-word bigrams ("gift card", "no longer")."""
    ws = words(text, synonyms)
    extra = [FIRST_PERSON] if _FIRST_PERSON.search(text.lower().replace("\u2019", "'")) else []
    return ws + [f"{a}_{b}" for a, b in pairwise(ws)] + extra


Vector = dict[str, float]


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity of two L2-normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def _normalise(weights: Mapping[str, float]) -> Vector:
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {t: w / norm for t, w in weights.items()} if norm else {}


def centroid(vectors: Iterable[Mapping[str, float]]) -> Vector:
    """The normalised sum of some vectors: what a group of texts has in common."""
    total: Counter[str] = Counter()
    for vector in vectors:
        total.update(vector)
    return _normalise(total)


class TfidfIndex:
    """Inverse document frequencies of a fixed set of documents.

    Words a query has but no document has are ignored: they cannot tell the
    documents apart, and leaving them out keeps scores comparable between a
    terse task and a chatty one.
    """

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        df: Counter[str] = Counter()
        for doc in documents:
            df.update(set(doc))
        n = len(documents)
        self.idf: dict[str, float] = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self.vectors: list[Vector] = [self.vector(doc) for doc in documents]
        """The documents' own vectors, in order."""

    def vector(self, tokens: Iterable[str]) -> Vector:
        """The normalised TF-IDF vector of some tokens (sublinear term frequency)."""
        counts = Counter(t for t in tokens if t in self.idf)
        return _normalise({t: (1.0 + math.log(c)) * self.idf[t] for t, c in counts.items()})

    def similarities(self, tokens: Iterable[str]) -> list[float]:
        """Cosine similarity of some tokens to every document, in document order."""
        query = self.vector(tokens)
        return [cosine(query, doc) for doc in self.vectors]
