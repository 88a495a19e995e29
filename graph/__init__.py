"""The supervisor graph: state, routing decision, nodes and the builder."""

from __future__ import annotations

from switchboard.graph.builder import DEFAULT_MAX_HOPS, AgentLike, build_graph
from switchboard.graph.decision import RoutingDecision
from switchboard.graph.state import SupervisorState, TrailEvent

__all__ = ["DEFAULT_MAX_HOPS", "AgentLike", "RoutingDecision", "SupervisorState", "TrailEvent", "build_graph"]
