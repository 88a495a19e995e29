"""Generated agent catalogues, for scale tests and benchmarks.

Routing has to keep working, and its prompt has to stay small, when a team
grows from five agents to hundreds. Real catalogues that size are not
something a repository can ship, so this module generates one: departments
crossed with business functions, each agent specialised in a customer
segment and a region ("billing_disputes_3: billing desk for wholesale
customers in EMEA"). The vocabulary is domain-free on purpose; nothing here
knows about the retail team or its tools.

Every catalogue is a pure function of ``(n, seed)``, so a benchmark or a test
that fails can be replayed exactly. Skills are shared the way they are in
real organisations (desks of the same department and function share their
main skill, departments share back-office skills, a few skills cut across
all departments), and fallbacks point to another desk that has the skill, so
reassignment and shortlist expansion are exercised too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Literal

from switchboard.agents.card import AgentCard, Skill, Team

CostTier = Literal["low", "standard", "high"]

_DEPARTMENTS: dict[str, tuple[str, str, str]] = {
    "billing": ("invoice", "late fee", "statement"),
    "shipping": ("parcel", "delivery label", "freight booking"),
    "accounts": ("login", "profile", "account merge"),
    "returns": ("return label", "restocking fee", "exchange"),
    "payroll": ("payslip", "overtime claim", "salary advance"),
    "procurement": ("purchase order", "supplier quote", "tender"),
    "inventory": ("stock count", "warehouse bin", "reorder point"),
    "compliance": ("kyc file", "sanctions hit", "policy breach"),
    "security": ("access badge", "phishing report", "password reset"),
    "marketing": ("campaign", "coupon code", "newsletter"),
    "legal": ("contract", "nda", "trademark notice"),
    "support": ("ticket", "callback", "chat transcript"),
    "travel": ("flight booking", "hotel stay", "expense report"),
    "facilities": ("meeting room", "parking permit", "repair request"),
    "recruiting": ("job posting", "interview slot", "offer letter"),
    "tax": ("vat return", "withholding form", "tax certificate"),
    "insurance": ("policy renewal", "premium", "coverage letter"),
    "lending": ("loan application", "repayment plan", "credit limit"),
    "warranty": ("repair voucher", "serial number", "replacement unit"),
    "subscriptions": ("plan upgrade", "billing cycle", "free trial"),
}
"""Department to the things its desks work on."""

_FUNCTIONS: dict[str, tuple[str, str]] = {
    "disputes": ("investigates and settles disputes about", "dispute"),
    "refunds": ("works out and pays refunds for", "refund"),
    "onboarding": ("sets new customers up with", "set up"),
    "audits": ("audits", "audit"),
    "reporting": ("produces reports on", "report on"),
    "scheduling": ("schedules and reschedules", "schedule"),
    "escalations": ("handles escalated complaints about", "escalate"),
    "renewals": ("renews and extends", "renew"),
    "claims": ("assesses claims about", "claim"),
    "quotes": ("prices and quotes", "quote"),
    "cancellations": ("cancels and winds down", "cancel"),
    "verification": ("verifies the details of", "verify"),
}
"""Business function to (what a desk does, the verb a request uses)."""

_BACK_OFFICE: dict[str, tuple[str, str]] = {
    "lookup": ("Look up {dept} records", "look up"),
    "notices": ("Send customers written notices about their {dept} matters", "send a notice about"),
    "approvals": ("Approve exceptions to {dept} rules", "approve an exception for"),
    "exports": ("Export {dept} data for other teams", "export"),
}
"""Department-wide skills, shared by desks of one department."""

_CROSS_CUTTING: dict[str, tuple[str, str]] = {
    "identity_check": (
        "Confirm who the requester is before anything changes",
        "confirm who is asking about",
    ),
    "document_intake": ("Receive and file documents a customer sends", "file the documents for"),
    "case_handover": (
        "Hand a case to a human colleague with a summary",
        "hand over the case about",
    ),
    "translation": ("Translate correspondence for customers abroad", "translate the letter about"),
}
"""Skills every department has some desks for."""

_SEGMENTS = (
    "enterprise",
    "small business",
    "consumer",
    "wholesale",
    "partner",
    "government",
    "nonprofit",
    "education",
    "healthcare",
    "hospitality",
)
_REGIONS = ("North America", "EMEA", "APAC", "LATAM", "the Nordics", "Iberia", "Benelux", "Oceania")

_EXAMPLES = (
    "Please {verb} the {noun} for our {segment} account in {region}.",
    "{A_segment} {segment} customer in {region} asks us to {verb} their {noun}.",
    "Can you {verb} {a_noun} {noun} raised by {a_segment} {segment} client from {region}?",
)
"""Example requests; every one names the desk's thing, segment and region."""

