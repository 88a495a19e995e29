"""A2A agent cards, both ways: a remote card read as a Switchboard card, and a team's cards served as one.

Routing reads Switchboard cards only, so a remote agent is as well routed as
its A2A card is written: its description, and its skills with their
examples, become the card's. Names are made to fit Switchboard's agent-name
rules (lower_snake_case); the caller may give a better one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from switchboard.agents.a2a._sdk import require
from switchboard.agents.card import AgentCard, Skill, derive_card
from switchboard.errors import ConfigError

if TYPE_CHECKING:
    import httpx
    from a2a.types import AgentCard as RemoteCard

_NOT_A_NAME = re.compile(r"[^a-z0-9]+")


async def discover_card(url: str, *, timeout_s: float = 10.0, client: httpx.AsyncClient | None = None) -> RemoteCard:
    """Read a remote agent's A2A card from ``url`` (its ``/.well-known/agent-card.json``).

    Args:
        url: The agent's base URL.
        timeout_s: Longest the request may take.
        client: An HTTP client to use (for its auth headers or proxies); a
            short-lived one otherwise.

    Raises:
        ConfigError: The SDK is not installed, or the card cannot be read;
            the message names the URL.
    """
    require()
    import httpx
    from a2a.client import A2ACardResolver, AgentCardResolutionError

    async def fetch(http: httpx.AsyncClient) -> RemoteCard:
        return await A2ACardResolver(http, url).get_agent_card(http_kwargs={"timeout": timeout_s})

    try:
        if client is not None:
            return await fetch(client)
        async with httpx.AsyncClient() as http:
            return await fetch(http)
    except (AgentCardResolutionError, httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        raise ConfigError(
            f"cannot read the A2A agent card at {url}: {exc}; check the URL and that the agent is running"
        ) from exc


def to_switchboard_card(
    remote: RemoteCard, *, name: str | None = None, description: str | None = None, **card_fields: Any
) -> AgentCard:
    """The Switchboard card for a remote A2A card: its skills, with their examples, to route by.

    Raises:
        ConfigError: The name (given or derived) is not a valid agent name.
    """
    name = name or _agent_name(remote.name)
    description = description or remote.description.strip() or f"The {remote.name} agent (A2A)."
    by_id: dict[str, Skill] = {}
    for s in remote.skills:  # ids as Switchboard writes them; a repeated one is the same skill
        skill_id = _agent_name(s.id or s.name)
        by_id.setdefault(skill_id, Skill(id=skill_id, description=s.description or s.name, examples=tuple(s.examples)))
    skills = tuple(by_id.values())
    if skills and "skills" not in card_fields:
        card_fields["skills"] = skills
    return derive_card(name, description, **card_fields)


def _agent_name(remote_name: str) -> str:
    """A remote name made a Switchboard name: lower_snake_case, starting with a letter, at most 64 characters."""
    ascii_name = unicodedata.normalize("NFKD", remote_name).encode("ascii", "ignore").decode()  # "Météo" -> "Meteo"
    slug = _NOT_A_NAME.sub("_", ascii_name.lower()).strip("_")
    if not slug:  # nothing of it is Latin: a name of its own all the same, so two such agents do not clash
        slug = "a2a_" + hashlib.sha256(remote_name.encode()).hexdigest()[:8]
    elif not slug[0].isalpha():
        slug = f"a2a_{slug}".rstrip("_")
    return slug[:64].rstrip("_")


def parse_card(remote: RemoteCard | Mapping[str, Any]) -> RemoteCard:
    """The SDK's card from a card or its JSON (as served at ``/.well-known/agent-card.json``).

    Raises:
        ConfigError: The SDK is missing, or the mapping is not an A2A card.
    """
    require()
    from a2a.client.card_resolver import parse_agent_card
    from a2a.types import AgentCard as RemoteCard
    from google.protobuf.json_format import ParseError

    if isinstance(remote, RemoteCard):
        return remote
    if not isinstance(remote, Mapping):
        raise ConfigError(f"not an A2A agent card: a JSON object was expected, not {type(remote).__name__}")
    try:
        return parse_agent_card(dict(remote))
    except (ParseError, TypeError, ValueError) as exc:
        raise ConfigError(f"not an A2A agent card: {exc}") from exc


def team_card(name: str, description: str, cards: Sequence[AgentCard], url: str) -> RemoteCard:
    """The A2A card of a Switchboard graph served at ``url``: one A2A skill per skill of its agents.

    A remote caller routes by these skills as Switchboard routes by its own,
    so each keeps its description and examples; a skill id two agents share
    is listed once.
    """
    require()
    from a2a.types import AgentCapabilities, AgentInterface, AgentSkill
    from a2a.types import AgentCard as RemoteCard

    skills: dict[str, AgentSkill] = {}
    for card in cards:
        for skill in card.skills:
            skills.setdefault(
                skill.id,
                AgentSkill(
                    id=skill.id,
                    name=skill.id.replace("_", " "),
                    description=skill.description,
                    examples=list(skill.examples),
                    tags=[card.name],
                ),
            )
    return RemoteCard(
        name=name,
        description=description,
        version="1.0.0",
        supported_interfaces=[AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=list(skills.values()),
    )
