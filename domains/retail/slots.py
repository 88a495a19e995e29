"""Slot extraction for retail tasks: the values a customer writes in free text.

``extract_slots`` turns "Hi, I'm Mia Chen (zip 10001). Please return the
headphones from #W9000001 to my gift card, they arrived damaged" into::

    {"first_name": "Mia", "last_name": "Chen", "zip": "10001",
     "order_ids": ["#W9000001"], "refund_to": "gift_card",
     "reason": "arrived damaged", "item_text": "...", ...}

Every slot is optional; recipes decide what they need. Item words are kept
as text (``item_text`` for the items the task is about, ``target`` for the
variant it wants) and matched later against the order's real items and the
product's real variants (see :mod:`switchboard.domains.retail.playbook_match`), because only
the data knows that "the red one" is an option value.
"""

from __future__ import annotations

import re
from typing import Any

from switchboard.domains.retail.playbook_match import RELATIVE_SIZE
from switchboard.domains.retail.playbook_vocabulary import SYNONYMS

SLOT_NAMES = (
    "email",
    "order_ids",
    "first_name",
    "last_name",
    "zip",
    "item_text",
    "all_items",
    "target",
    "reason",
    "cancel_reason",
    "refund_to",
    "new_address",
    "address_scope",
    "pickup_date",
)
"""Every slot ``extract_slots`` may fill."""

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ORDER = re.compile(r"(?<![\w#])#?\s?([Ww]\d{5,})\b")
_NAME = r"([A-Z][a-z'\-]+)\s+([A-Z][a-z'\-]+(?:-[A-Z][a-z]+)?)"
_NAME_INTRO = re.compile(
    r"(?:\b[Ii]['\u2019]?m|\bI am|\b[Mm]y name is|\b[Tt]his is|\b[Nn]ame(?: is)?:?|"
    r"\b[Ii]t['\u2019]s)\s+" + _NAME + r"\b"
)
_NAME_LOWER = re.compile(r"\bmy name is ([a-z]+) ([a-z]+)\b", re.IGNORECASE)
_ZIP_AFTER_NAME = r"\s*[,(\-\u2014\u2013]?\s*\(?(?i:zip(?:\s*code)?\s*(?:is|:|#)?\s*)?\d{5}\b\)?"
_NAME_ZIP = re.compile(_NAME + r"(?=" + _ZIP_AFTER_NAME + r")")
"""A name right before a zip code: "Mia Chen, 94105", "Raj Sanchez (zip 92147)"."""
_NAME_HERE = re.compile(_NAME + r"(?=\s+here\b)")
"""A name introducing itself: "Raj Sanchez here"."""
_SIGNATURE = re.compile(
    r"(?:(?:thanks|thank you|regards|best|cheers|sincerely|br)[,!.]?\s*|[-\u2014\u2013~]\s*)"
    + _NAME
    + r"(?:"
    + _ZIP_AFTER_NAME
    + r")?\s*[.!]?\s*$",
    re.IGNORECASE,
)
_CLAUSE_START = re.compile(
    r"(?:\A|[.!?\n:;(\u2014\u2013]|\s-|\b(?:hi|hello|hey|dear|greetings)[,!]?)\s*\Z", re.IGNORECASE
)
"""What may come before a bare name ("Mia Chen, 94105"): nothing, a sentence end, a dash, a greeting."""
_NOT_NAMES_TEXT = """
    not looking trying writing calling sorry very so having still just really the a an
    wondering hoping here back new unable also currently reaching please urgent in on at
    order my your our still getting going contacting following interested sure glad happy mr
    mrs ms dr support team customer service store shop dept department
"""
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split()) | {w for w, canon in SYNONYMS.items() if canon in ("item", "")}
"""Words that are no first or last name, product words included ("Hiking Boots, 10001")."""
_ZIP_EXPLICIT = re.compile(r"\bzip(?:\s*code)?\s*(?:is|:|=|#)?\s*(\d{5})\b", re.IGNORECASE)
_ZIP_ANY = re.compile(r"(?<![\d$.,])\b(\d{5})\b(?![.,]\d)")
_ADDRESS = re.compile(
    r"(?P<address1>\b\d+[A-Za-z]?\s+(?:[A-Za-z0-9.']+\s+){0,4}?"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|"
    r"Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Trail|Square|Sq|Loop|Row|Path)\b\.?)"
    r"(?:,?\s*(?P<address2>(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|#)\.?\s*[\w-]+))?"
    r",?\s+(?P<city>[A-Z][A-Za-z.']*(?:\s+[A-Z][A-Za-z.']*){0,3}?)"
    r",?\s+(?P<state>[A-Z]{2})\b,?\s*(?P<zip>\d{5})(?:-\d{4})?"
    r"(?:,?\s*(?P<country>USA|US|United States)\b)?"
)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_ALL_ITEMS = re.compile(
    r"\b(everything|all (?:of )?(?:the |my |these |those )?(?:items|things|products|of it|of them)"
    r"|(?:the )?(?:whole|entire|full) order|all of (?:it|them)|every item)\b",
    re.IGNORECASE,
)
_BECAUSE = re.compile(
    r"(?:\b(?:because|cause)\s+|\breason(?:\s+for\s+[^:=.;!?\n]{1,60}?)?\s*(?:\bis\b|\bwas\b|:|=)\s*)"
    r"(?:(?:it|they)\s*(?:is|are|was|were|'s|'re)\s+)?([^.;!?\n]{3,80})",
    re.IGNORECASE,
)
"""A stated reason: "because ...", "reason: ...", "the reason for #W1 is ..." (not "the reason for #W1")."""
_RETURNING = re.compile(r"\b(?:return|exchange|send (?:it|them) back|swap|replace|refund)", re.IGNORECASE)
_OWN_WORDS = re.compile(
    r"(?:\A|[.!;,:(\n]|\s[-\u2014\u2013])\s*((?:they|it|these|those|both)\b(?:'re|'s)?\s+[^.!?;,()\n]{3,80})(?=[.!;,()\n]|\Z)",
    re.IGNORECASE,
)
"""A clause about the items in the customer's own words: "..., they pinch my toes."."""
_NOT_A_COMPLAINT = re.compile(
    r"\b(?:return|exchange|refund|cancel|send|ship|please|can|could|would|will|want|like|need|order(?:ed)?|"
    r"where|when|here|there|is it|are they|arrived|received)\b|#?\bW\d{5,}|@|\d{5}",
    re.IGNORECASE,
)
_COPULA = re.compile(r"^(?:they|it|these|those|both)(?:'re|'s|\s+(?:are|is|were|was))\s+", re.IGNORECASE)
_REASONS = (
    (
        r"arrived (?:damaged|broken|cracked)|damaged|broken|cracked|dented|scratched|torn",
        "arrived damaged",
    ),
    (
        r"defective|faulty|doesn'?t work|does not work|not working|stopped working|malfunction",
        "defective",
    ),
    (r"too small|too tight|runs small|smaller than", "too small"),
    (r"too (?:big|large|loose)|runs large|bigger than", "too large"),
    (r"doesn'?t fit|does not fit|wrong size", "wrong size"),
    (r"wrong (?:item|colou?r|product)|not what i ordered|not as described", "not as described"),
    (
        r"ordered (?:it |this |them )?by mistake|by accident|accidentally|ordered twice|"
        r"duplicate",
        "ordered by mistake",
    ),
    (
        r"no longer need|don'?t need|do not need|not needed|no longer want|don'?t want|"
        r"changed my mind",
        "no longer needed",
    ),
    (r"better price|cheaper|too expensive", "found a better price"),
    (r"poor quality|bad quality|low quality|cheaply made", "poor quality"),
    (r"arrived late|took too long|too late", "arrived late"),
)
_CANCEL_MISTAKE = re.compile(
    r"mistake|by accident|accidental|by error|in error|didn'?t mean to|ordered twice|duplicate|"
    r"wrong order|unintentional",
    re.IGNORECASE,
)
_CANCEL_UNNEEDED = re.compile(
    r"no longer need|don'?t need|do not need|not needed|no longer want|don'?t want|"
    r"changed my mind|change of mind|not necessary",
    re.IGNORECASE,
)
_PAYMENTS = (
    ("gift_card", r"gift\s?card|store credit"),
    (
        "original",
        r"original (?:payment|method|card|form)|same (?:card|method|payment)|"
        r"(?:way|method) i paid|how i paid",
    ),
    ("paypal", r"pay\s?pal"),
    ("credit_card", r"credit card|debit card|visa|master\s?card|amex|american express|discover"),
)
_PAY_LEAD = (
    (3, r"(?:to|into|onto|as|for)\s+(?:a|an|the|my)?\s*(?:\w+\s+)?$"),
    (2, r"(?:via|using|use|through)\s+(?:a|an|the|my)?\s*(?:\w+\s+)?$"),
    (1, r"(?:with|on|by)\s+(?:a|an|the|my)?\s*(?:\w+\s+)?$"),
)
_CHANGE_VERB = re.compile(
    r"\b(?:exchange|exchanging|swap|swapping|switch|switching|change|changing|replace|replacing|"
    r"trade|trading|modify|modifying|upgrade|upgrading|convert)\b",
    re.IGNORECASE,
)
_PIVOT = re.compile(r"\b(?:for|to|into|with)\b\s+(?!me\b|you\b|my (?:order|account)\b|(?:the\s+)?customer\b)", re.I)
_INSTEAD = re.compile(
    r"\b(?:like|want|prefer|get|need|have|take|send me)\s+(?:a|an|the|one in|it in|them in)?\s*"
    r"([^.,;!?]+?)\s+instead\b",
    re.IGNORECASE,
)
_SAME_BUT = re.compile(
    r"\bsame\s+(?:[\w#-]+\s+){0,4}?(?:but\s+)?(?:in|with)\s+(?:a\s+|the\s+)?"
    r"([^.,;!?\n]+?)(?=\s+instead\b|\s*[.,;!?\n]|\s+(?:and|but|because|since|please)\b|\Z)",
    re.IGNORECASE,
)
"""The wanted variant of "the same shirt in size M"."""
_X_INSTEAD_OF = re.compile(r"\b(size\s+[\w.-]+|[\w.-]*\d[\w.-]*)\s+instead\s+of\b", re.IGNORECASE)
"""A short "size 8 instead of 7" with no verb before it."""
_IN_SIZE = re.compile(r"\bin\s+(?:a\s+)?(size\s+[\w.]+)", re.IGNORECASE)
_TARGET_TAIL = re.compile(r"\s+instead\b.*$|[\s,]+(?:please|thanks|thank you)\b.*$", re.IGNORECASE | re.DOTALL)
_USER_ADDRESS = re.compile(r"\b(?:default|profile|account|billing|home|saved|user|permanent) address\b", re.IGNORECASE)
_ORDER_WORDS = re.compile(r"\border\b|#?\bW\d{5,}|\bpending\b|\bship(?:ping|ment)?\b", re.I)


