"""Assemble the supervisor graph.

``intake`` takes the task in (from ``task`` or the chat); ``supervisor``
decides; each agent is a node of its own (card and spec agents all run one
shared, compiled subgraph, see ``agents.subgraph``); ``escalate`` pauses
for a human; ``finalize`` writes the report. Every edge
out of a node is a ``Command``; the builder declares the destinations so the
drawn graph is exact.

Agents come in three kinds, all routed alike by their cards: a card over MCP
tools and an ``AgentSpec`` run the think → guarded act → handoff subgraph, so
the guard checks each of their tool calls; a graph you bring runs as it is,
governed at the handoff (see ``external_node``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore
from langgraph.types import RetryPolicy
from pydantic import ValidationError

from switchboard.agents.card import AgentCard, Team, load_team
from switchboard.agents.external import Agent
from switchboard.agents.findings import handoff_tool_schema
from switchboard.agents.health import HealthRegistry
from switchboard.agents.interrupts import Governance
from switchboard.agents.spec import AgentSpec
from switchboard.agents.subgraph import Member, build_crew_graph
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints.audit import AuditLog
from switchboard.errors import ConfigError
from switchboard.graph.agent_node import agent_node
from switchboard.graph.decision import RoutingDecision
from switchboard.graph.escalation import escalation_node
from switchboard.graph.external_node import external_node
from switchboard.graph.finalize import finalize
from switchboard.graph.governed import governed
from switchboard.graph.handoffs import check_workflows, workflow_entries
from switchboard.graph.intake import intake
from switchboard.graph.routing import Router
from switchboard.graph.state import AgentInput, SupervisorInput, SupervisorOutput, SupervisorState
from switchboard.graph.structured import check_structured, model_label
from switchboard.graph.supervisor import supervisor_node
from switchboard.graph.usage import configured_name
from switchboard.graph.workflows import Workflow, routing_team, workflow_nodes
from switchboard.policies import PolicyFile, Registry
from switchboard.policies.grants import check_tool_grant
from switchboard.policies.loader import check_argument_names, check_grant_names, check_scope_coverage

log = logging.getLogger(__name__)

AgentLike = AgentCard | AgentSpec | Agent | Runnable[Any, Any]
"""What ``build_graph(agents=[...])`` accepts: a card of MCP-tool agent, a spec
Switchboard builds, or a graph you built (bare, or as ``Agent`` with a card)."""

DEFAULT_MAX_HOPS = 12


def build_graph(
    agents: Sequence[AgentLike] | None = None,
    *,
    team: Team | None = None,
    model: BaseChatModel | None = None,
    supervisor_model: BaseChatModel | None = None,
    toolbox: Toolbox | None = None,
    policy: PolicyFile | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    store: BaseStore | None = None,
    health: HealthRegistry | None = None,
    max_hops: int = DEFAULT_MAX_HOPS,
    principals: Registry | None = None,
    audit: AuditLog | None = None,
    workflows: Sequence[Workflow] = (),
    sync_turns: bool = False,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Build and compile the supervisor graph.

    Args:
        agents: The agents, in one list: ``AgentCard`` (tools from the
            toolbox's MCP servers), ``AgentSpec`` (tools and a prompt;
            Switchboard builds the agent), or a compiled graph / Runnable with
            a name (bare, or ``Agent(graph, card=...)``). Tool calls of cards
            and specs pass the guard; a brought graph is governed at the
            handoff. Added to ``team``'s cards when both are given.
        team: Agent cards and servers; the shipped retail team when neither
            ``team`` nor ``agents`` is given.
        model: The model of every agent without its own, and of the
            supervisor unless ``supervisor_model`` is given; the embedded
            engine by default (with the team's playbook, if it names one).
        supervisor_model: The routing model, when it differs from ``model``.
        toolbox: Where card agents' tools come from. When it holds tools, every
            card's allow-list is checked against it now, not at run time.
        policy: Business rules; the team's policy file by default.
        checkpointer: Where thread state is saved (see ``checkpoints``).
        store: Long-term memory shared across threads, if any.
        health: Live load and health shared with other threads and processes;
            a private in-memory registry by default.
        max_hops: Agent steps before the supervisor must ask a human.
        principals: Who may approve (their roles and public keys); by
            default the principals files the policy names.
        audit: The hash-chained audit log every decision, question, answer
            and tool call is appended to; by default ``audit.sqlite`` in the
            data directory (``SWITCHBOARD_HOME``), also for graphs built
            without the CLI, so no governed run goes unrecorded.

        workflows: Declared workflows the supervisor may route a task to as
            one step (see ``switchboard.graph.workflows``); each runs the same
            agent nodes as LLM-routed steps, and a failure it does not handle
            hands the task back to LLM routing.
        sync_turns: With ``durability="sync"``, also wait for each agent
            turn's checkpoint, not only each supervisor step's. Off by
            default: turns are checkpointed in the background (see
            ``agent_node``), and a write still never happens twice.

    Raises:
        ConfigError: Two agents share a name, a brought graph has no name, a
            card names a tool no server provides, a tool an agent may call
            takes an argument the policy's data scopes name but is not
            scoped (nor opted out), a grant names a misspelt agent, tool
            or handoff target, an agent's model has no tool calling,
            the supervisor's model no structured output (by its
            ``?structured=`` method), or a setting is invalid; raised
            here, before any run.
    """
    if max_hops < 1:
        raise ConfigError(f"max_hops is {max_hops}; a run needs at least 1 agent step before a human is asked")
    roster = _Roster.of(agents, team)
    team = roster.team
    policy = policy if policy is not None else team.load_policy()
    gov = Governance.of(policy, registry=principals, audit=audit)
    models = _Models(team, model)
    _check_tools(roster, toolbox or Toolbox({}), policy, warn=toolbox is None)
    toolbox = toolbox or Toolbox({})
    health = health or HealthRegistry()
    builder = StateGraph(SupervisorState, input_schema=SupervisorInput, output_schema=SupervisorOutput)
    nodes = _agent_nodes(roster, models, toolbox, gov, health, sync_turns)
    workflows = tuple(workflows) or team.load_workflows()
    check_workflows(policy, workflows, team)
    gov = replace(gov, entries=workflow_entries(workflows, team))
    flows: dict[str, Any] = dict(workflow_nodes(workflows, nodes, team)) if workflows else {}
    # Workflows are offered like agents: a card each, so shortlisting, pinned
    # rules and the routing model can choose one; steps still run the agents.
    offered = routing_team(team, workflows)
    router = Router(offered, supervisor_model or models.default, policy, health)
    check_structured(router.model, RoutingDecision, router.method, role="the supervisor's model")
    supervisor: Any = supervisor_node(router, max_hops=max_hops, gov=gov)
    builder.add_node(
        "supervisor",
        supervisor,
        destinations=(*team.names, *flows, "escalate", "finalize"),
        retry_policy=RetryPolicy(max_attempts=3),
    )
    for name, node in {**nodes, **flows}.items():
        builder.add_node(name, node, input_schema=AgentInput)
    escalate: Any = escalation_node(gov)
    builder.add_node("intake", intake)
    builder.add_node("escalate", escalate)
    builder.add_node("finalize", finalize)
    builder.add_edge(START, "intake")
    builder.add_edge("intake", "supervisor")
    builder.add_edge("finalize", END)
    return governed(builder.compile(checkpointer=checkpointer, store=store, name="switchboard"), gov)


