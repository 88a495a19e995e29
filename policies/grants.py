"""Grants: which agent may call which tool, and hand work to which agent.

A second lock beside each agent card's tool list: the card says what an agent
*can* reach, the policy (owned by the business, not by whoever writes the
cards) says what it *may*. A call must pass both. Tool names may be glob
patterns (``get_*``). Without a ``grants`` section the policy grants what the
cards allow; with one, an agent it does not name may do nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict

from switchboard.policies.decision import ALLOW, PolicyDecision, deny

SUPERVISOR = "supervisor"
"""The name a handoff check uses for the supervisor as the source."""

_GLOB = frozenset("*?[")


def is_pattern(name: str) -> bool:
    """Whether a granted tool name is a glob pattern (``get_*``) rather than one tool's name.

    Only tool names are matched as patterns; ``handoffs`` name agents one by one.
    """
    return any(char in _GLOB for char in name)


def tool_matches(tool: str, names: Iterable[str]) -> bool:
    """Whether ``tool`` is one of ``names``, each a tool's name or a glob pattern (``refund*``).

    The one matcher for every list of tools a policy writes (grants,
    approval and deny rules), so a pattern that grants a tool also governs
    it: a rule compared by exact name loaded fine and never applied.
    """
    return any(fnmatchcase(tool, name) for name in names)


def matching_tools(names: Iterable[str], known: Collection[str]) -> tuple[str, ...]:
    """``names`` with each pattern replaced by the ``known`` tools it matches, in order, without repeats.

    A pattern matching none stays as written, so whoever checks the names
    against the tools reports it as it reports a misspelt name: it governs
    nothing.
    """
    found: list[str] = []
    for name in names:
        matched = sorted(tool for tool in known if fnmatchcase(tool, name)) if is_pattern(name) else []
        found += matched or [name]
    return tuple(dict.fromkeys(found))


class Grant(BaseModel):
    """What one agent may do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tools: tuple[str, ...] = ()
    """Tools (or glob patterns) the agent may call."""
    handoffs: tuple[str, ...] = ()
    """Agents the agent may hand work to, by name (not patterns)."""


def check_tool_grant(grants: dict[str, Grant] | None, agent: str, tool: str) -> PolicyDecision:
    """Whether ``agent`` may call ``tool`` under ``grants``."""
    if grants is None:
        return ALLOW
    grant = grants.get(agent)
    if grant is None:
        return deny("grants", f"the policy grants {agent} no tools; ask an operator to add a grant", agent=agent)
    if tool_matches(tool, grant.tools):
        return ALLOW
    return deny(
        "grants",
        f"{agent} is not granted {tool!r} by the policy; granted: {', '.join(grant.tools) or 'none'}",
        agent=agent,
        tool=tool,
    )


def check_handoff_grant(grants: dict[str, Grant] | None, source: str, target: str) -> PolicyDecision:
    """Whether work may pass from ``source`` (an agent, or the supervisor) to ``target``.

    The supervisor may assign to any agent of the team; an agent may hand
    work only to the agents its grant lists.
    """
    if grants is None or source == SUPERVISOR:
        return ALLOW
    grant = grants.get(source)
    if grant is not None and target in grant.handoffs:
        return ALLOW
    allowed = ", ".join(grant.handoffs) if grant and grant.handoffs else "none"
    return deny(
        "grants", f"{source} may not hand work to {target}; it may hand to: {allowed}", source=source, target=target
    )
