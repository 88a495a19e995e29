"""The supervisor graph: state, routing decision, nodes and the builder."""

from __future__ import annotations

from graph.builder import DEFAULT_MAX_HOPS, build_graph
from graph.decision import RoutingDecision
from graph.state import SupervisorState, TrailEvent

__all__ = ["DEFAULT_MAX_HOPS", "RoutingDecision", "SupervisorState", "TrailEvent", "build_graph"]
