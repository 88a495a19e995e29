"""The supervisor graph's node for an agent you brought: run it, record its handoff.

A brought agent (see :mod:`switchboard.agents.external`) speaks messages, not
findings: it gets the step's instruction and the shared facts as one human
message, and its last AI message is its answer. The node turns that into the
same ``HandoffEvent`` a card agent leaves, so the supervisor, reassignment and
``switchboard show`` treat both alike.

The graph is invoked inside the node with the node's config, so it runs as a
subgraph of the thread: an ``interrupt()`` inside it pauses the whole thread,
and resuming continues it where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.types import Command
from pydantic import BaseModel

from switchboard.agents.card import AgentCard
from switchboard.agents.external import Agent
from switchboard.agents.health import HealthRegistry
from switchboard.agents.records import HandoffEvent, SlotWait, ToolCallRecord
from switchboard.graph.agent_node import AGENT_METADATA_KEY, AgentNode
from switchboard.graph.backpressure import Claim, claim_slot, handed_back, slot_wait, step_lease, wait_bound
from switchboard.graph.state import AgentInput, Assignment

log = logging.getLogger(__name__)

Status = Literal["done", "failed"]


def external_node(agent: Agent, health: HealthRegistry | None = None, *, max_wait_s: float = 30.0) -> AgentNode:
    """Wrap a brought agent as a node of the supervisor graph.

    Its step takes one of the card's slots first, as a card agent's does
    (waiting up to ``max_wait_s``; see :func:`~switchboard.graph.backpressure.claim_slot`).

    Outcomes: a final AI message is a finished step (``done``); an exception,
    or no answer at all, is a failure another agent may retry; running past
    the card's ``timeout_s`` is a failure for a human, because the agent may
    have acted before it was stopped and Switchboard cannot see its tools.
    """
    card, runnable = agent.card, agent.runnable

    async def run(state: AgentInput, config: RunnableConfig) -> Command[Literal["supervisor"]]:
        assignment = state["assignment"]
        opening = _opening(assignment["id"], assignment["instruction"], state.get("context") or {})
        lease: str | None = None
        claim: Claim | None = None
        if health:
            bound = wait_bound(config, max_wait_s)
            claim = await claim_slot(health, card, bound, step_lease(config, card.name))
            lease = claim.lease
            if lease is None:
                summary = handed_back(card, claim)
                log.warning("%s", summary)
                return _handoff(card, assignment, "failed", True, summary, {}, [], slot_wait(claim))
        status: Status = "failed"
        retryable = True
        calls: list[ToolCallRecord] = []
        facts: dict[str, Any] = {}
        try:
            metadata = {**(config.get("metadata") or {}), AGENT_METADATA_KEY: card.name}
            tagged: RunnableConfig = {**config, "metadata": metadata}
            result = await asyncio.wait_for(runnable.ainvoke({"messages": [opening]}, tagged), card.timeout_s)
        except GraphBubbleUp:
            if health and lease:
                await health.aforget(lease)  # a step paused for a human holds no capacity
            raise
        except TimeoutError:
            retryable = False
            summary = (
                f"{card.name} did not finish within {card.timeout_s:g}s and was stopped; it may have acted "
                "already, so a human should check before anyone tries again."
            )
            log.warning("%s", summary)
        except Exception as exc:  # recorded as a retryable failure, never swallowed
            summary = f"{card.name} raised {type(exc).__name__}: {exc}"
            log.warning("brought agent %s failed; the step goes back to the supervisor", card.name, exc_info=exc)
        except asyncio.CancelledError:
            if health and lease:
                await health.aforget(lease)  # not a failure; a re-run of the step takes its slot back
            raise
        else:
            messages = _since(_messages(result), opening.id)
            calls = _observed_calls(messages)
            answer = next((m for m in reversed(messages) if isinstance(m, AIMessage) and not m.tool_calls), None)
            if answer is not None and answer.text.strip():
                status, summary, facts = "done", answer.text.strip(), _structured(result)
            else:
                summary = f"{card.name} finished without an answer (no final AI message)."
        if health and lease:
            await health.arelease(lease, ok=status == "done")
        return _handoff(card, assignment, status, retryable, summary, facts, calls, slot_wait(claim))

    run.__name__ = card.name
    return run


def _handoff(
    card: AgentCard,
    assignment: Assignment,
    status: Status,
    retryable: bool,
    summary: str,
    facts: dict[str, Any],
    calls: list[ToolCallRecord],
    wait: SlotWait | None = None,
) -> Command[Literal["supervisor"]]:
    handoff = HandoffEvent(
        kind="handoff",
        agent=card.name,
        assignment=assignment["id"],
        skill=assignment["skill"],
        instruction=assignment["instruction"],
        status=status,
        retryable=status == "failed" and retryable,
        summary=summary,
        facts=facts,
        reasoning="" if status == "done" else "the agent's run failed",
        confidence=0.8 if status == "done" else 0.0,
        tool_calls=calls,
    )
    if wait:
        handoff["slot_wait"] = wait
    return Command(goto="supervisor", update={"trail": [handoff], "context": facts})


def _opening(step: str, instruction: str, context: Mapping[str, Any]) -> HumanMessage:
    """The one message a brought agent gets: its instruction, then the facts so far.

    Its id marks where the agent's own messages start in what it returns.
    """
    text = instruction
    if context:
        text += "\n\nFacts from earlier steps:\n" + json.dumps(dict(context), indent=1, default=str)
    return HumanMessage(text, id=f"switchboard-step-{step}")


def _messages(result: Any) -> list[BaseMessage]:
    if isinstance(result, BaseMessage):
        return [result]
    if isinstance(result, str):
        return [AIMessage(result)]
    if isinstance(result, Mapping):
        return [m for m in result.get("messages") or [] if isinstance(m, BaseMessage)]
    return []


def _since(messages: Sequence[BaseMessage], opening_id: str | None) -> list[BaseMessage]:
    for index, message in enumerate(messages):
        if message.id == opening_id:
            return list(messages[index + 1 :])
    return list(messages)


def _observed_calls(messages: Sequence[BaseMessage]) -> list[ToolCallRecord]:
    """The tool calls the agent reported making, for the trail.

    They are observed, not governed: Switchboard did not decide them, so
    they carry no policy.
    """
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    records: list[ToolCallRecord] = []
    for message in messages:
        for call in message.tool_calls if isinstance(message, AIMessage) else []:
            answered = results.get(call["id"] or "")
            records.append(
                ToolCallRecord(
                    tool=call["name"],
                    args=dict(call["args"]),
                    # Observed, not governed: an error the agent's own tool
                    # reported cannot be told apart from a refusal, and is
                    # never read as a reason to retry elsewhere.
                    outcome="ok" if answered is not None and answered.status != "error" else "refused",
                    result=answered.text if answered is not None else "(no result seen)",
                    policy=None,
                )
            )
    return records


def _structured(result: Any) -> dict[str, Any]:
    """Facts for the next agents: the agent's structured response, when it gives one."""
    value = result.get("structured_response") if isinstance(result, Mapping) else None
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return dict(value) if isinstance(value, Mapping) else {}
