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
  ``handoff`` in the turn of its last tool call, but only when its findings
  could be written before that call's result came back
  (:func:`reads_last_result`: a model cannot report what only that result
  says). ``separate_handoff`` puts every handoff in a turn of its own, to
  show what that lever is worth; ``plan=False`` routes every step with a
  model call, as before plans.
- ``create_supervisor``: a ``transfer_to_<agent>`` call per step, then the
  final answer; each agent calls the same tools one per turn and answers
  with its summary and facts as text.
- Subagents (``create_agent`` with agents as tools): a call to the agent's
  tool with the step's instruction per step, then the final answer; the
  agents as above.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
    results: tuple[str, ...] = ()
    """Each call's result text, aligned with ``calls``; empty when not recorded."""


@dataclass(frozen=True)
class Script:
    """The recorded run: the task, its steps and why it finished."""

    task: str
    steps: tuple[Step, ...]
    done: str
    descriptions: Mapping[str, str] = field(default_factory=dict)
    """Each called tool's description, as bound for the model (what it reads before it calls)."""

    @classmethod
    def from_trail(
        cls, task: str, trail: Sequence[TrailEvent], descriptions: Mapping[str, str] | None = None
    ) -> Script:
        """Read a finished run's trail back into a script (with the called tools' descriptions, when given)."""
        steps = tuple(
            Step(
                agent=h["agent"],
                skill=h["skill"],
                instruction=h["instruction"],
                calls=tuple((c["tool"], dict(c["args"])) for c in h["tool_calls"]),
                results=tuple(c["result"] for c in h["tool_calls"]),
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
        return cls(task, steps, last["reason"], dict(descriptions or {}))

    def context(self, index: int) -> dict[str, Any]:
        """The facts the steps before ``index`` handed back: what step ``index`` was given to start from."""
        known: dict[str, Any] = {}
        for step in self.steps[:index]:
            known.update(step.findings["facts"])
        return known

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


def _leaves(value: Any) -> set[str]:
    """Every scalar inside ``value`` (nested mappings and lists included), as text."""
    if isinstance(value, dict):
        return {text for item in value.values() for text in _leaves(item)}
    if isinstance(value, list | tuple):
        return {text for item in value for text in _leaves(item)}
    return {str(value)}


def _parsed(result: str) -> Any:
    """A tool result's JSON value, or the text itself when it is not JSON (a bare id)."""
    try:
        return json.loads(result)
    except ValueError:
        return result


def reads_last_result(step: Step, task: str, context: dict[str, Any], described: str = "") -> list[str]:
    """The step's fact values that only its last call's result could have told the model.

    A value (as text) counts when it is a value in the last call's result
    and appears nowhere the model could have read it before: not in the task
    or the instruction (as text), nor in the last call's tool description
    (``described``: "status becomes 'returned'" tells what a write that
    succeeds leaves, and a same-turn handoff counts only if the calls
    succeed), nor among the arguments and results of the step's earlier
    calls, the last call's own arguments, or the facts of the context the
    step was given. A step with any such value (an id or a date the tool
    made up, a category it chose) cannot hand off in the same turn as its
    last call: a real model would not know them yet. Decided from the
    recording alone, so every step is judged the same way.
    """
    if not step.calls or len(step.results) != len(step.calls):
        return []
    seen = _leaves(context) | _leaves(step.calls[-1][1])
    for (_, args), result in zip(step.calls[:-1], step.results[:-1], strict=True):
        seen |= _leaves(args) | _leaves(_parsed(result))
    produced = _leaves(_parsed(step.results[-1]))
    texts = f"{task}\n{step.instruction}\n{described}"
    facts = _leaves(step.findings["facts"])
    return sorted(value for value in facts if value in produced and value not in seen and value not in texts)


def waits_for_results(script: Script) -> dict[int, list[str]]:
    """For each step that must hand off in a turn of its own, the values only its last result gave it."""
    found = {
        i: reads_last_result(
            step, script.task, script.context(i), script.descriptions.get(step.calls[-1][0], "") if step.calls else ""
        )
        for i, step in enumerate(script.steps)
    }
    return {i: values for i, values in found.items() if values}


def _answer(step: Step) -> AIMessage:
    """A react agent's final answer: what our agents hand off, as text."""
    facts = json.dumps(step.findings["facts"], default=str)
    return AIMessage(f"{step.findings['summary']} Facts: {facts}")


def ours(script: Script, *, plan: bool = True, separate_handoff: bool = False) -> Replies:
    """Switchboard's replies: one model for the supervisor and every agent (agents by lane).

    A step's ``handoff`` rides in its last tool call's turn only when the
    findings do not need that call's result (:func:`reads_last_result`);
    ``separate_handoff`` gives every handoff a turn of its own.
    """
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
    waits = waits_for_results(script)
    for index, step in enumerate(script.steps):
        turns = _tool_turns(step, index)
        done = handoff(
            step.findings["summary"],
            status=step.findings["status"],
            confidence=step.findings["confidence"],
            reasoning=step.findings["reasoning"],
            **step.findings["facts"],
        )
        alone = separate_handoff or index in waits
        if turns and not alone:
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
