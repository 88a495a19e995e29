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
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.types import Command
from pydantic import BaseModel

from switchboard.agents.card import AgentCard
from switchboard.agents.external import Agent
from switchboard.agents.findings import FACTS_MAX_CHARS, clipped
from switchboard.agents.health import HealthRegistry
from switchboard.agents.records import HandoffEvent, SlotWait, ToolCallRecord
from switchboard.graph.agent_node import AGENT_METADATA_KEY, AgentNode, counts_against
from switchboard.graph.backpressure import Claim, claim_slot, handed_back, slot_wait, step_lease, wait_bound
from switchboard.graph.state import AgentInput, Assignment

log = logging.getLogger(__name__)

Status = Literal["done", "failed"]

_SENT_NOTHING = frozenset(
    {
        "ConnectError",  # httpx, httpcore: no connection, so no request
        "ConnectTimeout",  # httpx, httpcore, requests
        "PoolTimeout",  # httpx, httpcore: no free connection to send it on
        "UnsupportedProtocol",  # httpx, httpcore: refused before connecting
        "ProxyError",  # httpx, requests: the proxy's tunnel was not set up
        "ConnectionRefusedError",  # the standard library's
        "ClientConnectorError",  # aiohttp
        "ConnectionTimeoutError",  # aiohttp: its connect timeout
        "NewConnectionError",  # urllib3
        "ConnectTimeoutError",  # urllib3
    }
)
"""Exception classes (by name, in any module) raised before a byte of the request left: safe to hand on."""

_UNANSWERED = frozenset(
    {
        "TimeoutException",  # httpx, httpcore: a read or write timeout (connect and pool ones are above)
        "NetworkError",  # httpx, httpcore: a read or write error, a connection dropped mid-call
        "ProtocolError",  # httpx, httpcore, urllib3: the server hung up or answered garbage mid-reply
        "ConnectionError",  # the standard library's (reset, aborted, broken pipe); requests' is a wrapper
        "Timeout",  # requests
        "ReadTimeoutError",  # urllib3
        "ChunkedEncodingError",  # requests
        "IncompleteRead",  # http.client
        "ServerDisconnectedError",  # aiohttp
        "ClientPayloadError",  # aiohttp
        "ClientOSError",  # aiohttp
        "ConnectionClosed",  # websockets
        "BrokenResourceError",  # anyio: the peer went away mid-stream
        "EndOfStream",  # anyio
    }
)
"""Exception classes (by name) raised once the request may have reached the agent: it may have acted."""


@dataclass(frozen=True)
class _Outcome:
    """How a brought agent's step ended, before it is written as a handoff."""

    status: Status
    retryable: bool
    summary: str
    facts: dict[str, Any] = field(default_factory=dict)
    calls: list[ToolCallRecord] = field(default_factory=list)