def extract_slots(text: str) -> dict[str, Any]:
    """Every slot found in ``text``; absent slots are left out."""
    slots: dict[str, Any] = {}
    address = _new_address(text)
    rest = text.replace(address["match"], " ") if address else text
    _put(slots, "email", _first(_EMAIL, text))
    orders = list(dict.fromkeys("#" + m.upper() for m in _ORDER.findall(rest)))
    _put(slots, "order_ids", orders)
    _put_name(slots, text)
    zip_match = _ZIP_EXPLICIT.search(rest) or _ZIP_ANY.search(_EMAIL.sub(" ", rest))
    _put(slots, "zip", zip_match.group(1) if zip_match else None)
    if address:
        slots["new_address"] = {k: v for k, v in address.items() if k != "match"}
        order_words = _ORDER_WORDS.search(rest)
        user = _USER_ADDRESS.search(text) or not order_words
        slots["address_scope"] = "user" if user else "order"
    item_text, target = _split_target(rest)
    _put(slots, "item_text", item_text.strip())
    _put(slots, "target", target)
    slots["all_items"] = bool(_ALL_ITEMS.search(text))
    _put(slots, "reason", _reason(text))
    _put(slots, "cancel_reason", _cancel_reason(text))
    _put(slots, "refund_to", _payment_choice(text))
    _put(slots, "pickup_date", _first(_DATE, text))
    return slots


