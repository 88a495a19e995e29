"""The Agent-to-Agent protocol (A2A): remote agents as team members, and a graph as an A2A agent.

* :func:`a2a_agent` (async, discovers the card) and :func:`a2a_agent_from_card`
  (sync, no I/O) make a remote A2A agent an :class:`~switchboard.agents.Agent`
  for ``build_graph``;
* :func:`switchboard.agents.a2a.server.a2a_app` serves a graph over A2A
  (imported from its module: it needs the run service, which needs the graph).

The SDK is optional: ``pip install 'switchboard[a2a]'``; nothing here imports
it until an A2A agent is built or run.
"""

from __future__ import annotations

from switchboard.agents.a2a.cards import discover_card, to_switchboard_card
from switchboard.agents.a2a.client import RemoteOutcome, RemoteTaskFailed, a2a_agent, a2a_agent_from_card

__all__ = [
    "RemoteOutcome",
    "RemoteTaskFailed",
    "a2a_agent",
    "a2a_agent_from_card",
    "discover_card",
    "to_switchboard_card",
]