def _agent_nodes(
    roster: _Roster, models: _Models, toolbox: Toolbox, gov: Governance, health: HealthRegistry, sync_turns: bool
) -> dict[str, Any]:
    """A node per agent, in team order; every card and spec agent runs the same compiled subgraph.

    The agents' subgraphs would differ only in card, model and tools, which
    a step picks at run time, so compiling one per agent (about 10 ms each)
    would make a large team's build grow with its size for nothing.
    """
    max_wait_s = gov.policy.routing.max_wait_s  # a step that loses its slot queues as long as a routed one
    crew: list[Member] = []
    priced: dict[str, str | None] = {}
    for card in roster.team.agents:
        if card.name not in roster.brought:
            spec = roster.specs.get(card.name)
            model = models.of(card, spec)
            crew.append(Member(card, model, Toolbox.of(spec.tools) if spec else toolbox))
            priced[card.name] = configured_name(model)
    _check_tool_calling(crew)
    shared = build_crew_graph(crew, gov=gov) if crew else None
    # LangGraph's add_node overloads do not model async Command-returning nodes
    # that take a config, so the nodes are passed untyped; compile() checks them.
    nodes: dict[str, Any] = {}
    for card in roster.team.agents:
        brought = roster.brought.get(card.name)
        if brought is not None:
            nodes[card.name] = external_node(brought, health, max_wait_s=max_wait_s)
        elif shared is not None:
            nodes[card.name] = agent_node(
                card, shared, health, sync_turns=sync_turns, max_wait_s=max_wait_s, model_name=priced[card.name]
            )
    return nodes


