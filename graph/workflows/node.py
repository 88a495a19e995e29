"""A workflow as one step of the supervisor.

:func:`workflow_node` wraps a compiled workflow as a node of the supervisor
graph, with the same input and the same ``Command`` back to the supervisor as
an agent node, so the supervisor routes to a workflow as it routes to an
agent; :func:`workflow_nodes` builds them from the supervisor's own agent
nodes, which is all the builder needs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from switchboard.agents.card import Team
from switchboard.errors import ConfigError
from switchboard.graph.agent_node import AgentNode
from switchboard.graph.state import AgentInput
from switchboard.graph.workflows.compile import compile_workflow
from switchboard.graph.workflows.outcome import crashed, outcome_of
from switchboard.graph.workflows.spec import Workflow
from switchboard.graph.workflows.state import WorkflowInput
from switchboard.graph.workflows.steps import from_agent_node

log = logging.getLogger(__name__)

WorkflowNode = Callable[[AgentInput, RunnableConfig], Awaitable[Command[Literal["supervisor"]]]]


def workflow_nodes(
    workflows: Sequence[Workflow], agent_nodes: Mapping[str, AgentNode], team: Team
) -> dict[str, WorkflowNode]:
    """Supervisor nodes for ``workflows``, keyed by node name, running the given agent nodes.

    Args:
        workflows: The workflows to offer.
        agent_nodes: The supervisor's agent nodes by agent name, so each step
            runs the same subgraph, lease and guard as an LLM-routed step.
        team: The team the agents belong to; resolves skill-only steps.

    Raises:
        ConfigError: A workflow's node name is taken by an agent or another
            workflow, or a step names an unknown agent or skill.
    """
    runners = {name: from_agent_node(node) for name, node in agent_nodes.items()}
    nodes: dict[str, WorkflowNode] = {}
    for workflow in workflows:
        name = workflow.node_name
        if name in nodes or name in team.names:
            raise ConfigError(
                f"workflow {workflow.source or workflow.name}: node name {name!r} is already taken; rename it"
            )
        nodes[name] = workflow_node(workflow, compile_workflow(workflow, runners, team=team))
    return nodes


def workflow_node(workflow: Workflow, graph: CompiledStateGraph[Any, Any, Any, Any]) -> WorkflowNode:
    """Wrap a compiled workflow as a node of the supervisor graph.

    The node takes the ``AgentInput`` the supervisor's ``Send`` gives an
    agent and returns the same kind of ``Command``: the steps' handoffs and
    escalations, then one handoff for the whole workflow (see
    :meth:`WorkflowOutcome.handoff`) and the facts. Each step sees the
    thread's tool-call history plus the calls of the steps before it, as an
    agent routed by the supervisor would. The workflow graph is invoked
    inside the node with the node's config, so it checkpoints as a subgraph
    of the thread, and an interrupt inside a step pauses the whole thread and
    resumes where it stopped.

    Step handoffs are recorded as not retryable: inside a workflow, what a
    failure leads to is the workflow's decision, already taken.
    """

    async def run(state: AgentInput, config: RunnableConfig) -> Command[Literal["supervisor"]]:
        assignment = state["assignment"]
        start = WorkflowInput(
            task=state["task"], context=dict(state.get("context") or {}), history=list(state.get("history") or [])
        )
        final: dict[str, Any] = {}
        try:
            final = await graph.ainvoke(start, config)
            outcome = outcome_of(workflow, final)
        except GraphBubbleUp:
            raise
        except Exception as exc:  # reported as a failed workflow, so the supervisor falls back to routing
            log.warning("workflow %s crashed; the supervisor takes the task back", workflow.name, exc_info=exc)
            outcome = crashed(workflow, exc)
        steps = [{**e, "retryable": False} if e["kind"] == "handoff" else e for e in final.get("trail") or []]
        summary = outcome.handoff(
            agent=workflow.node_name, assignment=assignment["id"], instruction=assignment["instruction"]
        )
        return Command(
            goto="supervisor",
            update={
                "trail": [*steps, summary],
                "context": dict(outcome.facts),
            },
        )

    run.__name__ = workflow.node_name
    return run