def _put(slots: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        slots[key] = value


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    if not match:
        return None
    return match.group(1) if pattern.groups else match.group(0)


def _put_name(slots: dict[str, Any], text: str) -> None:
    """A person's name, taken only where one is introduced, signed, or stands next to a zip code.

    A bare pair of capitalised words ("Mia Chen, 94105", "Raj Sanchez here")
    counts only at the start of a sentence, after a greeting or a dash, or,
    when it ends the text, after a comma: "I live in New York 10001" is not
    a name.
    """
    text = text.strip()
    for pattern in (_NAME_INTRO, _NAME_LOWER, _NAME_ZIP, _NAME_HERE, _SIGNATURE):
        for match in pattern.finditer(text):
            first, last = match.group(1), match.group(2)
            if first.lower() in _NOT_NAMES or last.lower() in _NOT_NAMES:
                continue
            if pattern in (_NAME_ZIP, _NAME_HERE) and not _bare_name_fits(text, match):
                continue
            slots["first_name"], slots["last_name"] = first.capitalize(), last[0].upper() + last[1:]
            return


def _bare_name_fits(text: str, match: re.Match[str]) -> bool:
    before = text[: match.start()]
    if _CLAUSE_START.search(before):
        return True
    rest = text[match.end() :]
    return before.rstrip().endswith(",") and re.fullmatch(_ZIP_AFTER_NAME + r"\s*[.!]?\s*", rest) is not None


def _new_address(text: str) -> dict[str, str] | None:
    match = _ADDRESS.search(text)
    if not match:
        return None
    parts = match.groupdict()
    return {
        "match": match.group(0),
        "address1": parts["address1"].strip(),
        "address2": (parts["address2"] or "").strip(),
        "city": parts["city"].strip(),
        "state": parts["state"],
        "country": "USA" if parts["country"] in (None, "US", "United States") else parts["country"],
        "zip": parts["zip"],
    }


def _split_target(text: str) -> tuple[str, str | None]:
    """Split the text into the part naming current items and the wanted variant."""
    instead = _INSTEAD.search(text)
    if instead:
        return _without(text, instead.start(1), instead.end()), _target(instead.group(1))
    same = _SAME_BUT.search(text)
    if same:
        return _without(text, same.start(1), same.end(1)), _target(same.group(1))
    verb = _CHANGE_VERB.search(text)
    if verb:
        pivot = _PIVOT.search(text, verb.end())
        if pivot:
            end = re.search(r"[.,;!?\n]|\b(?:and|but|because|since)\b", text[pivot.end() :])
            stop = pivot.end() + (end.start() if end else len(text) - pivot.end())
            target = _target(text[pivot.end() : stop])
            if target:
                return _without(text, pivot.start(), stop), target
    for pattern, group in ((_X_INSTEAD_OF, 1), (_IN_SIZE, 1), (RELATIVE_SIZE, 0)):
        found = pattern.search(text)
        if found:
            return _without(text, found.start(group), found.end(group)), _target(found.group(group))
    return text, None


def _without(text: str, start: int, end: int) -> str:
    return text[:start] + text[end:]


def _target(phrase: str) -> str | None:
    """The wanted variant's words, without "instead of ..." or a trailing "please"."""
    return _TARGET_TAIL.sub("", phrase).strip(" ,'\"") or None


def _reason(text: str) -> str | None:
    """Why the customer sends items back: a "because" clause, a known reason, else their own words."""
    because = _BECAUSE.search(text)
    if because and not re.match(r"(?:soon|well|possible|quickly)\b", because.group(1), re.I):
        return because.group(1).strip().rstrip(",").strip("'\"")
    for pattern, label in _REASONS:
        if re.search(rf"\b(?:{pattern})", text, re.IGNORECASE):
            return label
    return _own_words(text) if _RETURNING.search(text) else None


def _own_words(text: str) -> str | None:
    """A clause in which the customer says what is wrong with the items ("they pinch my toes")."""
    for match in _OWN_WORDS.finditer(text):
        clause = match.group(1).strip()
        said = _COPULA.sub("", clause)
        if _NOT_A_COMPLAINT.search(clause) or said[:1].isupper() or len(said.split()) < 2:
            continue
        return said
    return None


def _cancel_reason(text: str) -> str | None:
    if _CANCEL_MISTAKE.search(text):
        return "ordered by mistake"
    if _CANCEL_UNNEEDED.search(text):
        return "no longer needed"
    return None


def _payment_choice(text: str) -> str | None:
    """The payment method the customer wants money to go to (or come from)."""
    best: tuple[int, int, str] | None = None
    for source, pattern in _PAYMENTS:
        for match in re.finditer(rf"\b(?:{pattern})s?\b", text, re.IGNORECASE):
            before = text[max(0, match.start() - 30) : match.start()].lower()
            if re.search(r"\bfrom\s+(?:a|an|the|my)?\s*(?:\w+\s+)?$", before):
                continue  # "from my paypal" is the method being replaced
            lead = next((w for w, p in _PAY_LEAD if re.search(p, before)), 0)
            candidate = (lead, match.start(), source)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    return best[2] if best else None