def _check_tool_calling(crew: Sequence[Member]) -> None:
    """Every agent model must bind tools: agents act and hand off only through tool calls.

    Checked by binding the ``handoff`` tool once per distinct model (no
    request is made), so a model without tool calling is refused now, not
    by a bare ``NotImplementedError`` on the first step, after the thread
    exists. No ``?structured=`` option helps here: it changes only how the
    supervisor asks for its decision.

    Raises:
        ConfigError: A model's ``bind_tools`` is not implemented; the
            message names the model and the agents that use it.
    """
    users: dict[int, list[str]] = {}
    models: dict[int, BaseChatModel] = {}
    for member in crew:
        users.setdefault(id(member.model), []).append(member.card.name)
        models[id(member.model)] = member.model
    for key, model in models.items():
        try:
            model.bind_tools([handoff_tool_schema()])
        except NotImplementedError as exc:
            names = users[key]
            who = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            raise ConfigError(
                f"the model {model_label(model)} of agent(s) {who} has no tool calling (its bind_tools is not "
                "implemented), and agents act and hand off only through tool calls; give them a chat model "
                "with tool calling (e.g. openai:gpt-4.1-mini, ollama:qwen2.5:7b, or the offline `embedded` engine)"
            ) from exc


def _check_tools(roster: _Roster, toolbox: Toolbox, policy: PolicyFile, *, warn: bool = False) -> None:
    """Every tool a card or the policy names must exist, checked now, not at run time.

    MCP tools can only be checked once the toolbox is open; when no card
    needs them, the specs' tools are all there is, so a policy rule naming
    any other tool is a mistake (a misspelt rule would govern nothing). With
    ``warn``, no toolbox was given at all while cards name MCP tools: said
    now, since every such call would be refused (a graph built only to read
    threads passes an empty toolbox on purpose). Once the tools are known,
    every argument a policy rule names is checked against them too: a
    misspelt one would silently disable its rule; and every tool an agent
    may call that takes an argument the data scopes name must be scoped (or
    opted out under ``scopes.unscoped``): one left out would act on anyone's
    records. The agents the policy's grants name, and the agents they let
    each hand work to, must be the team's, whether or not the tools are
    known; once they are, so must the tools the grants name (see
    ``check_grant_names``): a misspelt grant refuses at run time what it
    was written to allow.
    """
    needs_mcp = [card.name for card in roster.team.agents if card.tools and card.name not in roster.specs]
    if needs_mcp and not toolbox.names:
        check_grant_names(policy, roster.team.names, brought=roster.brought)
        if not warn:
            return
        log.warning(
            "build_graph: %s name MCP tools, but no toolbox was given, so every call of theirs will be refused; "
            "pass toolbox= from `async with Toolbox.for_team(team) as toolbox` to start the team's servers",
            ", ".join(needs_mcp[:5]) + (f" and {len(needs_mcp) - 5} more" if len(needs_mcp) > 5 else ""),
        )
        return
    held = [tool for name in toolbox.names if (tool := toolbox.get(name)) is not None]
    own = [tool for spec in roster.specs.values() for tool in spec.tools]
    known = Toolbox.of([*held, *own])
    if roster.brought:
        # A brought agent's tools live inside it (a create_agent governed by SwitchboardGuard, say), out of sight
        # here: a rule naming a tool no server or spec provides may be one of them. One a letter or two from a tool
        # that is here is a typo all the same, and is refused; the rest are said (a misspelt rule governs nothing).
        known.check(roster.team)
        unseen = sorted(set(policy.guarded_tools(known.names)) - set(known.names))
        near = {n: c[0] for n in unseen if (c := get_close_matches(n, sorted(known.names), n=1, cutoff=0.8))}
        if near:
            raise ConfigError(
                "the policy file names tools no MCP server or spec provides: "
                + ", ".join(f"{name} (did you mean {tool}?)" for name, tool in near.items())
            )
        if unseen:
            log.warning("build_graph: the policy names tools no MCP server or spec provides (%s); unless they are a "
                        "brought agent's own, its rules on them govern nothing", ", ".join(unseen))  # fmt: skip
    else:
        known.check(roster.team, policy.guarded_tools(known.names))
    check_grant_names(policy, roster.team.names, brought=roster.brought, tools=known.names)
    tools = {tool.name: tool for tool in [*held, *own]}  # the same precedence as Toolbox.of
    check_argument_names(
        policy, {name: _arguments_of(tools[name]) for name in policy.guarded_tools(tools) if name in tools}
    )
    check_scope_coverage(policy, {name: _arguments_of(tool) for name, tool in tools.items()}, _callers(roster, policy))


