"""Handoff grants on every path where work passes from one agent to another.

The policy's ``grants.<agent>.handoffs`` says which agents an agent may hand
work to. Work passes between agents in four ways in this graph, and each is
checked here:

* **routing after an agent's findings**: the supervisor routes the next step
  with the findings of the steps that just came back (their facts enter the
  shared context), so each of those agents hands work to each agent the new
  decision starts; a decision with several steps (parallel fan-out) is
  checked step by step;
* **reassignment**: a failed step, with what it tried, goes to another agent;
* **workflows**: each step hands its results to the steps that need it; that
  is fixed by the workflow file, so it is checked once, when the graph is
  built, and a workflow the grants forbid is refused then;
* **a workflow as the target**: work routed to a workflow enters through its
  first steps' agents.

The supervisor's own decisions with nothing just handed back (the first
step, or after a human answered) are not agent-to-agent handoffs: the
supervisor may assign to any agent of the team. A refused handoff stops the
run for a human, who may still tell the supervisor to go on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches

from switchboard.agents.card import Team
from switchboard.errors import ConfigError
from switchboard.graph import trail as query
from switchboard.graph.state import DecisionEvent, TrailEvent
from switchboard.graph.workflows import Workflow
from switchboard.policies import PolicyFile, check_handoff

__all__ = ["RefusedHandoff", "check_workflows", "refused_handoffs", "workflow_entries"]


@dataclass(frozen=True)
class RefusedHandoff:
    """A handoff the policy does not grant."""

    source: str
    target: str
    """The agent the work would go to (for a workflow: the agent it enters through)."""
    via: str
    """How the work would pass: ``routing``, ``reassignment`` or ``workflow``."""
    reason: str

    def question(self) -> str:
        """What the human is asked."""
        what = "failed step" if self.via == "reassignment" else "work"
        return f"{self.source}'s {what} cannot go to {self.target}: {self.reason}. How should we proceed?"


def _agent_of(step_agent: str | None, skill: str | None, team: Team) -> str | None:
    if step_agent is not None:
        return step_agent
    offering = team.offering(skill or "")
    return offering[0].name if offering else None


def workflow_entries(workflows: Iterable[Workflow], team: Team) -> dict[str, tuple[str, ...]]:
    """Each workflow's node name, with the agents of its first steps (where routed work enters)."""
    entries: dict[str, tuple[str, ...]] = {}
    for workflow in workflows:
        roots = [_agent_of(s.agent, s.skill, team) for s in workflow.steps if not s.needs]
        entries[workflow.node_name] = tuple(dict.fromkeys(a for a in roots if a))
    return entries


def check_workflows(policy: PolicyFile, workflows: Iterable[Workflow], team: Team) -> None:
    """Refuse, at build time, a workflow whose steps hand work where the grants do not allow.

    Raises:
        ConfigError: A step names an agent the team does not have (checked
            first: a misspelt agent is no grant to add), or hands work where
            the grants do not allow, naming the workflow file, the two steps
            and the grant to add.
    """
    for workflow in workflows:
        _check_agents_exist(workflow, team)
        agents = {s.id: _agent_of(s.agent, s.skill, team) for s in workflow.steps}
        for step in workflow.steps:
            for need in step.needs:
                source, target = agents[need], agents[step.id]
                if source is None or target is None or source == target:
                    continue
                decision = check_handoff(policy, source, target)
                if decision.effect == "deny":
                    raise ConfigError(
                        f"workflow {workflow.source or workflow.name}: step {step.id!r} ({target}) takes work from "
                        f"step {need!r} ({source}), a handoff the policy {policy.source or policy.name} does not "
                        f"grant ({decision.reason}); add {target} to grants.{source}.handoffs or change the workflow"
                    )


def _check_agents_exist(workflow: Workflow, team: Team) -> None:
    named = [(s.id, s.agent) for s in workflow.steps] + [
        (f"{s.id} (compensate)", s.compensate.agent) for s in workflow.steps if s.compensate is not None
    ]
    for step, agent in named:
        if agent is not None and agent not in team.names:
            close = get_close_matches(agent, list(team.names), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the team has {', '.join(team.names)}"
            raise ConfigError(
                f"workflow {workflow.source or workflow.name}: step {step!r} names agent {agent!r}, which team "
                f"{team.name!r} does not have{hint}"
            )


def refused_handoffs(
    policy: PolicyFile,
    trail: Sequence[TrailEvent],
    new_events: Sequence[TrailEvent],
    entries: Mapping[str, tuple[str, ...]],
) -> list[RefusedHandoff]:
    """The handoffs a supervisor update would make that the policy does not grant.

    Args:
        policy: The policy in force.
        trail: The thread's trail before the update.
        new_events: The trail events the supervisor is about to append.
        entries: Workflow node names with the agents they enter through.
    """
    refused: list[RefusedHandoff] = []
    for event in new_events:
        if not query.is_decision(event) or event["action"] != "route":
            continue
        for source, target, via in _passes(event, trail, entries):
            decision = check_handoff(policy, source, target)
            if decision.effect == "deny":
                refused.append(RefusedHandoff(source, target, via, decision.reason))
    return refused


def _passes(
    decision: DecisionEvent, trail: Sequence[TrailEvent], entries: Mapping[str, tuple[str, ...]]
) -> list[tuple[str, str, str]]:
    """(source, target, via) for every agent-to-agent pass a routing decision makes."""
    if decision["source"] == "reassign":
        return [
            (a["tried"][-1], target, "reassignment")
            for a in decision["assignments"]
            if a["tried"]
            for target in entries.get(a["agent"], (a["agent"],))
        ]
    sources = _handed_back(trail, entries)
    return [
        (source, target, "routing")
        for a in decision["assignments"]
        for target in entries.get(a["agent"], (a["agent"],))
        for source in sources
        if source != target
    ]


def _handed_back(trail: Sequence[TrailEvent], entries: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Agents whose steps (assigned by the last decision) just came back.

    A workflow's inner steps carry their own assignment ids and were checked
    when the graph was built; a workflow hands back like the supervisor.
    """
    last = query.last_decision(trail)
    assigned = {a["id"] for a in last["assignments"]} if last else set()
    fresh = query.since_last_decision(trail)
    return list(dict.fromkeys(h["agent"] for h in fresh if h["assignment"] in assigned and h["agent"] not in entries))
