"""One recorded run of the 6-step return, replayed through every stack.

The run is recorded once from the embedded engine on the shipped retail team
(real MCP server, real policy): which agent did which step, the tool calls it
made and what it handed back. :func:`ours`, :func:`supervisor_anchor` and
:func:`subagents_anchor` turn that one record into the scripted replies each
stack needs, so every stack makes the same tool calls with the same
arguments and reports the same findings; only what each framework puts
around the model differs, and that is what the benchmark counts.

How each stack's replies are shaped (the one place they differ):

- Switchboard: one routing reply with the next step and the rest of the plan,
  then the finishing reply; each agent calls its tools one per turn and puts
  ``handoff`` in the turn of its last tool call (``separate_handoff`` puts it
  in a turn of its own, to show what that lever is worth; ``plan=False``
  routes every step with a model call, as before plans).
- ``create_supervisor``: a ``transfer_to_<agent>`` call per step, then the
  final answer; each agent calls the same tools one per turn and answers
  with its summary and facts as text.
- Subagents (``create_agent`` with agents as tools): a call to the agent's
  tool with the step's instruction per step, then the final answer; the
  agents as above.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, ToolCall

from benchmarks.recording import ReplayChatModel
from switchboard.graph import trail as query
from switchboard.graph.state import TrailEvent
from switchboard.testing import finish, handoff, route

TASK = (
    "Hi, this is Mia Chen (mia.chen@example.com). The yoga mat from order #W0372018 arrived torn. "
    "I want to return it and get my money back on the gift card I paid with."
)
"""The 6-step return (finance, logistics, inventory, finance, analytics,
customer_service) of the demo database; under the $500 approval limit, so
no stack waits for a human."""


@dataclass(frozen=True)
class Step:
    """One agent step of the recorded run."""

    agent: str
    skill: str | None
    instruction: str
    calls: tuple[tuple[str, dict[str, Any]], ...]
    findings: dict[str, Any]
    """The handoff's arguments: status, summary, facts, reasoning, confidence."""


@dataclass(frozen=True)
class Script:
    """The recorded run: the task, its steps and why it finished."""

    task: str
    steps: tuple[Step, ...]
    done: str

    @classmethod
    def from_trail(cls, task: str, trail: Sequence[TrailEvent]) -> Script:
        """Read a finished run's trail back into a script."""
        steps = tuple(
            Step(
                agent=h["agent"],
                skill=h["skill"],
                instruction=h["instruction"],
                calls=tuple((c["tool"], dict(c["args"])) for c in h["tool_calls"]),
                findings={
                    "status": h["status"],
                    "summary": h["summary"],
                    "facts": dict(h["facts"]),
                    "reasoning": h["reasoning"],
                    "confidence": h["confidence"],
                },
            )
            for h in query.handoffs(trail)
        )
        last = query.decisions(trail)[-1]
        return cls(task, steps, last["reason"])

    @property
    def agents(self) -> tuple[str, ...]:
        """The agents in order of first appearance."""
        return tuple(dict.fromkeys(step.agent for step in self.steps))

    @property
    def tool_calls(self) -> int:
        """Tool calls in the whole run."""
        return sum(len(step.calls) for step in self.steps)


@dataclass
class Replies:
    """The scripted models of one stack for one run."""

    supervisor: ReplayChatModel
    agents: dict[str, ReplayChatModel] = field(default_factory=dict)

    @property
    def models(self) -> list[ReplayChatModel]:
        """Every model of the run, the supervisor first."""
        return [self.supervisor, *self.agents.values()]


def _call(name: str, args: dict[str, Any], ident: str) -> ToolCall:
    return {"name": name, "args": args, "id": ident, "type": "tool_call"}


def _tool_turns(step: Step, index: int) -> list[AIMessage]:
    return [
        AIMessage("", tool_calls=[_call(tool, args, f"call_{index}_{n}")]) for n, (tool, args) in enumerate(step.calls)
    ]


def _answer(step: Step) -> AIMessage:
    """A react agent's final answer: what our agents hand off, as text."""
    facts = json.dumps(step.findings["facts"], default=str)
    return AIMessage(f"{step.findings['summary']} Facts: {facts}")


def ours(script: Script, *, plan: bool = True, separate_handoff: bool = False) -> Replies:
    """Switchboard's replies: one model for the supervisor and every agent (agents by lane)."""
    first, *rest = script.steps
    if plan:
        routes = [
            route(
                first.agent,
                first.instruction,
                skill=first.skill,
                plan=[(s.agent, s.skill, s.instruction) for s in rest],
            )
        ]
    else:
        routes = [route(s.agent, s.instruction, skill=s.skill) for s in script.steps]
    lanes: dict[str, list[AIMessage]] = {}
    for index, step in enumerate(script.steps):
        turns = _tool_turns(step, index)
        done = handoff(
            step.findings["summary"],
            status=step.findings["status"],
            confidence=step.findings["confidence"],
            reasoning=step.findings["reasoning"],
            **step.findings["facts"],
        )
        if turns and not separate_handoff:
            last = turns.pop()
            turns.append(AIMessage("", tool_calls=[*last.tool_calls, *done.tool_calls]))
        else:
            turns.append(done)
        lanes.setdefault(step.agent, []).extend(turns)
    model = ReplayChatModel(steps=[*routes, finish(script.done)], agents=lanes)
    return Replies(model)


def _agent_models(script: Script) -> dict[str, ReplayChatModel]:
    lanes: dict[str, list[AIMessage]] = {}
    for index, step in enumerate(script.steps):
        lanes.setdefault(step.agent, []).extend([*_tool_turns(step, index), _answer(step)])
    return {agent: ReplayChatModel(steps=turns) for agent, turns in lanes.items()}


def supervisor_anchor(script: Script) -> Replies:
    """``create_supervisor``'s replies: a transfer per step, then the answer."""
    transfers = [
        AIMessage("", tool_calls=[_call(f"transfer_to_{s.agent}", {}, f"transfer_{i}")])
        for i, s in enumerate(script.steps)
    ]
    return Replies(ReplayChatModel(steps=[*transfers, AIMessage(script.done)]), _agent_models(script))


def subagents_anchor(script: Script) -> Replies:
    """The subagents pattern's replies: the agent's tool with the instruction per step, then the answer."""
    asks = [
        AIMessage("", tool_calls=[_call(s.agent, {"request": s.instruction}, f"ask_{i}")])
        for i, s in enumerate(script.steps)
    ]
    return Replies(ReplayChatModel(steps=[*asks, AIMessage(script.done)]), _agent_models(script))
