"""The domain-free playbook types: what a domain tells the embedded engine.

The engine itself knows nothing about shops, refunds or couriers. A domain
plugs its knowledge in as a :class:`Playbook`:

* **intents** — the kinds of task it expects, each with example phrasings and a
  *plan* (the ordered skill ids that carry the task out);
* **skills** — one entry per skill id of the agent cards, with the *recipe*
  an agent runs for it and an optional instruction writer for the supervisor;
* **extract_slots** — a function that pulls values (an email, an order id)
  out of free text.

A recipe is a pure function from a :class:`Turn` (everything the agent has
seen so far) to the next :class:`Call` or the final :class:`Handoff`. The
engine re-runs it from the whole history on every turn, so recipes keep no
state and are easy to test with hand-written histories.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from switchboard.errors import ConfigError

Slots = Mapping[str, Any]
"""Values a domain extracts from free text, by slot name."""

ASK_CUSTOMER = "ask_customer"
"""The built-in tool an agent asks the customer with (see ``agents/questions.py``).

A recipe calls it when the task lacks a detail only the customer knows; the
reply comes back as its result (``{"customer_reply": TEXT}``), and the slots
in it fill the turn's gaps (see :attr:`Turn.slots`)."""


@dataclass(frozen=True)
class Step:
    """One tool call an agent made, with its outcome."""

    tool: str
    """The tool's name."""
    args: Mapping[str, Any]
    """The arguments it was called with."""
    ok: bool
    """False when the tool reported an error."""
    result: Any = None
    """The parsed JSON result (or the raw text when it is not JSON); None on error."""
    error: str | None = None
    """The error text, when ``ok`` is False."""


@dataclass(frozen=True)
class Call:
    """A recipe's request for the next tool call."""

    tool: str
    """The tool to call; it must be one of the agent's bound tools."""
    args: Mapping[str, Any]
    """Its arguments."""
    why: str
    """One sentence on why, shown as the model's reasoning."""


@dataclass(frozen=True)
class Handoff:
    """A recipe's final answer: what the agent hands back to the supervisor."""

    status: Literal["done", "failed"]
    """Whether the skill was carried out."""
    summary: str
    """One or two sentences on what was done or found."""
    facts: Mapping[str, Any] = field(default_factory=dict)
    """Ids and values later agents need (merged into the shared context)."""
    reasoning: str = ""
    """Why the agent did what it did."""
    confidence: float = 0.9
    """How sure the agent is of its result, between 0 and 1."""

    @classmethod
    def failed(cls, summary: str, reasoning: str = "", confidence: float = 0.9) -> Handoff:
        """A failed handoff; the supervisor will escalate with ``summary``."""
        return cls("failed", summary, {}, reasoning or summary, confidence)


@dataclass(frozen=True)
class Turn:
    """Everything an agent knows when its recipe decides the next move."""

    task: str
    """The user's task, verbatim."""
    instruction: str
    """What the supervisor asked this agent to do."""
    skill: str
    """The skill being carried out."""
    intent: str | None
    """The playbook intent the task matches best, if any."""
    context: Mapping[str, Any]
    """Facts merged from earlier handoffs (``user_id``, ``order_id``...)."""
    slots: Slots
    """Values extracted from the task and the instruction, gaps filled from the customer's replies."""
    history: tuple[Step, ...]
    """The tool calls made so far in this step, oldest first."""
    tools: frozenset[str]
    """The names of the tools the agent may call (without ``handoff``)."""

    def fact(self, name: str, default: Any = None) -> Any:
        """A fact from the context, else a slot of the same name, else ``default``."""
        value = self.context.get(name)
        if value in (None, "", [], {}):
            value = self.slots.get(name)
        return default if value in (None, "", [], {}) else value

    def results(self, tool: str) -> list[Step]:
        """The successful calls of ``tool``, oldest first."""
        return [s for s in self.history if s.tool == tool and s.ok]

    def result(self, tool: str, **args: Any) -> Any:
        """The result of the latest successful ``tool`` call with these args, or None."""
        for step in reversed(self.history):
            if step.tool == tool and step.ok and all(step.args.get(k) == v for k, v in args.items()):
                return step.result
        return None

    @property
    def can_ask(self) -> bool:
        """Whether the agent may ask the customer (``ask_customer`` is bound)."""
        return ASK_CUSTOMER in self.tools

    def replies(self) -> list[str]:
        """What the customer answered to this step's questions, oldest first."""
        return [customer_reply(s.result) for s in self.results(ASK_CUSTOMER)]

    def called(self, tool: str, **args: Any) -> bool:
        """Whether ``tool`` already succeeded with (at least) these args."""
        return any(s.tool == tool and s.ok and all(s.args.get(k) == v for k, v in args.items()) for s in self.history)


def customer_reply(result: Any) -> str:
    """The customer's text in an ``ask_customer`` result."""
    if isinstance(result, Mapping):
        return str(result.get("customer_reply") or "")
    return str(result or "")


Recipe = Callable[[Turn], "Call | Handoff"]
"""A pure function from a turn to the next tool call or the final handoff."""


