"""A workflow as one step of the supervisor.

:func:`workflow_node` wraps a compiled workflow as a node of the supervisor
graph, with the same input and the same ``Command`` back to the supervisor as
an agent node, so the supervisor routes to a workflow as it routes to an
agent; :func:`workflow_nodes` builds them from the supervisor's own agent
nodes, and :func:`routing_team` offers them to the router as cards, which is
all the builder needs.
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
        _check_free(workflow, (*team.names, *nodes))
        nodes[workflow.node_name] = workflow_node(workflow, compile_workflow(workflow, runners, team=team))
    return nodes


def routing_team(team: Team, workflows: Sequence[Workflow]) -> Team:
    """The team as the router sees it: its agents, then a card per workflow.

    A workflow is offered like an agent (see :meth:`Workflow.card`), so
    shortlisting, pinned routing rules and the routing model can choose it.
    ``build_graph`` and the routing lab both route with this team, so the
    lab's decision is the one a run would make.

    Raises:
        ConfigError: A workflow's node name is taken by an agent or another workflow.
    """
    cards = list(team.agents)
    for workflow in workflows:
        _check_free(workflow, [c.name for c in cards])
        cards.append(workflow.card())
    return team.model_copy(update={"agents": tuple(cards)})


def _check_free(workflow: Workflow, taken: Sequence[str]) -> None:
    """Refuse a workflow whose node name an agent or another workflow already has: nodes and cards are by name."""
    if workflow.node_name in taken:
        raise ConfigError(
            f"workflow {workflow.source or workflow.name}: node name {workflow.node_name!r} is already taken; rename it"
        )


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

    The supervisor's assignment id is the run's id (``WorkflowInput.run``):
    each step's assignment id is ``<run>.<step>``, so the writes of a second
    run in the thread are keyed apart from the first's, and a run that goes
    on after a pause or a crash keys them as before.

    Step handoffs are recorded as not retryable: inside a workflow, what a
    failure leads to is the workflow's decision, already taken.
    """

    async def run(state: AgentInput, config: RunnableConfig) -> Command[Literal["supervisor"]]:
        assignment = state["assignment"]
        start = WorkflowInput(
            task=state["task"],
            context=dict(state.get("context") or {}),
            history=list(state.get("history") or []),
            run=assignment["id"],  # new per routing decision, the same when this step runs again
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
