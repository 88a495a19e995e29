"""An agent as a LangGraph subgraph: think, act through the guard, hand off.

The subgraph is deliberately small: a model node (``think``) and the guarded
tool node (``act``) in a loop, ending when the model calls ``handoff``; a
call of ``ask_customer`` goes to the ``ask`` node, which pauses for the
customer's reply (see :mod:`~switchboard.agents.questions`). Its
messages stay inside it; what leaves is the structured findings, the tool
calls and any escalations, which the supervisor graph records in its trail.

One compiled subgraph serves many agents (:func:`build_crew_graph`): the
nodes are the same for every card, so only the card, its model and its tools
differ, and those are chosen per step from the run's metadata
(:data:`AGENT_METADATA_KEY`, set by the agent node that runs the step).
Compiling one subgraph per card made a 500-agent team take seconds to build.
"""

from __future__ import annotations

import asyncio
import operator
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    HumanMessage,
    InvalidToolCall,
    ToolCall,
    ToolMessage,
)
from langchain_core.runnables import RunnableBinding, RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import ValidationError
from typing_extensions import TypedDict

from switchboard.agents.call_ids import distinct_call_ids
from switchboard.agents.card import AgentCard
from switchboard.agents.findings import HANDOFF_TOOL, Findings, HandoffArgs
from switchboard.agents.guard import content_text, run_guarded
from switchboard.agents.interrupts import Governance
from switchboard.agents.prompts import handoff_schema
from switchboard.agents.questions import ASK_TOOL, ask_customer_tool_schema, put_questions
from switchboard.agents.records import EscalationEvent, ToolCallRecord
from switchboard.agents.toolbox import Toolbox
from switchboard.errors import ConfigError
from switchboard.models import cut_off, model_slot, request_timeout

AGENT_METADATA_KEY = "switchboard_agent"
"""Run-config metadata naming the agent a step (and every model call in it)
works for. The shared subgraph picks the step's card by it; tools, tracers
and the scripted test model read the agent's identity here, never from a
prompt's wording or a node's name."""


class AgentState(TypedDict, total=False):
    """State of one agent step."""

    messages: Annotated[list[AnyMessage], add_messages]
    calls: Annotated[list[ToolCallRecord], operator.add]
    escalations: Annotated[list[EscalationEvent], operator.add]
    history: list[ToolCallRecord]
    """The thread's tool calls before this step: their results are facts the policy uses."""
    skill: str | None
    """The step's skill: its tools are the ones bound to the model (see ``Skill.tools``)."""
    known: list[str]
    """The facts the step's context holds: the skill's lookups for them are not bound (see ``Skill.lookups``)."""
    findings: dict[str, Any] | None
    """The step's :class:`Findings`, dumped (state holds plain data)."""
    turns: int
    nudged: bool
    """Whether the model was already told once to act through its tools."""


@dataclass(frozen=True)
class Member:
    """One agent a shared subgraph runs: its card, its model and where its tools come from."""

    card: AgentCard
    """The card; its tool allow-list is enforced by the guard."""
    model: BaseChatModel
    """The chat model its steps call."""
    toolbox: Toolbox
    """Where its tools come from, looked up at call time."""