_SEGMENT = re.compile(rf"\b(an?|our) ({'|'.join(_SEGMENTS)}) ", re.IGNORECASE)
"""A segment and its determiner, which a vaguer request leaves out."""
_OPENERS = re.compile(r"^(please|can you|could you)\s+", re.IGNORECASE)
_FRAMES = (
    "{core}, as soon as possible.",
    "Hi, quick one: {core}. Who handles that?",
    "I was told to ask here. {core}.",
    "Need help: {core}",
    "{core} - can someone take this today?",
    "Ticket from the front desk: {core}.",
)
_SYNONYMS = (
    ("customer", "client"),
    ("client", "customer"),
    ("account", "organisation"),
    ("asks us", "would like us"),
    ("raised", "opened"),
    ("our", "my"),
    ("their", "the"),
    ("dispute", "contest"),
    ("refund", "reimburse"),
    ("set up", "open"),
    ("audit", "review"),
    ("report on", "summarise"),
    ("schedule", "book"),
    ("escalate", "raise a complaint about"),
    ("renew", "extend"),
    ("quote", "price"),
    ("cancel", "terminate"),
    ("verify", "double-check"),
    ("look up", "find"),
    ("export", "pull out"),
)
"""Word swaps that change the wording of a request but not what it needs."""


def synthetic_team(n: int, *, seed: int = 0, fallbacks: bool = True) -> Team:
    """Generate a catalogue of ``n`` agent cards.

    Args:
        n: How many agents; up to a few thousand distinct desks can be made.
        seed: Picks the desks; the same ``(n, seed)`` always gives the same team.
        fallbacks: Give each agent one fallback (another desk that has one of
            its skills, preferring its main skill) when there is one.

    Returns:
        A validated team named ``synthetic_<n>_<seed>``, without tools or servers.

    Raises:
        ValueError: ``n`` is not positive or larger than the vocabulary allows.
    """
    limit = len(_DEPARTMENTS) * len(_FUNCTIONS) * len(_SEGMENTS) * len(_REGIONS)
    if not 0 < n <= limit:
        raise ValueError(f"n must be between 1 and {limit}; got {n}")
    rng = random.Random(seed)
    desks = _pick_desks(rng, n)
    variants: dict[tuple[str, str], int] = {}
    cards: list[AgentCard] = []
    for dept, function, segment, region in desks:
        variants[dept, function] = variants.get((dept, function), 0) + 1
        name = f"{dept}_{function}_{variants[dept, function]}"
        cards.append(_card(rng, name, dept, function, segment, region))
    if fallbacks:
        cards = _with_fallbacks(cards)
    return Team(
        name=f"synthetic_{n}_{seed}",
        description=f"A generated catalogue of {n} desks (seed {seed}), for scale tests.",
        agents=tuple(cards),
    )


def synthetic_task(team: Team, index: int) -> tuple[str, str]:
    """A task and the agent it was written for.

    The task rewords one of that agent's skill examples (another opening,
    some words swapped, sometimes the customer segment left out), so matching
    it is not a verbatim lookup. The same team and index always give the
    same task.

    Args:
        team: Any team whose cards have skill examples (typically a synthetic one).
        index: Which task; any integer.

    Returns:
        ``(task text, name of the agent it came from)``.
    """
    rng = random.Random(f"{team.name}:{index}")
    candidates = [card for card in team.agents if any(skill.examples for skill in card.skills)]
    if not candidates:
        raise ValueError(f"team {team.name!r} has no skill examples to derive tasks from")
    card = candidates[rng.randrange(len(candidates))]
    skill = rng.choice([skill for skill in card.skills if skill.examples])
    return _paraphrase(rng.choice(skill.examples), rng), card.name


