"""Workflow steps run the supervisor's own agent nodes: the real subgraph, scripted model.

Also: a workflow as one node of a parent graph with SQLite checkpoints, where
an interrupt inside a step pauses the parent thread and resumes in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send, interrupt

from switchboard.agents.card import Team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.interrupts import Governance
from switchboard.agents.subgraph import build_agent_graph
from switchboard.agents.toolbox import Toolbox
from switchboard.errors import ConfigError
from switchboard.graph.agent_node import agent_node
from switchboard.graph.state import AgentInput, Assignment, SupervisorState
from switchboard.graph.workflows import (
    StepRequest,
    Workflow,
    compile_workflow,
    from_agent_node,
    outcome_of,
    workflow_node,
    workflow_nodes,
)
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, handoff

from .workflow_kit import Desk

FLOW = Workflow.model_validate(
    {
        "name": "fruit",
        "steps": [
            {"id": "count", "skill": "apples", "instruction": "Count the apples."},
            {
                "id": "peel",
                "skill": "bananas",
                "instruction": "Peel one banana per apple.",
                "needs": ["count"],
                "when": {"step": "count", "fact": "apples", "one_of": [1, 2, 3]},
            },
        ],
    }
)


def runners(desk: Team, model: ScriptedChatModel, health: HealthRegistry) -> dict[str, Any]:
    gov = Governance.of(PolicyFile(name="none"))
    return {
        card.name: from_agent_node(
            agent_node(card, build_agent_graph(card, model=model, toolbox=Toolbox({}), gov=gov), health)
        )
        for card in desk.agents
    }


async def test_steps_run_the_real_agent_subgraphs_with_facts_passed_on(desk: Team) -> None:
    model = ScriptedChatModel(
        steps=[],
        agents={"alpha": [handoff("Three apples.", apples=3)], "beta": [handoff("Peeled three bananas.", peeled=3)]},
    )
    health = HealthRegistry()
    graph = compile_workflow(FLOW, runners(desk, model, health), team=desk)

    final = await graph.ainvoke({"task": "Fruit salad for three."})

    model.assert_complete()
    outcome = outcome_of(FLOW, final)
    assert outcome.status == "completed" and dict(outcome.facts) == {"apples": 3, "peeled": 3}
    beta_prompt = next(c.text for c in model.calls if c.text.startswith("You are beta,"))
    assert '"apples": 3' in beta_prompt and "Peel one banana per apple." in beta_prompt
    assert [(h["agent"], h["assignment"]) for h in final["trail"]] == [("alpha", "fruit.count"), ("beta", "fruit.peel")]


async def test_an_agent_that_is_unable_stops_the_workflow(desk: Team) -> None:
    model = ScriptedChatModel(steps=[], agents={"alpha": [handoff("No apples here.", status="unable")]})
    final = await compile_workflow(FLOW, runners(desk, model, HealthRegistry()), team=desk).ainvoke({"task": "t"})
    model.assert_complete()
    outcome = outcome_of(FLOW, final)
    assert outcome.status == "failed" and outcome.fallback and outcome.failed_step == "count"


async def test_inside_a_parent_graph_an_interrupt_pauses_the_thread_and_resumes_in_place(tmp_path: Path) -> None:
    """The parent stands where the supervisor will: it sends the step, as it sends agents."""
    named = Workflow.model_validate(
        {
            "name": "fruit",
            "steps": [
                {"id": "count", "agent": "alpha", "instruction": "Count the apples."},
                {"id": "peel", "agent": "beta", "instruction": "Peel them.", "needs": ["count"]},
            ],
        }
    )
    desk = Desk(facts={"count": {"apples": 2}})
    asked: list[Any] = []

    async def ask(request: StepRequest) -> None:
        asked.append(interrupt("Peel them?"))

    desk.holds = {"peel": ask}
    node: Any = workflow_node(named, compile_workflow(named, desk.runners(["alpha", "beta"])))

    def start(state: SupervisorState) -> Command[Any]:
        assignment = Assignment(id="w1", agent=named.node_name, skill=None, instruction="Make the salad.", tried=[])
        payload = AgentInput(task=state["task"], context={}, history=[], assignment=assignment)
        return Command(goto=[Send(named.node_name, payload)])

    parent = StateGraph(SupervisorState)
    parent.add_node("start", start, destinations=(named.node_name,))
    parent.add_node(named.node_name, node, input_schema=AgentInput)
    parent.add_node("supervisor", lambda state: {})
    parent.add_edge(START, "start")
    parent.add_edge("supervisor", END)
    config: Any = {"configurable": {"thread_id": "nested"}}
    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "cp.sqlite")) as saver:
        graph = parent.compile(checkpointer=saver)
        paused = await graph.ainvoke({"task": "salad"}, config)
        assert paused["__interrupt__"][0].value == "Peel them?"
        final = await graph.ainvoke(Command(resume="yes"), config)
    assert asked == ["yes"]
    assert desk.counts == {"count": 1, "peel": 2}  # count is not run again; peel re-enters once
    assert final["trail"][-1]["status"] == "done" and final["context"] == {"apples": 2}


async def test_the_supervisor_answers_a_failed_workflow_by_routing_with_the_model(desk: Team) -> None:
    """The contract the wiring relies on: a failed, non-retryable handoff goes to the router, not to reassignment."""
    from switchboard.graph.routing import Router
    from switchboard.graph.supervisor import supervisor_node
    from switchboard.testing import route

    failing = Desk(facts={"count": {"apples": 2}}, status={"peel": "failed"})
    named = Workflow.model_validate(
        {
            "name": "fruit",
            "steps": [
                {"id": "count", "agent": "alpha", "instruction": "Count the apples."},
                {"id": "peel", "agent": "beta", "instruction": "Peel them.", "needs": ["count"]},
            ],
        }
    )
    node = workflow_node(named, compile_workflow(named, failing.runners(["alpha", "beta"])))
    assignment = Assignment(id="w1", agent=named.node_name, skill=None, instruction="Make the salad.", tried=[])
    command = await node(AgentInput(task="salad", context={}, history=[], assignment=assignment), {})
    model = ScriptedChatModel(steps=[route("beta", "Peel the two bananas by hand.", skill="bananas")])
    supervisor = supervisor_node(Router(desk, model, PolicyFile(name="none")), max_hops=12)
    state: Any = {"task": "salad", "trail": command.update["trail"], "context": command.update["context"], "hops": 1}

    decision = await supervisor(state, {})

    model.assert_complete()  # LLM routing took over
    assert "Workflow fruit stopped at step peel" in model.calls[0].text
    (send,) = decision.goto
    assert send.node == "beta" and send.arg["assignment"]["instruction"] == "Peel the two bananas by hand."


async def test_workflow_nodes_build_supervisor_steps_from_the_agent_nodes(desk: Team) -> None:
    model = ScriptedChatModel(
        steps=[], agents={"alpha": [handoff("One apple.", apples=1)], "beta": [handoff("Peeled.")]}
    )
    gov = Governance.of(PolicyFile(name="none"))
    agent_nodes = {
        card.name: agent_node(card, build_agent_graph(card, model=model, toolbox=Toolbox({}), gov=gov))
        for card in desk.agents
    }
    nodes = workflow_nodes([FLOW], agent_nodes, desk)
    assert list(nodes) == ["workflow_fruit"]
    assignment = Assignment(id="w1", agent="workflow_fruit", skill=None, instruction="Salad.", tried=[])
    command = await nodes["workflow_fruit"](AgentInput(task="salad", context={}, history=[], assignment=assignment), {})
    model.assert_complete()
    assert [e["agent"] for e in command.update["trail"]] == ["alpha", "beta", "workflow_fruit"]
    assert command.update["trail"][-1]["status"] == "done"
    with pytest.raises(ConfigError, match="node name 'workflow_fruit' is already taken"):
        workflow_nodes([FLOW, FLOW], agent_nodes, desk)


def test_a_workflow_for_another_team_is_refused(desk: Team) -> None:
    other = FLOW.model_copy(update={"team": "retail"})
    with pytest.raises(ConfigError, match="is for team 'retail', not 'desk'"):
        compile_workflow(other, Desk().runners(desk.names), team=desk)