def external_node(agent: Agent, health: HealthRegistry | None = None, *, max_wait_s: float = 30.0) -> AgentNode:
    """Wrap a brought agent as a node of the supervisor graph.

    Its step takes one of the card's slots first, as a card agent's does
    (waiting up to ``max_wait_s``; see :func:`~switchboard.graph.backpressure.claim_slot`).

    Outcomes: a final AI message is a finished step (``done``); an
    exception that proves the agent was never reached, a clean error
    answer, or no answer at all is a failure another agent may retry. Running
    past the card's ``timeout_s``, or an error raised once the request may
    have reached the agent (its client's own read timeout, a connection
    dropped mid-call: see :func:`may_have_acted`), is ``uncertain``: the agent
    may have acted, and Switchboard cannot see its tools, so the step goes to
    a human. Every failure counts against the agent's health
    (:func:`~switchboard.graph.agent_node.counts_against`): a brought agent
    has no policy refusals, so each one is the agent not answering.
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
                return _handoff(card, assignment, _Outcome("failed", True, summary), slot_wait(claim))
        try:
            outcome = await _invoke(card, runnable, opening, config)
        except (GraphBubbleUp, asyncio.CancelledError):
            if health and lease:
                await health.aforget(lease)  # paused for a human, or cancelled: not a failure, and holds no slot
            raise
        if health and lease:
            await health.arelease(lease, ok=not counts_against(outcome.status, outcome.retryable, outcome.calls))
        return _handoff(card, assignment, outcome, slot_wait(claim))

    run.__name__ = card.name
    return run


async def _invoke(
    card: AgentCard, runnable: Runnable[Any, Any], opening: HumanMessage, config: RunnableConfig
) -> _Outcome:
    """Run the agent within its card's ``timeout_s`` and say how it ended.

    The limit is an ``asyncio.timeout`` rather than ``wait_for`` so that a
    ``TimeoutError`` the agent raises itself (its own client's deadline) is
    told apart from Switchboard stopping it; both are uncertain, but the
    human is told which.
    """
    limit = asyncio.timeout(card.timeout_s)
    metadata = {**(config.get("metadata") or {}), AGENT_METADATA_KEY: card.name}
    tagged: RunnableConfig = {**config, "metadata": metadata}
    try:
        async with limit:
            result = await runnable.ainvoke({"messages": [opening]}, tagged)
    except GraphBubbleUp:
        raise
    except Exception as exc:  # recorded as a failure, never swallowed
        return _failed(card, exc, overran=limit.expired())
    return _answered(card, result, opening)


def _answered(card: AgentCard, result: Any, opening: HumanMessage) -> _Outcome:
    messages = _since(_messages(result), opening.id)
    calls = _observed_calls(messages)
    answer = next((m for m in reversed(messages) if isinstance(m, AIMessage) and not m.tool_calls), None)
    if answer is not None and answer.text.strip():
        return _Outcome("done", False, answer.text.strip(), _structured(result), calls)
    return _Outcome("failed", True, f"{card.name} finished without an answer (no final AI message).", calls=calls)


def _failed(card: AgentCard, exc: Exception, *, overran: bool) -> _Outcome:
    """A failed run: uncertain if the agent may have acted, else for another agent to retry."""
    if overran:
        summary = (
            f"{card.name} did not finish within {card.timeout_s:g}s and was stopped; it may have acted "
            "already, so a human should check before anyone tries again."
        )
        log.warning("%s", summary)
        return _uncertain(card, summary, f"stopped after {card.timeout_s:g}s without an answer")
    cause = may_have_acted(exc)
    if cause is not None:
        raised = _described(exc) if cause is exc else f"{_described(exc)} (from {_described(cause)})"
        summary = (
            f"{card.name} raised {raised} after its request may have reached it; it may have acted, "
            "so a human should check before anyone tries again."
        )
        log.warning("%s", summary, exc_info=exc)
        return _uncertain(card, summary, _described(cause))
    log.warning("brought agent %s failed; the step goes back to the supervisor", card.name, exc_info=exc)
    return _Outcome("failed", True, f"{card.name} raised {_described(exc)}")


def _described(exc: BaseException) -> str:
    """An exception as the trail shows it: its class, and its message when it has one (httpx's often do not)."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _uncertain(card: AgentCard, summary: str, why: str) -> _Outcome:
    """A failure after the agent may have acted, with its run recorded as one ``uncertain`` call.

    Switchboard sees no tool call of a brought agent before it reports it,
    and one stopped mid-run reports none, so the run itself is the action
    whose effect is unknown. Recording it as a call is what every reader of
    the trail already understands: the supervisor asks a human about a
    failed step with an uncertain call, ``show`` prints it as "outcome
    unknown", and the budgets count it as the one call it was.
    """
    run = ToolCallRecord(
        tool=card.name, args={}, outcome="uncertain", result=f"{why}; whether it acted is unknown", policy=None
    )
    return _Outcome("failed", False, summary, calls=[run])


def may_have_acted(exc: BaseException) -> BaseException | None:
    """The exception, in ``exc``'s chain, that shows the request may have reached the agent, if any.

    A brought agent's client (httpx for most: LangChain's, the A2A and MCP
    SDKs') raises after it sent the request when the reply is late or the
    connection drops mid-reply, and the agent may then have done the work:
    handing the step to another agent would do it twice. An error that
    proves nothing was sent (no connection) is safe to hand on, as is any
    other: the agent's own exception, or a clean error answer (an HTTP 500
    read in full, which ``raise_for_status`` turns into one). Classes are
    matched by name (:data:`_SENT_NOTHING`, :data:`_UNANSWERED`), most derived
    first, so no client library is imported here. An exception neither names
    (the agent's own ``RuntimeError``, an exception group) is looked through,
    to its cause, context or members: an agent that wraps a read timeout in
    its own error still may have acted. One that proves nothing was sent is
    not: its cause explains why (httpx's ``ConnectTimeout`` is raised from a
    plain ``TimeoutError``), it is not a second attempt.
    """
    pending: deque[BaseException] = deque([exc])
    seen: set[int] = set()
    while pending and len(seen) < 64:
        current = pending.popleft()
        if id(current) in seen:
            continue
        seen.add(id(current))
        verdict = _unanswered(current)
        if verdict:
            return current
        if verdict is None:
            pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
            if isinstance(current, BaseExceptionGroup):
                pending.extend(current.exceptions)
    return None


_WRAPPERS = frozenset({("requests.exceptions", "ConnectionError"), ("urllib3.exceptions", "MaxRetryError")})
"""Classes that wrap either kind (requests' ``ConnectionError`` is raised for a refused connection and for one
reset mid-reply alike): what they wrap, in their chain, says which."""


def _unanswered(exc: BaseException) -> bool | None:
    """``True``: raised once the request may have arrived; ``False``: before it left; ``None``: it does not say."""
    if any((cls.__module__, cls.__name__) in _WRAPPERS for cls in type(exc).__mro__):
        return None
    for cls in type(exc).__mro__:
        if cls.__name__ in _SENT_NOTHING:
            return False
        if cls is TimeoutError or cls.__name__ in _UNANSWERED:
            return True
    return None


def _handoff(
    card: AgentCard, assignment: Assignment, outcome: _Outcome, wait: SlotWait | None = None
) -> Command[Literal["supervisor"]]:
    done = outcome.status == "done"
    handoff = HandoffEvent(
        kind="handoff",
        agent=card.name,
        assignment=assignment["id"],
        skill=assignment["skill"],
        instruction=assignment["instruction"],
        status=outcome.status,
        retryable=not done and outcome.retryable,
        summary=clipped(outcome.summary),  # a brought agent's answer is bounded like any handoff
        facts=outcome.facts,
        reasoning="" if done else "the agent's run failed",
        confidence=0.8 if done else 0.0,
        tool_calls=outcome.calls,
    )
    if wait:
        handoff["slot_wait"] = wait
    return Command(goto="supervisor", update={"trail": [handoff], "context": outcome.facts})


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

    They are observed, not governed: Switchboard neither decided nor ran
    them, so they carry no policy and are marked ``observed``. Their results
    are what the agent claims: people and models read them in the trail and
    the history, but the guard learns no fact from them (see
    :func:`~switchboard.agents.facts.thread_facts`).
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
                    observed=True,
                )
            )
    return records


def _structured(result: Any) -> dict[str, Any]:
    """Facts for the next agents: the agent's structured response, when it gives one."""
    value = result.get("structured_response") if isinstance(result, Mapping) else None
    if isinstance(value, BaseModel):
        facts = value.model_dump(mode="json")
    else:
        facts = dict(value) if isinstance(value, Mapping) else {}
    if len(json.dumps(facts, default=str, separators=(",", ":"))) > FACTS_MAX_CHARS:
        # Sent with every later routing prompt: past the bound they would crowd out the thread (see findings).
        log.warning("a brought agent's structured response is over %d characters as JSON; not passed on as facts",
                    FACTS_MAX_CHARS)  # fmt: skip
        return {}
    return facts
