"""Compile a workflow into a LangGraph ``StateGraph``.

The structure is LangGraph's own; nothing here schedules anything:

- every step is a node, started by ``Send`` with what is known at that
  moment, so steps that become ready together run in the same superstep;
- a step needed by a later one has a conditional edge deciding, from the
  results so far, whether that later step starts (its ``when``), so a
  branch not taken is simply never entered, nor is anything after it;
- a step with several needs waits behind a join node (``join__<id>``,
  reached by ``add_edge([a, b], ...)``, LangGraph's barrier), whose
  conditional edge then decides the same way; if a need was skipped the
  barrier never opens, so the step is skipped too;
- once a step fails with ``on_failure: stop``, every conditional edge sends
  to the compensation chain instead: one ``undo__<id>`` node per step that
  declares a compensation, in reverse order of the file, then ``END``.

The compiled graph runs standalone with any checkpointer, or inside the
supervisor through :func:`~switchboard.graph.workflows.outcome.workflow_node`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import GraphBubbleUp
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore
from langgraph.types import Send

from switchboard.agents.card import Team
from switchboard.agents.records import HandoffEvent, ToolCallRecord
from switchboard.errors import ConfigError
from switchboard.graph import trail as query
from switchboard.graph.workflows.spec import Action, Step, Workflow
from switchboard.graph.workflows.state import StepInput, WorkflowInput, WorkflowState
from switchboard.graph.workflows.steps import StepOutcome, StepRequest, StepRunner

Route = Callable[[WorkflowState], list[Send | str]]
Node = Callable[..., Awaitable[dict[str, Any]]]


def compile_workflow(
    workflow: Workflow,
    runners: Mapping[str, StepRunner],
    *,
    team: Team | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    store: BaseStore | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile ``workflow`` into a runnable graph.

    Args:
        workflow: The validated workflow.
        runners: Agent name to the runner that carries out its steps; see
            :func:`~switchboard.graph.workflows.steps.from_agent_node`.
        team: Resolves steps that name only a skill, and checks that named
            agents have the named skills. Without it every step must name an
            agent.
        checkpointer: For standalone runs; leave it out when the graph runs
            inside the supervisor, which checkpoints it as its own subgraph.
        store: Long-term memory shared across threads, if any.

    Raises:
        ConfigError: The workflow is for another team, a step names an
            agent with no runner, or a skill no agent of the team has; the
            message names the file and the step.
    """
    builder = build_workflow_graph(workflow, runners, team=team)
    return builder.compile(checkpointer=checkpointer, store=store, name=workflow.node_name)


def build_workflow_graph(
    workflow: Workflow, runners: Mapping[str, StepRunner], *, team: Team | None = None
) -> StateGraph[WorkflowState, Any, WorkflowInput, WorkflowState]:
    """The uncompiled graph of ``workflow``; :func:`compile_workflow` explains the arguments."""
    if team is not None and workflow.team is not None and workflow.team != team.name:
        raise ConfigError(
            f"workflow {workflow.source or workflow.name} is for team {workflow.team!r}, not {team.name!r}; "
            "compile it with its own team"
        )
    builder: StateGraph[WorkflowState, Any, WorkflowInput, WorkflowState] = StateGraph(
        WorkflowState, input_schema=WorkflowInput
    )
    chain = [s for s in reversed(workflow.steps) if s.compensate is not None]
    halt = f"undo__{chain[0].id}" if chain else END
    for step in workflow.steps:
        agent = _agent_for(workflow, step.id, step, runners, team)
        node: Any = _step_node(workflow.name, step, agent, runners[agent])
        builder.add_node(step.id, node, input_schema=StepInput)
        if len(step.needs) > 1:
            join = f"join__{step.id}"
            builder.add_node(join, _join)
            builder.add_edge(list(step.needs), join)
            # The step that stopped the workflow started the compensations itself.
            builder.add_conditional_edges(join, _gate(workflow, (step,), END), [step.id, END])
    roots = tuple(s for s in workflow.steps if not s.needs)
    builder.add_node(BEGIN, _begin(workflow))
    builder.add_edge(START, BEGIN)
    builder.add_conditional_edges(BEGIN, _gate(workflow, roots, halt), [s.id for s in roots])
    for step in workflow.steps:
        nexts = tuple(s for s in workflow.dependents(step.id) if len(s.needs) == 1)
        ends = list(dict.fromkeys([*(s.id for s in nexts), halt, END]))
        builder.add_conditional_edges(step.id, _gate(workflow, nexts, halt), ends)
    for position, step in enumerate(chain):
        assert step.compensate is not None
        where = f"undo__{step.id}"
        agent = _agent_for(workflow, where, step.compensate, runners, team)
        undo: Any = _undo_node(workflow.name, step, agent, runners[agent])
        builder.add_node(where, undo)
        builder.add_edge(where, f"undo__{chain[position + 1].id}" if position + 1 < len(chain) else END)
    return builder


