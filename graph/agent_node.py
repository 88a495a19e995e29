"""The supervisor graph's node for one agent: run its subgraph, record the handoff.

Agents are started with ``Send``, one per step, so several can run in the same
superstep; each branch writes only append-only or merged channels, and the
supervisor, which runs once all branches are in, joins the results.

The step's outcome travels as typed values: the agent's :class:`Findings`
and each tool call's ``outcome``. Nothing reads a result's text to decide.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph._internal._constants import CONFIG_KEY_DURABILITY
from langgraph.errors import GraphBubbleUp
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Durability

from switchboard.agents.card import AgentCard
from switchboard.agents.findings import Findings
from switchboard.agents.guard import tool_server_failed
from switchboard.agents.health import HealthRegistry
from switchboard.agents.idempotency import STEP_METADATA_KEY
from switchboard.agents.prompts import agent_messages
from switchboard.agents.records import EscalationEvent, HandoffEvent, SlotWait, ToolCallRecord
from switchboard.agents.subgraph import AGENT_METADATA_KEY as AGENT_METADATA_KEY  # read from here too
from switchboard.graph.backpressure import Claim, claim_slot, handed_back, slot_wait, step_lease, wait_bound
from switchboard.graph.state import AgentInput, Assignment
from switchboard.graph.usage import messages_usage

log = logging.getLogger(__name__)

AgentNode = Callable[[AgentInput, RunnableConfig], Awaitable[Command[Literal["supervisor"]]]]


def step_status(findings: Findings, calls: list[ToolCallRecord]) -> tuple[Literal["done", "failed", "rejected"], bool]:
    """The handoff status of a step and whether another agent may retry it.

    A technical failure (the agent was ``unable``, or a tool crashed) may be
    retried elsewhere; a business refusal may not. A write whose outcome is
    ``uncertain`` (it timed out) may still have happened, so handing the step
    to another agent could do it twice: such a step goes to a human instead.
    """
    outcomes = {call["outcome"] for call in calls}
    if findings.status in ("done", "rejected"):
        return findings.status, False
    retryable = "uncertain" not in outcomes and (findings.status == "unable" or "crashed" in outcomes)
    return "failed", retryable


def counts_against(status: str, retryable: bool, calls: list[ToolCallRecord]) -> bool:
    """Whether a finished step counts against its agent's health (error rate, circuit breaker).

    The breaker answers "is this agent working?", so only evidence that the
    agent or its tools did not answer counts: a failure another agent may
    retry (the agent was ``unable``, its model failed or timed out, a tool
    ``crashed``), and one whose write is ``uncertain`` (it timed out or was
    cut off: the server did not answer in time, whatever it did). A step
    refused by a business rule, the policy or a human (``failed`` with only
    ``refused`` calls, or ``rejected``) says the work was not allowed, not
    that the agent is down; counting it would open the circuit of an agent
    that works and send its next, allowed, work elsewhere. Brought agents
    are judged by the same rule (:mod:`~switchboard.graph.external_node`).
    A failure the agent's tool server caused is then not charged to a card
    agent after all: see :func:`health_outcome`.
    """
    return status == "failed" and (retryable or any(call["outcome"] == "uncertain" for call in calls))


def health_outcome(status: str, retryable: bool, calls: list[ToolCallRecord]) -> bool | None:
    """What a finished step tells of its agent's health: ``True`` it works, ``False`` it failed, ``None`` neither.

    A failure that :func:`counts_against` the agent is not charged to it
    when every call that failed (``crashed`` or ``uncertain``) failed
    because its tool's MCP server did (:func:`~switchboard.agents.guard.tool_server_failed`:
    the transport went away, or the server hung: no answer in time, nor to
    a ping). That is the server's fault: charging it would open the
    breakers of every agent (a fallback included) that the broken server's
    step is handed to. The step is kept out of the agent's record instead
    (``None``: no outcome), and stays visible as a tool server failure in
    the trail (the call's ``fault``) and in telemetry (the tool's error). A
    server that is only slow (it answers pings) is not marked, so its
    timeouts count as before.
    """
    if not counts_against(status, retryable, calls):
        return True
    failed = [call for call in calls if call["outcome"] in ("crashed", "uncertain")]
    if failed and all(tool_server_failed(call) for call in failed):
        return None
    return False


def agent_node(
    card: AgentCard,
    subgraph: CompiledStateGraph[Any, Any, Any, Any],
    health: HealthRegistry | None = None,
    *,
    sync_turns: bool = False,
    max_wait_s: float = 30.0,
    model_name: str | None = None,
) -> AgentNode:
    """Wrap an agent subgraph as a node of the supervisor graph.

    The subgraph is invoked inside the node, so it shares the thread's
    checkpointer: an interrupt inside it pauses the whole thread, and resuming
    continues the subgraph where it stopped rather than starting it again.
    Several agents' nodes may share one subgraph (``build_crew_graph``): the
    node names its agent in the run's metadata, which is how the subgraph
    picks the card, and names the subgraph's run after it, so the trace and
    the checkpoint namespace (``<agent>:<task>``) are the agent's own.
    While it runs, the agent holds a lease in the health registry, which is
    how routing sees its load; the outcome feeds its error rate and breaker.
    The lease is one of the card's ``max_concurrency`` slots, taken when the
    step starts: a step that finds them all taken (another run got there
    first) waits up to ``max_wait_s`` for one, and if none frees, hands the
    step back unrun, as a failure another agent may retry.

    A run with ``durability="sync"`` waits for each supervisor-level
    checkpoint, but a step's own turns (think, act) are checkpointed in the
    background, as LangGraph's ``"async"`` durability does, unless
    ``sync_turns`` is set. Waiting for every turn's disk write is what made a
    step cost more than its model and tools. A crash can then lose at most
    the step's last turn, which resuming runs again. Its writes cannot happen
    twice: each decision is on disk before its call runs, and each write
    carries its idempotency key.
    """

    step = _AgentStep(card, health, sync_turns, max_wait_s, model_name)

    # Kept tiny on purpose: LangGraph finds a node's subgraph by walking the
    # node function's bytecode when it compiles the graph, once per agent;
    # the work lives in _AgentStep.run, whose bytecode is never walked.
    # The node's reference to ``subgraph`` is also what lets get_state(subgraphs=True)
    # show a paused step's state.
    async def run(state: AgentInput, config: RunnableConfig) -> Command[Literal["supervisor"]]:
        return await step.run(subgraph, state, config)

    run.__name__ = card.name
    return run


@dataclass(frozen=True)
class _AgentStep:
    """One agent's step: a lease while it runs, the subgraph, the handoff record."""

    card: AgentCard
    health: HealthRegistry | None
    sync_turns: bool = False
    max_wait_s: float = 30.0
    model_name: str | None = None
    """What the agent's calls are priced by: its configured model (see ``configured_name``)."""

    async def run(
        self, subgraph: CompiledStateGraph[Any, Any, Any, Any], state: AgentInput, config: RunnableConfig
    ) -> Command[Literal["supervisor"]]:
        """Run the subgraph for one assignment and turn its findings into the handoff."""
        card, health = self.card, self.health
        assignment = state["assignment"]
        lease: str | None = None
        claim: Claim | None = None
        if health:
            bound = wait_bound(config, self.max_wait_s)
            claim = await claim_slot(health, card, bound, step_lease(config, card.name))
            lease = claim.lease
            if lease is None:
                summary = handed_back(card, claim)
                log.warning("%s", summary)
                findings = Findings(status="unable", summary=summary, confidence=0.0)
                return _handoff(card, assignment, findings, [], {}, [], slot_wait(claim))
        # LangGraph keeps the run's durability under this key and exports it nowhere public. If a release
        # renames it, no "sync" is found here and turns are waited for again: slower, never less durable.
        durability: Durability | None = None  # the run's own
        if not self.sync_turns and (config.get("configurable") or {}).get(CONFIG_KEY_DURABILITY) == "sync":
            durability = "async"
        try:
            result = await subgraph.ainvoke(
                {
                    "messages": agent_messages(
                        name=card.name,
                        description=card.description,
                        task=state["task"],
                        instruction=assignment["instruction"],
                        skill=assignment["skill"],
                        context=state.get("context") or {},
                        instructions=card.instructions,
                    ),
                    "history": list(state.get("history") or []),
                    "skill": assignment["skill"],
                    "known": sorted(k for k, v in (state.get("context") or {}).items() if v not in (None, "", [], {})),
                },
                {
                    **config,
                    "run_name": card.name,  # a shared subgraph's run is still named after the agent
                    "metadata": {
                        **(config.get("metadata") or {}),
                        AGENT_METADATA_KEY: card.name,
                        STEP_METADATA_KEY: assignment["id"],  # keys the step's writes (agents/idempotency.py)
                    },
                },
                durability=durability,
            )
        except GraphBubbleUp:
            if health and lease:
                await health.aforget(lease)  # a step paused for a human holds no capacity
            raise
        except asyncio.CancelledError:
            if health and lease:
                await health.aforget(lease)  # not a failure; a re-run of the step takes its slot back
            raise
        except BaseException:
            if health and lease:
                await health.arelease(lease, ok=False)  # never leak a slot, whatever happened
            raise
        missing = Findings(status="unable", summary="the agent returned no findings", confidence=0.0)
        findings = Findings.model_validate(result["findings"]) if result.get("findings") else missing
        calls = list(result.get("calls") or [])
        status, retryable = step_status(findings, calls)
        level = logging.WARNING if status == "failed" else logging.DEBUG
        log.log(level, "%s %s step %s: %s", card.name, status, assignment["skill"] or "-", findings.summary)
        if health and lease:
            ok = health_outcome(status, retryable, calls)
            if ok is None:
                log.info("%s's step %s is not counted against it: its tool server failed", card.name, assignment["id"])
            await health.arelease(lease, ok=ok)
        usage = dict(messages_usage(result.get("messages") or [], model=self.model_name))
        escalations = list(result.get("escalations") or [])
        return _handoff(card, assignment, findings, calls, usage, escalations, slot_wait(claim))


def _handoff(
    card: AgentCard,
    assignment: Assignment,
    findings: Findings,
    calls: list[ToolCallRecord],
    usage: dict[str, Any],
    escalations: list[EscalationEvent],
    wait: SlotWait | None = None,
) -> Command[Literal["supervisor"]]:
    """The step's handoff record, back to the supervisor with the facts a finished step established."""
    status, retryable = step_status(findings, calls)
    handoff = HandoffEvent(
        kind="handoff",
        agent=card.name,
        assignment=assignment["id"],
        skill=assignment["skill"],
        instruction=assignment["instruction"],
        status=status,
        retryable=retryable,
        summary=findings.summary,
        facts=dict(findings.facts),
        reasoning=findings.reasoning,
        confidence=findings.confidence,
        tool_calls=calls,
        usage=usage,
    )
    if wait:
        handoff["slot_wait"] = wait
    return Command(
        goto="supervisor",
        update={"trail": [*escalations, handoff], "context": handoff["facts"] if status == "done" else {}},
    )