@dataclass(frozen=True)
class Brief:
    """What the supervisor knows when it writes an agent's instruction."""

    task: str
    """The user's task (with any notes a human added)."""
    skill: str
    """The skill it is about to route."""
    intent: str | None
    """The matched intent, or None when routing by capability."""
    slots: Slots
    """Values extracted from the task."""
    context: Mapping[str, Any]
    """Facts merged from earlier handoffs."""


@dataclass(frozen=True, eq=False)
class Intent:
    """A kind of task, recognised from examples, carried out by a plan of skills."""

    name: str
    """A short identifier, e.g. ``"return"``."""
    plan: tuple[str, ...]
    """The skill ids to carry out, in order."""
    examples: tuple[str, ...]
    """Varied phrasings of the task; the more varied, the better the match."""
    description: str = ""
    """What the intent is, for people reading the decisions."""
    keywords: tuple[str, ...] = ()
    """Extra words that signal the intent (added to every example's weight)."""
    requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Allowed values of facts, checked against the first value an agent reports.

    When a fact contradicts this (an exchange on an order that turns out to
    be pending), the supervisor switches to ``otherwise`` or escalates. A
    failed handoff's facts count too, so an agent that finds the order in the
    wrong state can refuse to act and still steer the plan.
    """
    otherwise: str | None = None
    """The intent to continue with when ``requires`` does not hold."""


@dataclass(frozen=True, eq=False)
class Skill:
    """What the engine knows about one skill id of the agent cards."""

    id: str
    """The skill id, as on the agent cards."""
    recipe: Recipe
    """What an agent does for this skill."""
    description: str = ""
    """What the skill does; matched against instructions that name no skill."""
    examples: tuple[str, ...] = ()
    """Example instructions for the skill."""
    tools: tuple[str, ...] = ()
    """Tools the recipe needs; an agent without them is not offered the skill."""
    instruct: Callable[[Brief], str] | None = None
    """Writes the supervisor's instruction for this skill; a generic one otherwise."""


def _no_slots(text: str) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, eq=False)
class Playbook:
    """A domain's knowledge for the embedded engine. Hashable by identity."""

    name: str
    """The domain's name."""
    intents: tuple[Intent, ...] = ()
    """The kinds of task the domain expects."""
    skills: tuple[Skill, ...] = ()
    """Recipes and instruction writers, one per skill id."""
    extract_slots: Callable[[str], Mapping[str, Any]] = _no_slots
    """Pulls slot values out of free text."""
    synonyms: Mapping[str, str] = field(default_factory=dict)
    """Words mapped to a canonical word before matching ("parcel" -> "package")."""
    key_slots: tuple[str, ...] = ()
    """The slots that say *who and what* a task is about (emails, order ids).

    An agent takes these from its instruction over the task (the supervisor
    may have corrected them), and a human's note that carries one of them
    counts as new information that lets a failed step be tried again.
    """
    min_score: float = 0.12
    """Below this intent score the supervisor matches the task to skills instead."""

    def __post_init__(self) -> None:
        names = [i.name for i in self.intents]
        if len(set(names)) != len(names):
            raise ConfigError(f"Playbook {self.name!r} has duplicate intent names: {names}.")
        ids = [s.id for s in self.skills]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"Playbook {self.name!r} has duplicate skill ids: {ids}.")
        for intent in self.intents:
            if intent.otherwise is not None and intent.otherwise not in names:
                raise ConfigError(
                    f"Intent {intent.name!r} falls back to unknown intent {intent.otherwise!r}; use one of {names}."
                )
        object.__setattr__(self, "synonyms", MappingProxyType(dict(self.synonyms)))

    def skill(self, skill_id: str) -> Skill | None:
        """The skill with this id, or None."""
        return next((s for s in self.skills if s.id == skill_id), None)

    def intent(self, name: str) -> Intent | None:
        """The intent with this name, or None."""
        return next((i for i in self.intents if i.name == name), None)


EMPTY_PLAYBOOK = Playbook(name="empty")
"""A playbook with no domain knowledge: routing by capability only, no recipes."""


def load_playbook(spec: str) -> Playbook:
    """Import a playbook from a ``"package.module:ATTRIBUTE"`` spec.

    Raises:
        ConfigError: The spec is malformed, the module cannot be imported, or
            the attribute is missing or not a :class:`Playbook`.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(
            f"Playbook spec {spec!r} is not 'module:ATTRIBUTE'; "
            "write it like 'switchboard.domains.retail.playbook:PLAYBOOK'."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"Cannot import playbook module {module_name!r} ({exc}); check the 'engine' entry "
            "of the team file and that the module is on the Python path."
        ) from exc
    playbook = getattr(module, attr, None)
    if not isinstance(playbook, Playbook):
        found = "nothing" if playbook is None else type(playbook).__name__
        raise ConfigError(
            f"{module_name}.{attr} is {found}, not a Playbook; point the spec at a "
            "switchboard.engine.Playbook instance."
        )
    return playbook
