"""The entry point ``langgraph.json`` loads, for ``langgraph dev`` and LangGraph servers.

The server owns persistence, so no checkpointer is given here. The factory is
an async context manager: the MCP servers start when the graph is loaded and
stop when the server shuts down, as they do around a CLI run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from switchboard.agents.card import load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.graph.builder import build_graph
from switchboard.models import resolve_model
from switchboard.runs import prepare_team
from switchboard.settings import Settings


@asynccontextmanager
async def make_graph(config: Any = None) -> AsyncIterator[CompiledStateGraph[Any, Any, Any, Any]]:
    """Build the supervisor graph from the environment's settings."""
    settings = Settings()
    team = load_team(settings.team)
    async with Toolbox.for_team(team, prepare_team(team)) as toolbox:
        yield build_graph(
            team=team, model=resolve_model(settings.model, team), toolbox=toolbox, max_hops=settings.max_hops
        )
