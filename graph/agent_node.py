"""The supervisor graph's node for one agent: run its subgraph, record the handoff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from agents.card import AgentCard
from agents.prompts import agent_messages
from agents.records import HandoffEvent
from graph.state import SupervisorState, next_step

AgentNode = Callable[[SupervisorState, RunnableConfig], Awaitable[Command[Literal["supervisor", "finalize"]]]]


def agent_node(card: AgentCard, subgraph: CompiledStateGraph[Any, Any, Any, Any]) -> AgentNode:
    """Wrap an agent subgraph as a node of the supervisor graph.

    The subgraph is invoked inside the node, so it shares the thread's
    checkpointer: an interrupt inside it pauses the whole thread, and resuming
    continues the subgraph where it stopped rather than starting it again.
    """

    async def run(state: SupervisorState, config: RunnableConfig) -> Command[Literal["supervisor", "finalize"]]:
        active = state.get("active") or {"agent": card.name, "skill": None, "instruction": state["task"]}
        result = await subgraph.ainvoke(
            {
                "messages": agent_messages(
                    name=card.name,
                    description=card.description,
                    task=state["task"],
                    instruction=active["instruction"],
                    skill=active["skill"],
                    context=state.get("context") or {},
                ),
                "approvals": list(state.get("approvals") or []),
            },
            config,
        )
        findings = result.get("findings") or {"status": "failed", "summary": "no findings"}
        step = next_step(state)
        events: list[Any] = []
        for escalation in result.get("escalations") or []:
            events.append({**escalation, "step": step})
            step += 1
        handoff = HandoffEvent(
            kind="handoff",
            step=step,
            agent=card.name,
            skill=active["skill"],
            instruction=active["instruction"],
            status=findings["status"],
            summary=findings.get("summary", ""),
            facts=dict(findings.get("facts") or {}),
            reasoning=findings.get("reasoning", ""),
            confidence=float(findings.get("confidence", 0.0)),
            tool_calls=list(result.get("calls") or []),
        )
        known = set(state.get("approvals") or [])
        update: dict[str, Any] = {
            "trail": [*events, handoff],
            "context": handoff["facts"] if handoff["status"] == "done" else {},
            "approvals": [key for key in result.get("approvals") or [] if key not in known],
            "active": None,
        }
        if handoff["status"] == "rejected":
            return Command(goto="finalize", update={**update, "outcome": "rejected"})
        return Command(goto="supervisor", update=update)

    run.__name__ = card.name
    return run
