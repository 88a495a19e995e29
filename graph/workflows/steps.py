"""How a workflow step reaches an agent: the step-runner interface.

A workflow does not know how agents work. Each step calls a
:class:`StepRunner` with a :class:`StepRequest` and gets a
:class:`StepOutcome` back, whose heart is the same ``HandoffEvent`` an agent
hands the supervisor. :func:`from_agent_node` turns the supervisor's own
agent nodes (``graph.agent_node.agent_node``) into runners, so a workflow
step runs exactly the subgraph, lease and guard an LLM-routed step runs.
Tests plug in scripted runners through the same interface.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.runnables import RunnableConfig

from switchboard.agents.records import EscalationEvent, HandoffEvent, ToolCallRecord
from switchboard.errors import ConfigError
from switchboard.graph.agent_node import AgentNode
from switchboard.graph.backpressure import QUEUE_KEY
from switchboard.graph.state import AgentInput, Assignment


@dataclass(frozen=True, kw_only=True)
class StepRequest:
    """What a step asks of its agent."""

    workflow: str
    """The workflow's name."""
    step: str
    """The step's id (or ``<id>.undo`` for a compensation)."""
    agent: str
    """The agent resolved for the step."""
    skill: str | None
    """The skill asked for, if the step names one."""
    instruction: str
    """What the agent is told to do."""
    task: str
    """The task the workflow serves, as the user wrote it."""
    context: Mapping[str, Any] = field(default_factory=dict)
    """Facts handed over by every step finished so far."""
    history: tuple[ToolCallRecord, ...] = ()
    """The thread's tool calls so far, the earlier steps' included: the
    policy learns its facts (customer, owners) from them."""
    run: str | None = None
    """Which run of the workflow the step belongs to (the supervisor's
    assignment id of the workflow's step); ``None`` for a standalone run."""

    @property
    def assignment(self) -> str:
        """The step's id in the trail: ``<run>.<step>``, the workflow's name standing in for a standalone run.

        The guard keys the step's writes on it (``agents/idempotency.py``),
        so it must differ between two runs of the workflow in one thread (or
        the second run's writes are replayed from the first's) and stay the
        same within a run (so a step re-run after a crash is replayed, not
        done twice). The run id gives both: it is new for each routing
        decision and checkpointed with it.
        """
        return f"{self.run or self.workflow}.{self.step}"


@dataclass(frozen=True)
class StepOutcome:
    """What came back from a step."""

    handoff: HandoffEvent
    """The agent's findings: status, summary, facts, tool calls."""
    escalations: tuple[EscalationEvent, ...] = ()
    """Questions put to humans during the step, with their answers."""


class StepRunner(Protocol):
    """Runs one step with an agent.

    A runner may raise: the workflow records the exception as the step's
    failure (and compensates), except LangGraph's interrupts, which pause
    the thread as usual.
    """

    async def __call__(self, request: StepRequest, config: RunnableConfig) -> StepOutcome: ...


def from_agent_node(node: AgentNode) -> StepRunner:
    """Adapt a supervisor agent node into a step runner.

    The node is called with the same ``AgentInput`` the supervisor's ``Send``
    would give it and the step's config, so its subgraph checkpoints under the
    workflow step and an approval inside it pauses the thread. The ``Command``
    it returns to the supervisor is read for the handoff and the escalations;
    its ``goto`` is ignored, because inside a workflow the graph's edges
    decide what runs next.
    """

    async def run(request: StepRequest, config: RunnableConfig) -> StepOutcome:
        payload = AgentInput(
            task=request.task,
            context=dict(request.context),
            history=list(request.history),
            assignment=Assignment(
                id=request.assignment,
                agent=request.agent,
                skill=request.skill,
                instruction=request.instruction,
                tried=[],
            ),
        )
        # A step has nowhere else to go: it queues for its agent's slot rather than fail and compensate.
        queued: RunnableConfig = {**config, "configurable": {**(config.get("configurable") or {}), QUEUE_KEY: True}}
        command = await node(payload, queued)
        update: dict[str, Any] = dict(command.update or {}) if isinstance(command.update, Mapping) else {}
        trail = list(update.get("trail") or [])
        handoffs: list[HandoffEvent] = [e for e in trail if e.get("kind") == "handoff"]
        if not handoffs:
            raise ConfigError(
                f"the agent node for {request.agent} returned no handoff; wrap agents with "
                "switchboard.graph.agent_node.agent_node, which records one per step"
            )
        escalations = tuple(e for e in trail if e.get("kind") == "escalation")
        return StepOutcome(handoffs[-1], escalations)

    return run
