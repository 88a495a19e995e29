"""Agent cards and team files: the single source of truth about agents.

A card says what an agent is for (description and skills, with examples that
routing can match against) and which tools it may call. A team file groups the
cards of one domain with the MCP servers their tools come from, the policy
file that governs them and the playbook of the embedded engine. Cards are
validated once, when the team is loaded, so a mistake is reported before any
run starts.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from switchboard.errors import ConfigError
from switchboard.policies.yaml_source import load_yaml, refuse_duplicate_keys

if TYPE_CHECKING:
    from switchboard.policies import PolicyFile

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
"""An agent's name, matched with ``fullmatch``: ``$`` would let a trailing newline through."""
_RESERVED = frozenset({"intake", "supervisor", "escalate", "finalize", "__start__", "__end__"})
_VAR = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
ASK_TOOL = "ask_customer"
"""The built-in tool an agent asks the customer with (see :mod:`switchboard.agents.questions`).

Not an MCP tool, so never on a card's allow-list; a skill that lists its
tools lists this one too when its steps may need to ask (see :attr:`Skill.tools`)."""


class Lookup(BaseModel):
    """Tools a step needs only to find facts that an earlier step may have handed over."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    finds: tuple[str, ...] = Field(min_length=1)
    """The facts (keys of the run's shared memory, such as ``user_id``) these tools find."""
    tools: tuple[str, ...] = Field(min_length=1)
    """Tools of the skill that serve only to find them: a step whose context
    already holds every one of ``finds`` is not shown them. They stay on the
    allow-list; this only keeps them out of the model's prompt.
    ``ask_customer`` may be one of them: a step that knows who and what the
    task is about need not ask."""
    in_step: bool = False
    """Also leave the step's later turns once the step's own calls have found
    the facts (see :meth:`found_by`). Only for tools that do nothing but find
    them, such as id searches: a record reader (``get_user_details``) is also
    how a step goes on to read what it needs next, or scans records for the
    right one, and the first record it reads is not the answer."""

    if TYPE_CHECKING:
        # Lists are accepted as well as tuples; validation stores tuples (see AgentCard).
        def __init__(self, *, finds: Sequence[str], tools: Sequence[str], in_step: bool = False) -> None: ...

    def found_by(self, tool: str, result: object) -> tuple[str, ...]:
        """The facts of ``finds`` that one successful call of ``tool`` returned.

        A result that is a JSON object holds the facts it has as keys with a
        value (an order record holds ``order_id``); a single value is the fact
        when this lookup finds only one, and it is an id: a number, or text
        without spaces (a sentence such as "Error: user not found" is a miss
        reported as text, not an id). A list finds nothing (several matches
        are not one answer), and neither does the customer's answer to
        ``ask_customer``: what the customer says is a claim for the tools to
        check, not a found fact.
        """
        if tool not in self.tools or tool == ASK_TOOL or not isinstance(result, str) or not result.strip():
            return ()
        try:
            value = json.loads(result)
        except ValueError:
            value = result.strip()
        if isinstance(value, dict):
            return tuple(fact for fact in self.finds if value.get(fact) not in (None, "", [], {}))
        an_id = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and bool(value) and not any(c.isspace() for c in value)
        )
        return self.finds if an_id and len(self.finds) == 1 else ()


