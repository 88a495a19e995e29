"""Assemble the supervisor graph.

``intake`` takes the task in (from ``task`` or the chat); ``supervisor``
decides; each agent is a node running its own subgraph; ``escalate`` pauses
for a human; ``finalize`` writes the report. Every edge
out of a node is a ``Command``; the builder declares the destinations so the
drawn graph is exact.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore
from langgraph.types import RetryPolicy

from switchboard.agents.card import Team, load_team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.subgraph import build_agent_graph
from switchboard.agents.toolbox import Toolbox
from switchboard.graph.agent_node import agent_node
from switchboard.graph.escalation import escalation_node
from switchboard.graph.finalize import finalize
from switchboard.graph.intake import intake
from switchboard.graph.routing import Router
from switchboard.graph.state import AgentInput, SupervisorInput, SupervisorOutput, SupervisorState
from switchboard.graph.supervisor import supervisor_node
from switchboard.policies import PolicyFile

DEFAULT_MAX_HOPS = 12


def build_graph(
    *,
    team: Team | None = None,
    model: BaseChatModel | None = None,
    toolbox: Toolbox | None = None,
    policy: PolicyFile | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    store: BaseStore | None = None,
    health: HealthRegistry | None = None,
    max_hops: int = DEFAULT_MAX_HOPS,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Build and compile the supervisor graph.

    Args:
        team: Agent cards and servers; the shipped retail team by default.
        model: The model for the supervisor and every agent; the embedded
            engine with the team's playbook by default.
        toolbox: Where agents' tools come from. When it holds tools, every
            card's allow-list is checked against it now, not at run time.
        policy: Business rules; the team's policy file by default.
        checkpointer: Where thread state is saved (see ``checkpoints``).
        store: Long-term memory shared across threads, if any.
        health: Live load and health shared with other threads and processes;
            a private in-memory registry by default.
        max_hops: Agent steps before the supervisor must ask a human.

    Raises:
        ConfigError: A card names a tool no server provides, or a setting is
            invalid; raised here, before any run.
    """
    team = team or load_team()
    policy = policy if policy is not None else team.load_policy()
    if model is None:
        from switchboard.models import resolve_model

        model = resolve_model(None, team)
    toolbox = toolbox or Toolbox({})
    if toolbox.names:
        toolbox.check(team, policy.guarded_tools())
    health = health or HealthRegistry()
    router = Router(team, model, policy, health)
    builder = StateGraph(SupervisorState, input_schema=SupervisorInput, output_schema=SupervisorOutput)
    # LangGraph's add_node overloads do not model async Command-returning nodes
    # that take a config, so the nodes are passed untyped; compile() checks them.
    supervisor: Any = supervisor_node(router, max_hops=max_hops)
    builder.add_node(
        "supervisor",
        supervisor,
        destinations=(*team.names, "escalate", "finalize"),
        retry_policy=RetryPolicy(max_attempts=3),
    )
    for card in team.agents:
        subgraph = build_agent_graph(card, model=model, toolbox=toolbox, policy=policy)
        node: Any = agent_node(card, subgraph, health)
        builder.add_node(card.name, node, input_schema=AgentInput)
    escalate: Any = escalation_node(policy)
    builder.add_node("intake", intake)
    builder.add_node("escalate", escalate)
    builder.add_node("finalize", finalize)
    builder.add_edge(START, "intake")
    builder.add_edge("intake", "supervisor")
    builder.add_edge("finalize", END)
    return builder.compile(checkpointer=checkpointer, store=store, name="switchboard")
