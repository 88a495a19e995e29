"""Agents: cards and team files, agent subgraphs, the guard, MCP toolboxes.

Three kinds of agent plug into a graph: a card over MCP tools, an
:class:`AgentSpec` (tools and a prompt; Switchboard builds the agent and the
guard checks its every tool call) and an :class:`Agent` you built yourself
(a compiled graph or Runnable, governed at the handoff), which may be a remote
agent over A2A (:func:`a2a_agent`).
"""

from __future__ import annotations

from switchboard.agents.a2a import a2a_agent, a2a_agent_from_card
from switchboard.agents.card import AgentCard, Skill, Team, derive_card, load_team
from switchboard.agents.external import Agent
from switchboard.agents.spec import AgentSpec

__all__ = [
    "Agent",
    "AgentCard",
    "AgentSpec",
    "Skill",
    "Team",
    "a2a_agent",
    "a2a_agent_from_card",
    "derive_card",
    "load_team",
]