def _gate(workflow: Workflow, candidates: tuple[Step, ...], halt: str) -> Route:
    """A conditional edge: start the candidates whose conditions hold, or compensate.

    Parallelism is the list of ``Send`` it returns: every candidate that is
    ready starts in the next superstep, together.
    """

    def route(state: WorkflowState) -> list[Send | str]:
        results = state.get("results") or {}
        if _stopped(workflow, results):
            return [halt]
        payload = StepInput(
            task=state.get("task", ""),
            context=dict(state.get("context") or {}),
            history=_history(state),
        )
        if run := _run_of(state):
            payload["run"] = run
        sends: list[Send | str] = [Send(s.id, payload) for s in candidates if _ready(s, results)]
        return sends or [END]

    return route


def _ready(step: Step, results: Mapping[str, HandoffEvent]) -> bool:
    """Whether a step whose needs have all finished should run."""
    if step.when is not None:
        return step.when.holds(results)
    return all(need in results and results[need]["status"] == "done" for need in step.needs)


def _stopped(workflow: Workflow, results: Mapping[str, HandoffEvent]) -> bool:
    """Whether a step failed in a way the workflow does not handle."""
    return any(r["status"] != "done" and workflow.step(sid).on_failure == "stop" for sid, r in results.items())


def _history(state: WorkflowState) -> list[ToolCallRecord]:
    """The thread's tool calls so far: those before the workflow, then its steps' own.

    As the supervisor gives its agents, so the policy sees the facts the
    earlier steps established (the customer identified, the order's owner).
    """
    steps = [call for handoff in query.handoffs(state.get("trail") or []) for call in handoff["tool_calls"]]
    return [*(state.get("history") or []), *steps]


BEGIN = "begin__run"
"""The node every run starts at: it names the run (see :func:`_begin`)."""


def _begin(workflow: Workflow) -> Node:
    """Name this run: the id it was given (the supervisor's assignment), else the workflow's name, else a new one.

    A standalone graph keeps one thread across its runs, so its second run
    would otherwise key its steps' writes like the first's, and have them
    replayed instead of done: a thread's first run is named after the
    workflow, each later one afresh. The name is checkpointed with this
    node, so a run resumed after a pause or a crash keeps it.
    """

    async def begin(state: WorkflowState) -> dict[str, Any]:
        if state.get("run"):
            return {"run_id": state["run"]}
        if not state.get("run_id"):
            return {"run_id": workflow.name}
        return {"run_id": f"{workflow.name}-{uuid.uuid4().hex[:12]}"}

    return begin


def _run_of(state: WorkflowState) -> str | None:
    """The run's name; a run that began before runs were named has only the id it was given, if any."""
    return state.get("run_id") or state.get("run") or None


async def _join(state: WorkflowState) -> dict[str, Any]:
    """A barrier's node: it only exists so its conditional edge runs once every need is in."""
    return {}


def _step_node(workflow: str, step: Step, agent: str, runner: StepRunner) -> Node:
    async def run(state: StepInput, config: RunnableConfig) -> dict[str, Any]:
        request = StepRequest(
            workflow=workflow,
            step=step.id,
            agent=agent,
            skill=step.skill,
            instruction=step.instruction,
            task=state["task"],
            context=state["context"],
            history=tuple(state["history"]),
            run=state.get("run"),
        )
        outcome = await _run(runner, request, config)
        handoff = outcome.handoff
        return {
            "results": {step.id: handoff},
            "trail": [*outcome.escalations, handoff],
            "context": dict(handoff["facts"]) if handoff["status"] == "done" else {},
        }

    run.__name__ = step.id
    return run