class Skill(BaseModel):
    """One thing an agent can do, described well enough to route by."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    """Stable identifier, used in plans, progress records and policies."""
    description: str
    """What the skill does, in one sentence."""
    examples: tuple[str, ...] = ()
    """Typical requests that need this skill; routing matches against them."""
    writes: bool = False
    """Whether the skill changes state outside the run (an order, a payment,
    a message sent). Declared, not guessed: a card names tools, not which
    skill uses which, so MCP read-only hints cannot be mapped to a skill.
    The router never runs a writing step in parallel with another step on
    the same records (see the README, "Routing and assignment")."""
    tools: tuple[str, ...] = ()
    """The card's tools a step of this skill is shown (bound to the model);
    empty shows them all, and ``ask_customer``. A narrower list keeps each of
    the step's model calls short; the card's allow-list still decides what may
    run. A list shows ``ask_customer`` only if it names it: a back-office step
    that acts on facts handed over has no one to ask."""
    lookups: tuple[Lookup, ...] = ()
    """Which of those tools only find facts, and which: hidden from a step
    whose context already holds the facts (see :meth:`AgentCard.tools_of`)."""

    if TYPE_CHECKING:
        # Lists are accepted as well as tuples; validation stores tuples (see AgentCard).
        def __init__(
            self,
            *,
            id: str,
            description: str,
            examples: Sequence[str] = ...,
            writes: bool = ...,
            tools: Sequence[str] = ...,
            lookups: Sequence[Lookup] = ...,
        ) -> None: ...


class A2ASource(BaseModel):
    """Where a team file's remote agent is: an A2A agent whose card was saved beside the team file.

    The card is read from a file, not fetched, so loading a team and building
    its graph never wait on a remote server; save it once with
    ``switchboard.agents.a2a.discover_card`` (or from the agent's
    ``/.well-known/agent-card.json``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    card: str
    """The saved A2A card (JSON), relative to the team file; its interfaces say where the agent listens."""


class AgentCard(BaseModel):
    """Who an agent is and what it may do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Node name in the graph; lower_snake_case, unique in the team."""
    description: str
    """What the agent is for, in a sentence or two."""
    skills: tuple[Skill, ...] = Field(min_length=1)
    """What it can be asked to do."""
    tools: tuple[str, ...] = ()
    """Allow-list of tool names; anything else is refused at the tool call."""
    max_concurrency: int = Field(default=4, ge=1)
    """Steps this agent may run at once, across threads and processes."""
    cost_tier: Literal["low", "standard", "high"] = "standard"
    """Relative cost of a step; among equally good agents the cheaper is offered first."""
    fallbacks: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Skill id to the agents that take over that skill when this one fails
    or is unavailable, in order of preference."""
    timeout_s: float = Field(default=120.0, gt=0)
    """Longest a single tool call of this agent may take, and a single model
    call when its model names no timeout of its own (``?timeout=``,
    ``SWITCHBOARD_MODEL_TIMEOUT``); for an agent you bring as a compiled
    graph: its whole step."""
    model: str | None = None
    """This agent's own model spec (``embedded`` or ``provider:model``, see
    ``switchboard.models``); ``None`` uses the graph's agent model. The
    supervisor's model is chosen separately."""
    instructions: str = ""
    """Extra system-prompt text for an agent Switchboard runs itself (an
    ``AgentSpec``'s prompt); not shown to routing."""
    a2a: A2ASource | None = None
    """A remote agent over A2A (see :mod:`switchboard.agents.a2a`): its steps are A2A messages. It
    has no tools, model or instructions here: it runs them itself, and is governed at the handoff."""

    if TYPE_CHECKING:
        # What callers may pass: lists as well as tuples, as in the README's
        # examples. The fields stay tuples, so a card is immutable; pydantic
        # converts. Without this, mypy would take the fields' tuple types as
        # the constructor's and refuse a list.
        def __init__(
            self,
            *,
            name: str,
            description: str,
            skills: Sequence[Skill],
            tools: Sequence[str] = ...,
            max_concurrency: int = ...,
            cost_tier: Literal["low", "standard", "high"] = ...,
            fallbacks: Mapping[str, Sequence[str]] = ...,
            timeout_s: float = ...,
            model: str | None = ...,
            instructions: str = ...,
            a2a: A2ASource | None = ...,
        ) -> None: ...

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if not _NAME.fullmatch(name) or name in _RESERVED:
            raise ValueError(
                f"agent name {name!r} must be lower_snake_case and not one of "
                f"{sorted(_RESERVED)}; rename it in the team file"
            )
        return name

    @model_validator(mode="after")
    def _remote_runs_itself(self) -> AgentCard:
        if self.a2a is not None and (self.tools or self.model or self.instructions):
            raise ValueError(
                f"agent {self.name!r} is a remote A2A agent: it runs its own tools and model, so its card takes no "
                "`tools`, `model` or `instructions`; drop them, or drop `a2a`"
            )
        return self

    @model_validator(mode="after")
    def _skill_tools_on_the_card(self) -> AgentCard:
        for skill in self.skills:
            extra = [t for t in skill.tools if t not in self.tools and t != ASK_TOOL]
            if extra:
                raise ValueError(
                    f"skill {skill.id!r} of agent {self.name!r} lists tools not on the card: "
                    f"{', '.join(extra)}; add them to the agent's tools or drop them from the skill"
                )
            shown = skill.tools or (*self.tools, ASK_TOOL)
            stray = [t for lookup in skill.lookups for t in lookup.tools if t not in shown]
            if stray:
                raise ValueError(
                    f"skill {skill.id!r} of agent {self.name!r} has lookups with tools it does not show: "
                    f"{', '.join(stray)}; add them to the skill's tools or drop them from its lookups"
                )
        return self

    def tools_of(
        self, skill_id: str | None, known: Collection[str] = (), found: Collection[str] = ()
    ) -> tuple[str, ...]:
        """The tools a step of ``skill_id`` is shown: the skill's own list, else the card's and ``ask_customer``.

        ``ask_customer`` is in the answer when the step may ask; the graph
        offers it only if it was built to (``asks_customer``).

        Args:
            skill_id: The step's skill.
            known: The facts the step's context holds (handed over by earlier
                steps); the skill's lookups that find only these are left out.
            found: The facts the step's own calls found (:meth:`found_in`);
                they leave out only the lookups marked ``in_step``.
        """
        skill = next((s for s in self.skills if s.id == skill_id), None)
        tools = skill.tools if skill is not None and skill.tools else (*self.tools, ASK_TOOL)
        if skill is None or not (known or found):
            return tools
        held, anyhow = set(known), {*known, *found}
        hidden = {
            t
            for lookup in skill.lookups
            if set(lookup.finds) <= held or (lookup.in_step and set(lookup.finds) <= anyhow)
            for t in lookup.tools
        }
        return tuple(t for t in tools if t not in hidden)

    def found_in(self, skill_id: str | None, results: Iterable[tuple[str, object]]) -> set[str]:
        """The facts the skill's ``in_step`` lookups find in these successful tool results (:meth:`Lookup.found_by`).

        Args:
            skill_id: The step's skill.
            results: ``(tool, result text)`` of the step's successful calls.
        """
        skill = next((s for s in self.skills if s.id == skill_id), None)
        steps = [lookup for lookup in skill.lookups if lookup.in_step] if skill is not None else []
        if not steps:
            return set()
        return {fact for tool, result in results for lookup in steps for fact in lookup.found_by(tool, result)}

    def has_skill(self, skill_id: str) -> bool:
        """Whether this agent offers ``skill_id``."""
        return any(skill.id == skill_id for skill in self.skills)

    def prompt_view(self) -> dict[str, Any]:
        """The card as the supervisor's prompt shows it."""
        return {
            "name": self.name,
            "description": self.description,
            "skills": [{"id": s.id, "description": s.description, "examples": list(s.examples)} for s in self.skills],
            "tools": list(self.tools),
            "cost_tier": self.cost_tier,
        }