@dataclass(frozen=True)
class AgentLoop:
    """The nodes of an agent subgraph, shared by the agents in ``crew``."""

    crew: Mapping[str, Member]
    gov: Governance
    max_turns: int = 12
    asks_customer: bool = True
    """Whether the agents are offered ``ask_customer``."""
    _binding: dict[tuple[int, ...], Any] = field(default_factory=dict, repr=False, compare=False)

    def member(self, config: RunnableConfig) -> Member:
        """The agent this step runs as: the one the run's metadata names.

        A subgraph of one agent needs no name (it is run alone, too). The
        name is read on every node run, resumes included, and the agent
        node sets it on each, so a step never changes agent mid-way.

        Raises:
            ConfigError: A shared subgraph was run without naming one of its agents.
        """
        name = (config.get("metadata") or {}).get(AGENT_METADATA_KEY)
        found = self.crew.get(name) if isinstance(name, str) else None
        if found is not None:
            return found
        if len(self.crew) == 1:
            return next(iter(self.crew.values()))
        raise ConfigError(
            f"the shared agent subgraph was run for {name!r}, not one of its agents; run it from the agent "
            f"node build_graph makes, or set metadata[{AGENT_METADATA_KEY!r}] to one of {sorted(self.crew)[:5]}"
        )

    async def think(
        self, state: AgentState, config: RunnableConfig
    ) -> Command[Literal["act", "ask", "think", "__end__"]]:
        """Ask the model for the next move: tool calls, or the handoff.

        A call whose arguments were not valid JSON (LangChain keeps it in
        ``invalid_tool_calls``) is a move too, not an answer in text: it is
        answered with the parse error (here when it is the reply's only
        kind of call, else by the node that answers the others) and the
        model calls again. Unanswered, it would stay in the history without
        a tool result, and the provider refuses the next request for that.
        """
        agent = self.member(config)
        turns = state.get("turns", 0)
        if turns >= self.max_turns:
            summary = f"{agent.card.name} gave up after {turns} model calls."
            return _finish(Findings(status="failed", summary=summary, confidence=0.0))
        known = state.get("known") or ()
        found = _found(agent.card, state.get("skill"), state["messages"])
        reply = await self._ask(agent, state["messages"], config, state.get("skill"), known, found)
        if isinstance(reply, Findings):
            return _finish(reply)
        reply = distinct_call_ids(reply, state["messages"])  # the governance keys on them, and each is answered
        update: dict[str, Any] = {"messages": [reply], "turns": turns + 1}
        calls = reply.tool_calls
        if not calls and reply.invalid_tool_calls:  # nothing to run: the malformed calls are answered here
            answers, records = _malformed(reply)
            return Command(goto="think", update={**update, "messages": [reply, *answers], "calls": records})
        if not calls:
            # An answer in text is not an act: tool calls written as text, or
            # an empty reply, must never count as a finished step. One nudge,
            # then the step fails so the supervisor reassigns or escalates it.
            text = content_text(reply.content).strip() or "(an empty answer)"
            if cut_off(reply):
                text = f"(cut off at the token cap) {text}"
            if state.get("nudged"):
                summary = f"{agent.card.name} answered without acting (no tool call, no handoff): {text[:300]}"
                reasoning = "the model never called a tool or the handoff tool"
                return _finish(Findings(status="unable", summary=summary, reasoning=reasoning, confidence=0.0), update)
            nudge = HumanMessage(_CUT_NUDGE if cut_off(reply) else _NUDGE)
            return Command(goto="think", update={**update, "messages": [reply, nudge], "nudged": True})
        if len(calls) == 1 and calls[0]["name"] == HANDOFF_TOOL and not reply.invalid_tool_calls:
            try:
                return _finish(HandoffArgs.model_validate(calls[0]["args"]), update)
            except ValidationError as exc:
                error = _tool_error(calls[0], f"Invalid handoff, call it again with valid fields: {exc}")
                return Command(goto="think", update={**update, "messages": [reply, error]})
        if any(c["name"] == ASK_TOOL for c in calls) and self._may_ask(agent, state.get("skill"), known, found):
            return Command(goto="ask", update=update)  # else the guard refuses it as a tool the step was not given
        return Command(goto="act", update=update)

    async def _ask(
        self,
        agent: Member,
        messages: list[AnyMessage],
        config: RunnableConfig,
        skill: str | None = None,
        known: Sequence[str] = (),
        found: Collection[str] = (),
    ) -> AIMessage | Findings:
        """One model call, or the findings that explain why it failed.

        A failing or hanging model is reported as ``unable``, which the
        supervisor answers by reassigning the step. The run config travels
        with the call, so the model sees the step's metadata (which agent it
        works for) and the trace nests under the step. The clock starts once
        the model's request slot is held: waiting behind other steps for a
        one-slot endpoint is not the model being slow. How long the model
        may take is :func:`_call_limit`.
        """
        card = agent.card
        limit = _call_limit(agent)
        try:
            bound = self._bound(agent, skill, known, found)
            async with model_slot(agent.model):
                reply = await asyncio.wait_for(_call_bound(bound, messages, config), limit)
        except GraphBubbleUp:
            raise
        except TimeoutError:
            return _unable(f"{card.name}'s model did not answer within {limit:g}s.")
        except Exception as exc:  # reported as a retryable failure, never swallowed
            return _unable(f"{card.name}'s model call failed: {type(exc).__name__}: {exc}")
        return reply if isinstance(reply, AIMessage) else AIMessage(content=reply.content)

    def _may_ask(self, agent: Member, skill: str | None, known: Sequence[str], found: Collection[str]) -> bool:
        """Whether this turn was offered ``ask_customer``: a step not shown it may not pause the thread with it."""
        return self.asks_customer and ASK_TOOL in agent.card.tools_of(skill, known, found)

    def _bound(self, agent: Member, skill: str | None, known: Sequence[str] = (), found: Collection[str] = ()) -> Any:
        """The agent's model bound to the step's tools and ``handoff``, bound once per model and set of tools.

        A step sees the tools of its skill (all of the card's when the skill
        lists none), less the lookups for facts it already holds (or, for
        ``in_step`` lookups, its own calls found). Binding happens on an agent's first step, not at build
        time, so a large team builds fast and binds only the agents it runs.
        The toolbox is read on every call (its tools exist only while it is
        open), but schemas are derived again only when its tools change.
        """
        shown = set(agent.card.tools_of(skill, known, found))
        tools = [tool for tool in agent.toolbox.tools_for(agent.card) if tool.name in shown]
        key = (id(agent.model), ASK_TOOL in shown, *map(id, tools))
        bound = self._binding.get(key)
        if bound is None:
            if len(self._binding) >= max(64, 4 * len(self.crew)):
                self._binding.clear()  # the toolbox was reopened: the old tools are gone
            asks = [ask_customer_tool_schema()] if self.asks_customer and ASK_TOOL in shown else []
            bound = self._binding[key] = agent.model.bind_tools([*tools, *asks, handoff_schema()])
        return bound

    async def act(self, state: AgentState, config: RunnableConfig) -> Command[Literal["think", "__end__"]]:
        """Run the requested tool calls through the guard.

        A ``handoff`` asked for in the same turn ends the step once every
        other call has succeeded; if one did not (a call whose arguments
        were not valid JSON never does), the model reads the results and
        hands off again.
        """
        agent = self.member(config)
        reply = state["messages"][-1]
        assert isinstance(reply, AIMessage)
        calls = [c for c in reply.tool_calls if c["name"] != HANDOFF_TOOL]
        handoffs = [c for c in reply.tool_calls if c["name"] == HANDOFF_TOOL]
        history = [*(state.get("history") or []), *(state.get("calls") or [])]
        outcome = await run_guarded(
            calls, card=agent.card, toolbox=agent.toolbox, gov=self.gov, config=config, history=history
        )
        answers, malformed = _malformed(reply)
        update: dict[str, Any] = {
            "messages": [*outcome.messages, *answers],
            "calls": [*outcome.calls, *malformed],
            "escalations": [{**e, "at_call": len(state.get("calls") or [])} for e in outcome.escalations],
        }
        if outcome.rejected is not None:
            note = f" ({outcome.rejected.note})" if outcome.rejected.note else ""
            summary = f"A human rejected the action{note}; nothing was changed."
            rejected = Findings(status="rejected", summary=summary, confidence=1.0)
            return Command(goto="__end__", update={**update, "findings": rejected.model_dump()})
        if handoffs:
            finished = _handoff_with(handoffs, update["calls"])
            if isinstance(finished, Findings):
                return _finish(finished, update)
            update["messages"] += [_tool_error(c, finished) for c in handoffs]
        return Command(goto="think", update=update)

    async def ask(self, state: AgentState, config: RunnableConfig) -> Command[Literal["think"]]:
        """Put the model's questions to the customer; the replies come back as the tool results."""
        reply = state["messages"][-1]
        assert isinstance(reply, AIMessage)
        agent = self.member(config).card.name
        messages, records = await put_questions(reply, agent=agent, gov=self.gov, config=config)
        answers, malformed = _malformed(reply)
        return Command(goto="think", update={"messages": [*messages, *answers], "calls": [*records, *malformed]})