def _callers(roster: _Roster, policy: PolicyFile) -> dict[str, list[str]]:
    """The tools the guard lets the card and spec agents call (card and grant allowing), with who may.

    A brought agent's tools live inside it, out of sight here.
    """
    callers: dict[str, list[str]] = {}
    for card in roster.team.agents:
        if card.name in roster.brought:
            continue
        for tool in card.tools:
            if check_tool_grant(policy.grants, card.name, tool).effect == "allow":
                callers.setdefault(tool, []).append(card.name)
    return callers


def _arguments_of(tool: BaseTool) -> frozenset[str] | None:
    """The arguments a model may call ``tool`` with, as the guard sees them; ``None`` if its schema does not say.

    An MCP tool's ``args_schema`` is a JSON-schema dict; a LangChain tool's
    is a pydantic model, read through ``tool.args`` (without injected
    arguments, which never reach the guard).
    """
    schema = tool.args_schema
    if isinstance(schema, dict):
        properties = schema.get("properties")
        return frozenset(properties) if isinstance(properties, dict) else None
    try:
        return frozenset(tool.args)
    except Exception:  # a schema that cannot be read is not the policy's mistake
        return None


@dataclass(frozen=True)
class _Roster:
    """The agents of one graph: every card, and how each agent is run."""

    team: Team
    specs: dict[str, AgentSpec] = field(default_factory=dict)
    brought: dict[str, Agent] = field(default_factory=dict)

    @classmethod
    def of(cls, agents: Sequence[AgentLike] | None, team: Team | None) -> _Roster:
        roster = cls._of(agents, team)
        for card in roster.team.agents:  # a team file's remote agents, brought like any other
            if card.a2a is not None and card.name not in roster.brought:
                roster.brought[card.name] = _remote(card, card.a2a.card, roster.team)
        return roster

    @classmethod
    def _of(cls, agents: Sequence[AgentLike] | None, team: Team | None) -> _Roster:
        if agents is None:
            return cls(team or load_team())
        if not agents and team is None:
            raise ConfigError("build_graph was given an empty list of agents; give at least one")
        cards: list[AgentCard] = list(team.agents) if team else []
        specs: dict[str, AgentSpec] = {}
        brought: dict[str, Agent] = {}
        for item in agents:
            card = _card_of(item)
            if any(known.name == card.name for known in cards):
                raise ConfigError(
                    f"two agents are named {card.name!r}; agent names are node names and must be "
                    "unique: rename one (create_react_agent(..., name=...), AgentSpec(name=...))"
                )
            cards.append(card)
            if isinstance(item, AgentSpec):
                specs[card.name] = item
            elif not isinstance(item, AgentCard):
                brought[card.name] = item if isinstance(item, Agent) else Agent(item)
        base = team.model_dump(exclude={"agents"}) if team else {"name": "agents"}
        try:
            return cls(Team.model_validate({**base, "agents": cards}), specs, brought)
        except ValidationError as exc:
            raise ConfigError(f"the agents do not form a valid team:\n{exc}") from exc


def _remote(card: AgentCard, saved_card: str, team: Team) -> Agent:
    """The agent of a team file's A2A card: its saved remote card, read from beside the team file."""
    from switchboard.agents.a2a import a2a_agent_from_card

    base = team.source.parent if team.source is not None else Path.cwd()
    file = (base / saved_card).resolve()
    try:
        saved = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"agent {card.name!r}: cannot read its saved A2A card {file}: {exc}") from exc
    try:
        return a2a_agent_from_card(saved, card=card)
    except ConfigError as exc:
        raise ConfigError(f"agent {card.name!r}: its saved A2A card {file} is unusable: {exc}") from exc


def _card_of(item: Any) -> AgentCard:
    if isinstance(item, AgentCard):
        return item
    if isinstance(item, AgentSpec):
        return item.card()
    if isinstance(item, Agent | Runnable):
        return (item if isinstance(item, Agent) else Agent(item)).card
    raise ConfigError(
        f"build_graph cannot use a {type(item).__name__} as an agent; give an AgentCard, an AgentSpec, "
        "a compiled LangGraph graph or Runnable with a name, or Agent(runnable, card=...)"
    )


class _Models:
    """Each agent's model: its spec's model object, else its card's ``model``, else the default."""

    def __init__(self, team: Team, default: BaseChatModel | None) -> None:
        from switchboard.models import resolve_model

        self._team = team
        self._resolve = resolve_model
        self.default = default or resolve_model(None, team)
        self._named: dict[str, BaseChatModel] = {}

    def of(self, card: AgentCard, spec: AgentSpec | None) -> BaseChatModel:
        if spec is not None and isinstance(spec.model, BaseChatModel):
            return spec.model
        if card.model is None:
            return self.default
        if card.model not in self._named:
            self._named[card.model] = self._resolve(card.model, self._team)
        return self._named[card.model]
