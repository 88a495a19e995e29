"""Durability tests reuse the supervisor tests' tool-free team."""

from __future__ import annotations

from tests.graph.conftest import desk, desk_graph

__all__ = ["desk", "desk_graph"]