def build_agent_graph(
    card: AgentCard,
    *,
    model: BaseChatModel,
    toolbox: Toolbox,
    gov: Governance,
    max_turns: int = 12,
    asks_customer: bool = True,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the subgraph of one agent.

    Args:
        card: The agent's card; its tool allow-list is enforced by the guard.
        model: The chat model (a real provider or the embedded engine).
        toolbox: Where the tools come from, looked up at call time.
        gov: The business rules, principals and audit log checked at every tool call.
        max_turns: Model calls allowed before the step is reported failed.
        asks_customer: Offer the built-in ``ask_customer`` tool, which pauses
            the thread for the customer's reply.
    """
    return build_crew_graph(
        [Member(card, model, toolbox)], gov=gov, max_turns=max_turns, asks_customer=asks_customer, name=card.name
    )


def build_crew_graph(
    crew: Sequence[Member],
    *,
    gov: Governance,
    max_turns: int = 12,
    asks_customer: bool = True,
    name: str = "agent",
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile one subgraph that runs any agent of ``crew``.

    Each step runs as the agent its run metadata names
    (:data:`AGENT_METADATA_KEY`); run it through the agent node, which also
    names the subgraph's run after the agent (``run_name``), so traces read
    as they would with a subgraph per agent. Checkpoint namespaces come
    from the supervisor graph's node per agent, not from this graph, so
    they are the same as before the agents shared it.

    Args:
        crew: The agents, with their models and toolboxes; names are unique.
        gov: The business rules, principals and audit log checked at every tool call.
        max_turns: Model calls allowed before a step is reported failed.
        asks_customer: Offer the built-in ``ask_customer`` tool.
        name: The compiled graph's name (a run names the agent instead).

    Raises:
        ConfigError: ``crew`` is empty, two of its agents share a name, or
            an agent's tool takes the name of a built-in one.
    """
    members = {member.card.name: member for member in crew}
    if not members or len(members) != len(crew):
        raise ConfigError("an agent subgraph needs at least one agent, and its agents unique names")
    _check_reserved(crew, asks_customer)
    loop = AgentLoop(members, gov, max_turns, asks_customer)
    builder = StateGraph(AgentState)
    builder.add_node("think", loop.think)
    builder.add_node("act", loop.act)
    builder.add_node("ask", loop.ask)
    builder.add_edge(START, "think")
    return builder.compile(name=name)


def _check_reserved(crew: Sequence[Member], asks_customer: bool) -> None:
    """No tool of an agent's may be called ``handoff`` (or ``ask_customer``, when offered).

    The loop takes those calls for its own: a tool of that name was bound
    twice (providers refuse duplicate names) and never ran; its calls ended
    the step, or paused the thread for a customer who was never meant to be
    asked.
    """
    reserved = {HANDOFF_TOOL, ASK_TOOL} if asks_customer else {HANDOFF_TOOL}
    for member in crew:
        taken = sorted(tool.name for tool in member.toolbox.tools_for(member.card) if tool.name in reserved)
        if taken:
            raise ConfigError(
                f"agent {member.card.name!r} has a tool named {', '.join(map(repr, taken))}, the name of a tool "
                "Switchboard gives every agent (`handoff` ends a step with its findings, `ask_customer` pauses for "
                "the customer); rename the tool"
            )


_NUDGE = (
    "You answered in text. Act only through tool calls: call the tools your step needs, "
    "then finish by calling the `handoff` tool with your findings."
)


_CUT_NUDGE = (
    "Your answer ran past the token cap and was cut off. Answer briefly: call one tool, "
    "or the `handoff` tool, with short arguments and no text around the call."
)


def _call_limit(agent: Member) -> float:
    """Seconds one model call of ``agent`` may take: its model's own request timeout, else the card's ``timeout_s``.

    A timeout set on the model (``?timeout=600`` in its spec, or
    ``SWITCHBOARD_MODEL_TIMEOUT``) says how slow that model is known to be;
    the card's ``timeout_s`` is a default for any model. Were the card's
    the limit, a slow local model allowed 600 s by its own client would
    still be cut off at the card's 120 s and every step of it reassigned.
    """
    return request_timeout(agent.model) or agent.card.timeout_s


def _call_bound(bound: Any, messages: list[AnyMessage], config: RunnableConfig) -> Any:
    """``bound.ainvoke``, calling the model itself with the binding's arguments when that is all the binding adds.

    ``bind_tools`` usually returns a ``RunnableBinding`` that only adds the
    tools as call arguments. Its own ``ainvoke`` first merges its (empty)
    config with the call's, copying the callback manager and metadata twice:
    about as much work as the model call it wraps. The model's run, its
    trace and its arguments are the same either way; a binding with a config
    of its own, or around something other than a chat model, is invoked as is.
    """
    if (
        isinstance(bound, RunnableBinding)
        and isinstance(bound.bound, BaseChatModel)
        and not bound.config
        and not bound.config_factories
    ):
        return bound.bound.ainvoke(messages, config, **bound.kwargs)
    return bound.ainvoke(messages, config)


def _tool_error(call: ToolCall, text: str) -> ToolMessage:
    return ToolMessage(text, tool_call_id=call["id"] or "", name=HANDOFF_TOOL, status="error")


_JSON_ERROR = re.compile(r"JSONDecodeError (.+?)(?:\nFor troubleshooting|$)", re.DOTALL)
"""The decoder's own words in LangChain's parse error, which also repeats the arguments and adds a link."""


def invalid_args_error(call: InvalidToolCall) -> str:
    """Why a call's arguments did not parse, in one short line the model (or a person) can act on.

    LangChain's error for a Chat Completions call repeats the whole argument
    text, which a call cut off at the token cap makes long; the decoder's
    message (where the JSON broke) is what says how to fix it.
    """
    error = str(call.get("error") or "")
    found = _JSON_ERROR.search(error)
    text = " ".join((found.group(1) if found else error).split())
    return text[:300] or "they could not be parsed"


def _malformed(reply: AIMessage) -> tuple[list[ToolMessage], list[ToolCallRecord]]:
    """An error answer and a ``refused`` record for each of ``reply``'s calls whose arguments were not valid JSON.

    Nothing is run for them and the guard never sees them: there are no
    arguments to decide on, so no policy decision or approval is asked for
    and the audit trail has nothing to record. The step's trail does list
    them, so a step that gives up shows what its model kept sending.
    """
    answers: list[ToolMessage] = []
    records: list[ToolCallRecord] = []
    cut = cut_off(reply)  # a call cut off mid-arguments fails to parse too: it needs to be shorter
    why = "were cut off at the token cap and are" if cut else "were"
    fix = "a shorter JSON object" if cut else "a JSON object"
    for call in reply.invalid_tool_calls:
        name = call.get("name") or ""
        again = f"call {name} again" if name else "call the tool again"
        text = f"Not run: the arguments {why} not valid JSON: {invalid_args_error(call)}; {again} with {fix}."
        answers.append(ToolMessage(text, tool_call_id=call.get("id") or "", name=name, status="error"))
        records.append(ToolCallRecord(tool=name or "unknown", args={}, outcome="refused", result=text, policy=None))
    return answers, records


def _handoff_with(handoffs: list[ToolCall], calls: list[ToolCallRecord]) -> Findings | str:
    """The findings of a handoff made together with tool calls, or why it was not taken."""
    if len(handoffs) > 1:
        return "Not run: call handoff once."
    if any(call["outcome"] != "ok" for call in calls):
        return "Not run: a tool call in the same turn did not succeed; read its result, then call handoff again."
    try:
        return HandoffArgs.model_validate(handoffs[0]["args"])
    except ValidationError as exc:
        return f"Invalid handoff, call it again with valid fields: {exc}"


def _found(card: AgentCard, skill: str | None, messages: Sequence[AnyMessage]) -> set[str]:
    """The facts the step's own successful calls found, by its skill's ``in_step`` lookups.

    Once a call has found the customer's id, the tools that do nothing but
    find it leave the step's later prompts, as they would for a step handed
    the id.
    """
    results = [(m.name or "", m.content) for m in messages if isinstance(m, ToolMessage) and m.status == "success"]
    return card.found_in(skill, results) if results else set()


def _finish(findings: Findings, update: dict[str, Any] | None = None) -> Command[Any]:
    return Command(goto="__end__", update={**(update or {}), "findings": findings.model_dump()})


def _unable(summary: str) -> Findings:
    return Findings(status="unable", summary=summary, reasoning="technical failure", confidence=0.0)