def _pick_desks(rng: random.Random, n: int) -> list[tuple[str, str, str, str]]:
    """``n`` distinct (department, function, segment, region) combinations."""
    seen: set[tuple[str, str, str, str]] = set()
    desks: list[tuple[str, str, str, str]] = []
    departments, functions = list(_DEPARTMENTS), list(_FUNCTIONS)
    while len(desks) < n:
        desk = (
            rng.choice(departments),
            rng.choice(functions),
            rng.choice(_SEGMENTS),
            rng.choice(_REGIONS),
        )
        if desk not in seen:
            seen.add(desk)
            desks.append(desk)
    return desks


def _card(rng: random.Random, name: str, dept: str, function: str, segment: str, region: str) -> AgentCard:
    nouns = _DEPARTMENTS[dept]
    does, verb = _FUNCTIONS[function]
    main = Skill(
        id=f"{dept}_{function}",
        description=f"{does.capitalize()} {_plural(nouns[0])} and {_plural(nouns[1])}.",
        examples=_examples(rng, verb, nouns[:2], segment, region),
    )
    office = rng.choice(list(_BACK_OFFICE))
    office_text, office_verb = _BACK_OFFICE[office]
    skills = [
        main,
        Skill(
            id=f"{dept}_{office}",
            description=office_text.format(dept=dept) + ".",
            examples=_examples(rng, office_verb, nouns[1:], segment, region),
        ),
    ]
    if rng.random() < 0.5:
        shared = rng.choice(list(_CROSS_CUTTING))
        shared_text, shared_verb = _CROSS_CUTTING[shared]
        skills.append(
            Skill(
                id=shared,
                description=shared_text + ".",
                examples=_examples(rng, shared_verb, nouns, segment, region),
            )
        )
    cost: CostTier = rng.choice(("low", "standard", "standard", "high"))
    return AgentCard(
        name=name,
        description=(
            f"{dept.capitalize()} desk for {segment} customers in {region}: {does} "
            f"{_plural(nouns[0])}, {_plural(nouns[1])} and {_plural(nouns[2])}."
        ),
        skills=tuple(skills),
        max_concurrency=rng.choice((2, 4, 4, 8)),
        cost_tier=cost,
    )


def _examples(rng: random.Random, verb: str, nouns: Sequence[str], segment: str, region: str) -> tuple[str, ...]:
    count = rng.choice((2, 3))
    templates = rng.sample(_EXAMPLES, count)
    examples = []
    for i, template in enumerate(templates):
        noun = nouns[i % len(nouns)]
        article = _article(segment)
        examples.append(
            template.format(
                verb=verb,
                noun=noun,
                a_noun=_article(noun),
                segment=segment,
                region=region,
                a_segment=article,
                A_segment=article.capitalize(),
            )
        )
    return tuple(examples)


def _with_fallbacks(cards: list[AgentCard]) -> list[AgentCard]:
    """Give each card one fallback: the next desk, in file order, with its skill."""
    holders: dict[str, list[int]] = {}
    for index, card in enumerate(cards):
        for skill in card.skills:
            holders.setdefault(skill.id, []).append(index)
    result = []
    for index, card in enumerate(cards):
        for skill in card.skills:  # main skill first, then back office, then cross-cutting
            others = holders[skill.id]
            if len(others) > 1:
                after = [i for i in others if i > index] or others
                target = cards[after[0]].name
                card = card.model_copy(update={"fallbacks": {skill.id: (target,)}})
                break
        result.append(card)
    return result


def _paraphrase(example: str, rng: random.Random) -> str:
    core = _OPENERS.sub("", example).rstrip(".?!")
    if rng.random() < 0.35:  # people often leave out who the customer is
        core = _SEGMENT.sub(lambda m: "our " if m[1].lower() == "our" else "a ", core)
    for old, new in _SYNONYMS:
        if rng.random() < 0.5:
            core = re.sub(rf"\b{old}\b", new, core, flags=re.IGNORECASE)
    return rng.choice(_FRAMES).format(core=core[:1].upper() + core[1:])


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"
