"""The supervisor graph's node for one agent: run its subgraph, record the handoff.

Agents are started with ``Send``, one per step, so several can run in the same
superstep; each branch writes only append-only or merged channels, and the
supervisor, which runs once all branches are in, joins the results.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from switchboard.agents.card import AgentCard
from switchboard.agents.guard import CRASHED, UNCERTAIN
from switchboard.agents.health import HealthRegistry
from switchboard.agents.prompts import agent_messages
from switchboard.agents.records import HandoffEvent
from switchboard.graph.state import AgentInput

AgentNode = Callable[[AgentInput, RunnableConfig], Awaitable[Command[Literal["supervisor"]]]]


def agent_node(
    card: AgentCard, subgraph: CompiledStateGraph[Any, Any, Any, Any], health: HealthRegistry | None = None
) -> AgentNode:
    """Wrap an agent subgraph as a node of the supervisor graph.

    The subgraph is invoked inside the node, so it shares the thread's
    checkpointer: an interrupt inside it pauses the whole thread, and resuming
    continues the subgraph where it stopped rather than starting it again.
    While it runs, the agent holds a lease in the health registry, which is
    how routing sees its load; the outcome feeds its error rate and breaker.
    """

    async def run(state: AgentInput, config: RunnableConfig) -> Command[Literal["supervisor"]]:
        assignment = state["assignment"]
        lease = await health.aacquire(card.name) if health else None
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
                    "approvals": list(state.get("approvals") or []),
                },
                config,
            )
        except GraphBubbleUp:
            if health and lease:
                await health.aforget(lease)  # a step paused for a human holds no capacity
            raise
        except BaseException:
            if health and lease:
                await health.arelease(lease, ok=False)  # never leak a slot, whatever happened
            raise
        findings = result.get("findings") or {"status": "unable", "summary": "the agent returned no findings"}
        calls = list(result.get("calls") or [])
        # A write that timed out may still have happened: handing the step to
        # another agent could do it twice, so such a step goes to a human.
        uncertain = any(c["result"].startswith(UNCERTAIN) for c in calls)
        retryable = not uncertain and (
            findings["status"] == "unable" or any(c["result"].startswith(CRASHED) for c in calls)
        )
        status: Literal["done", "failed", "rejected"] = (
            "done" if findings["status"] == "done" else "rejected" if findings["status"] == "rejected" else "failed"
        )
        if health and lease:
            await health.arelease(lease, ok=status != "failed" or not retryable)
        handoff = HandoffEvent(
            kind="handoff",
            agent=card.name,
            assignment=assignment["id"],
            skill=assignment["skill"],
            instruction=assignment["instruction"],
            status=status,
            retryable=status == "failed" and retryable,
            summary=findings.get("summary", ""),
            facts=dict(findings.get("facts") or {}),
            reasoning=findings.get("reasoning", ""),
            confidence=float(findings.get("confidence", 0.0)),
            tool_calls=calls,
        )
        known = set(state.get("approvals") or [])
        return Command(
            goto="supervisor",
            update={
                "trail": [*(result.get("escalations") or []), handoff],
                "context": handoff["facts"] if status == "done" else {},
                "approvals": [key for key in result.get("approvals") or [] if key not in known],
            },
        )

    run.__name__ = card.name
    return run