def _undo_node(workflow: str, step: Step, agent: str, runner: StepRunner) -> Node:
    action = step.compensate
    assert action is not None

    async def undo(state: WorkflowState, config: RunnableConfig) -> dict[str, Any]:
        result = (state.get("results") or {}).get(step.id)
        if result is None or result["status"] != "done" or step.id in (state.get("compensations") or {}):
            return {}  # nothing to undo: the step did not take effect, or was compensated already
        request = StepRequest(
            workflow=workflow,
            step=f"{step.id}.undo",
            agent=agent,
            skill=action.skill,
            instruction=action.instruction,
            task=state.get("task", ""),
            context=dict(state.get("context") or {}),
            history=tuple(_history(state)),
            run=_run_of(state),
        )
        outcome = await _run(runner, request, config)
        return {
            "compensations": {step.id: outcome.handoff},
            "trail": [*outcome.escalations, outcome.handoff],
        }

    undo.__name__ = f"{step.id}_undo"
    return undo


async def _run(runner: StepRunner, request: StepRequest, config: RunnableConfig) -> StepOutcome:
    """Run a step; an exception becomes the step's recorded failure.

    Interrupts pass through untouched: they pause the thread for a human.
    Any other exception is the workflow's to handle, by compensating and
    reporting it, never by hiding it: its type and text become the summary.
    """
    try:
        return await runner(request, config)
    except GraphBubbleUp:
        raise
    except Exception as exc:  # recorded as a failed handoff, not swallowed
        summary = f"{request.agent} raised {type(exc).__name__}: {exc}"
        return StepOutcome(_failed(request, summary))


def _failed(request: StepRequest, summary: str) -> HandoffEvent:
    return HandoffEvent(
        kind="handoff",
        agent=request.agent,
        assignment=request.assignment,
        skill=request.skill,
        instruction=request.instruction,
        status="failed",
        retryable=True,
        summary=summary,
        facts={},
        reasoning="the step raised an exception",
        confidence=0.0,
        tool_calls=[],
    )


def step_agents(workflow: Workflow, team: Team) -> dict[str, str]:
    """Every node of the workflow's graph that runs an agent, with that agent, as the supervisor compiles it.

    Steps are keyed by their id and compensations by their ``undo__<id>``
    node, the names a run's stream and checkpoints show, so the console and
    ``switchboard agents`` can say who does each without compiling anything.

    Raises:
        ConfigError: A step names an agent the team lacks, or a skill none of its agents has.
    """
    agents = {step.id: _agent_for(workflow, step.id, step, team.names, team) for step in workflow.steps}
    for step in workflow.steps:
        if step.compensate is not None:
            where = f"undo__{step.id}"
            agents[where] = _agent_for(workflow, where, step.compensate, team.names, team)
    return agents


def _agent_for(workflow: Workflow, where: str, action: Action, runners: Collection[str], team: Team | None) -> str:
    """The agent that runs ``action``: the one it names, or the team's first with the skill."""
    label = f"workflow {workflow.source or workflow.name}, step {where!r}"
    if action.agent is not None:
        if action.agent not in runners:
            raise ConfigError(
                f"{label} names agent {action.agent!r}, which has no step runner; runners exist for {sorted(runners)}"
            )
        if team is not None and action.skill is not None:
            card = next((c for c in team.agents if c.name == action.agent), None)
            if card is None or not card.has_skill(action.skill):
                raise ConfigError(
                    f"{label}: agent {action.agent!r} of team {team.name!r} has no skill {action.skill!r}"
                )
        return action.agent
    if team is None:
        raise ConfigError(f"{label} names only skill {action.skill!r}; name an agent, or compile with the team")
    for card in team.offering(action.skill or ""):
        if card.name in runners:
            return card.name
    raise ConfigError(f"{label}: no agent of team {team.name!r} with a step runner has skill {action.skill!r}")