def derive_card(name: str, description: str, *, examples: tuple[str, ...] = (), **fields: Any) -> AgentCard:
    """A card for an agent given without one: one skill named after the agent.

    Routing matches tasks against the skill's description and examples, so
    the agent's description doubles as the skill's.

    Raises:
        ConfigError: The name or another field is invalid; the message says which.
    """
    fields.setdefault("skills", (Skill(id=name, description=description, examples=examples),))
    try:
        return AgentCard(name=name, description=description, **fields)
    except ValidationError as exc:
        problems = "; ".join(str(error["msg"]) for error in exc.errors())
        raise ConfigError(f"cannot make a card for agent {name!r}: {problems}") from exc


class Team(BaseModel):
    """A domain plugged into Switchboard: cards, servers, policy and playbook."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    agents: tuple[AgentCard, ...] = Field(min_length=1)
    servers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """MCP connections in langchain-mcp-adapters' format, keyed by server name.

    Their strings (``command``, ``args``, ``env``, ``url``) may use ``${VAR}``:
    an environment variable, a value the ``setup`` function returns,
    ``${PYTHON}`` (the running interpreter) or ``${TEAM_DIR}`` (the folder of
    this team file). A relative path is left as written and so resolves
    against the working directory of the process that starts the server;
    write ``args: ["${TEAM_DIR}/server.py"]`` for a server kept beside the
    team file, as the policy and workflows are."""
    policy: str | None = None
    """Policy file, relative to this team file (then the shipped ``policies/``
    folder); never looked up in the working directory."""
    engine: str | None = None
    """``module:ATTR`` of the embedded engine's playbook for this domain."""
    setup: str | None = None
    """``module:function`` run before a run opens the servers: it checks or
    prepares the domain's data and returns environment values (``${VAR}``)
    for the server connections."""
    workflows: tuple[str, ...] = ()
    """Declared workflows the supervisor may route to: shipped names
    (``retail_return``) or paths relative to this team file."""
    source: Path | None = None
    """Where the team was loaded from, for messages and relative paths."""

    if TYPE_CHECKING:
        # Lists are accepted as well as tuples; validation stores tuples (see AgentCard).
        def __init__(
            self,
            *,
            name: str,
            description: str = ...,
            agents: Sequence[AgentCard],
            servers: Mapping[str, Mapping[str, Any]] = ...,
            policy: str | None = ...,
            engine: str | None = ...,
            setup: str | None = ...,
            workflows: Sequence[str] = ...,
            source: Path | None = ...,
        ) -> None: ...

    @model_validator(mode="after")
    def _consistent(self) -> Team:
        seen: dict[str, AgentCard] = {}
        for card in self.agents:
            if card.name in seen:
                raise ValueError(f"agent {card.name!r} is defined twice; keep one card per agent")
            seen[card.name] = card
        for card in self.agents:
            for skill, names in card.fallbacks.items():
                if not card.has_skill(skill):
                    raise ValueError(f"{card.name} lists fallbacks for {skill!r}, a skill it does not have")
                for name in names:
                    other = seen.get(name)
                    if other is None or not other.has_skill(skill) or name == card.name:
                        raise ValueError(
                            f"{card.name}'s fallback {name!r} for {skill!r} must be another agent "
                            f"of this team that has the skill {skill!r}"
                        )
        return self

    @property
    def policy_path(self) -> Path | None:
        """The policy file this team names, resolved against the team file's folder."""
        if self.policy is None:
            return None
        from switchboard.policies import resolve_policy_path

        return resolve_policy_path(self.policy, self.source.parent if self.source else None)

    def load_policy(self) -> PolicyFile:
        """The business rules this team names (no rules when it names none)."""
        from switchboard.policies import load_policy

        return load_policy(self.policy_path)

    def load_workflows(self) -> tuple[Any, ...]:
        """The workflows this team names, loaded and validated (see ``switchboard.graph.workflows``)."""
        from switchboard.graph.workflows import load_workflow

        base = self.source.parent if self.source else None
        found = []
        for name in self.workflows:
            local = base / name if base is not None else None
            found.append(load_workflow(local if local is not None and local.is_file() else name))
        return tuple(found)

    def offering(self, skill: str) -> tuple[AgentCard, ...]:
        """Agents that have ``skill``, in file order."""
        return tuple(card for card in self.agents if card.has_skill(skill))

    def card(self, name: str) -> AgentCard:
        """The card of agent ``name``; a ConfigError names the known agents."""
        for card in self.agents:
            if card.name == name:
                return card
        raise ConfigError(f"no agent named {name!r}; known agents: {', '.join(self.names)}")

    @property
    def names(self) -> tuple[str, ...]:
        """Agent names, in file order."""
        return tuple(card.name for card in self.agents)

    def connections(self, env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
        """MCP connections with ``${VAR}`` expanded.

        ``${PYTHON}`` is the running interpreter, so a stdio server starts in
        the same environment as Switchboard itself. ``${TEAM_DIR}`` is the
        team file's folder, so a server shipped beside the team file is found
        from any working directory; it is always the team's own folder, never
        a ``TEAM_DIR`` from the environment, which could point elsewhere.
        Plain relative arguments are not rewritten: they need not be paths.

        Raises:
            ConfigError: A ``${VAR}`` is not set, or ``${TEAM_DIR}`` is used by
                a team that was not loaded from a file.
        """
        values = {"PYTHON": sys.executable, **os.environ, **(env or {})}
        values.pop(TEAM_DIR, None)
        if self.source is not None:
            values[TEAM_DIR] = str(self.source.resolve().parent)
        return {name: _expand(conn, values) for name, conn in self.servers.items()}


TEAM_DIR = "TEAM_DIR"
"""The ``${VAR}`` a team file's servers use for the team file's own folder."""


def _expand(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == TEAM_DIR and key not in values:
                raise ConfigError(
                    "the team's servers use ${TEAM_DIR}, but the team was not loaded from a file; "
                    "load it with `load_team(path)` or give the team a `source`"
                )
            if key not in values:
                raise ConfigError(f"the team file uses ${{{key}}}, but {key} is not set; set it")
            return values[key]

        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [_expand(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, values) for k, v in value.items()}
    return value


TEAMS_DIR = Path(__file__).parent / "teams"


def load_team(path: str | Path | None = None) -> Team:
    """Load and validate a team file.

    Args:
        path: A YAML file, or the bare name of a team shipped in
            ``agents/teams`` (never a file in the working directory).
            Defaults to the retail team.

    Raises:
        ConfigError: The file is missing or not a valid team; the message
            names the file and the field.
    """
    file = _resolve(path or "retail")
    try:
        stat = file.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read team file {file}: {exc}") from exc
    return _load_team(file.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _load_team(file: Path, mtime_ns: int, size: int) -> Team:
    """Parse and validate a team file once per version of it (the key has its mtime and size).

    Teams are frozen, and ``${VAR}`` references are expanded only when
    connections are made, so one parsed team serves every run.
    """
    try:
        text = file.read_text(encoding="utf-8")
        raw = load_yaml(text)  # clock-style numbers as YAML 1.2: `2:00` is text, not 120
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read team file {file}: {exc}") from exc
    refuse_duplicate_keys(text, file, "team file")  # YAML would keep the last value silently
    if not isinstance(raw, dict):
        raise ConfigError(f"team file {file} must hold a mapping with `name` and `agents`")
    try:
        return Team.model_validate({**raw, "source": file})
    except ValidationError as exc:
        raise ConfigError(f"team file {file} is invalid:\n{exc}") from exc


def _resolve(path: str | Path) -> Path:
    """A bare name is a shipped team, anything else a file path.

    A bare name (``retail``) is never looked up in the working directory, so
    a stray file there cannot replace a shipped team and its rules.
    """
    if isinstance(path, str) and _BARE_NAME.fullmatch(path):
        shipped = TEAMS_DIR / f"{path}.yaml"
        if not shipped.exists():
            known = ", ".join(sorted(p.stem for p in TEAMS_DIR.glob("*.yaml")))
            raise ConfigError(f"no team named {path!r}; shipped teams: {known}, or give a YAML path")
        return shipped
    candidate = Path(path).expanduser()
    if not candidate.is_file():
        raise ConfigError(f"team file {candidate} does not exist")
    return candidate


_BARE_NAME = re.compile(r"[A-Za-z0-9_-]+")
