"""Declarative workflows beside LLM routing.

A workflow file declares steps, their dependencies, branch conditions and
compensations; :func:`compile_workflow` turns it into a LangGraph graph
(``Send`` for steps that start together, barrier joins, conditional edges),
which runs standalone or as one node of the supervisor
(:func:`workflow_node`). An unhandled failure ends it with a typed
:class:`WorkflowOutcome` whose ``fallback`` tells the supervisor to route by
model again.
"""

from __future__ import annotations

from switchboard.graph.workflows.compile import build_workflow_graph, compile_workflow, step_agents
from switchboard.graph.workflows.conditions import AllOf, AnyOf, Condition, FactTest, Not, StatusTest
from switchboard.graph.workflows.node import WorkflowNode, routing_team, workflow_node, workflow_nodes
from switchboard.graph.workflows.outcome import WorkflowOutcome, outcome_of
from switchboard.graph.workflows.spec import WORKFLOWS_DIR, Action, Step, Workflow, load_workflow
from switchboard.graph.workflows.state import WorkflowInput, WorkflowState
from switchboard.graph.workflows.steps import StepOutcome, StepRequest, StepRunner, from_agent_node

__all__ = [
    "WORKFLOWS_DIR",
    "Action",
    "AllOf",
    "AnyOf",
    "Condition",
    "FactTest",
    "Not",
    "StatusTest",
    "Step",
    "StepOutcome",
    "StepRequest",
    "StepRunner",
    "Workflow",
    "WorkflowInput",
    "WorkflowNode",
    "WorkflowOutcome",
    "WorkflowState",
    "build_workflow_graph",
    "compile_workflow",
    "from_agent_node",
    "load_workflow",
    "outcome_of",
    "routing_team",
    "step_agents",
    "workflow_node",
    "workflow_nodes",
]
