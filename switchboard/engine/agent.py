"""An agent's moves: pick the skill, run its recipe, keep it safe.

The recipe decides *what* to do; this module enforces the rules every agent
follows whatever the recipe says: a tool error ends the step (it is reported,
never retried in a loop), only bound tools are called, no call is repeated,
a step never runs more than a bounded number of calls, and no value is taken
from a phrase in the instruction that only stands in for one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from switchboard.engine.classify import intent_matcher, skill_matcher
from switchboard.engine.parse import AgentPrompt
from switchboard.engine.playbook import ASK_CUSTOMER, Call, Handoff, Playbook, Skill, Turn, customer_reply

MAX_CALLS = 20
"""Tool calls one agent step may make before it gives up."""


def act(playbook: Playbook, prompt: AgentPrompt, tools: frozenset[str]) -> Call | Handoff:
    """The agent's next move for the step described by ``prompt``.

    Args:
        playbook: The domain's playbook (recipes and slot extraction).
        prompt: The agent's blocks and its tool history so far.
        tools: The names of the bound tools, without ``handoff``.
    """
    skill, how = _which_skill(playbook, prompt, tools)
    if skill is None:
        return Handoff.failed(f"I have no recipe for {how}.")
    if prompt.history and not prompt.history[-1].ok:
        last = prompt.history[-1]
        return Handoff.failed(
            f"{last.tool} failed: {last.error}",
            f"The tool refused, so '{skill.id}' cannot be completed without a decision.",
        )
    if len(prompt.history) >= MAX_CALLS:
        return Handoff.failed(f"I stopped '{skill.id}' after {MAX_CALLS} tool calls without finishing.")
    turn = Turn(
        task=prompt.task,
        instruction=prompt.instruction,
        skill=skill.id,
        intent=_intent(playbook, prompt.task),
        context=prompt.context,
        slots=_slots(playbook, prompt.task, prompt.instruction, _replies(prompt)),
        history=prompt.history,
        tools=tools,
    )
    move = skill.recipe(turn)
    return _checked(move, turn) if isinstance(move, Call) else move


def _which_skill(playbook: Playbook, prompt: AgentPrompt, tools: frozenset[str]) -> tuple[Skill | None, str]:
    """The skill to run: the one named in ``<skill>``, else the best match for the instruction."""
    if prompt.skill:
        return playbook.skill(prompt.skill), f"'{prompt.skill}'"
    usable = [s.id for s in playbook.skills if s.tools and set(s.tools) <= tools]
    allowed = usable or [s.id for s in playbook.skills]
    match = skill_matcher(playbook).best(prompt.instruction or prompt.task, allowed)
    if match is None:
        return None, f"the instruction {prompt.instruction!r}: it matches none of my skills"
    return playbook.skill(match.label), f"'{match.label}'"


def _intent(playbook: Playbook, task: str) -> str | None:
    if not playbook.intents:
        return None
    match = intent_matcher(playbook).best(task)
    return match.label if match and match.score >= playbook.min_score else None


def _slots(playbook: Playbook, task: str, instruction: str, replies: tuple[str, ...] = ()) -> dict[str, Any]:
    """Slots of the task; the instruction fills gaps and overrides the declared ids.

    A value read from the instruction that is only a stand-in for one ("the
    reason the customer gave", "<size>") is dropped: the supervisor had no
    value to give, so the task's own value, or none, is the truth. The
    customer's replies to the step's questions fill the key slots still
    missing (who and which order): they answer what the task left open,
    and nothing else ("the one with the kettle" picks an order, it does not
    narrow the request to the kettle).
    """
    slots: dict[str, Any] = dict(playbook.extract_slots(task))
    for key, value in playbook.extract_slots(instruction).items():
        if not value or is_placeholder(value):
            continue
        if not slots.get(key) or key in playbook.key_slots:
            slots[key] = value
    for reply in replies:
        for key, value in playbook.extract_slots(reply).items():
            if value and key in playbook.key_slots and not slots.get(key):
                slots[key] = value
    return slots


def _replies(prompt: AgentPrompt) -> tuple[str, ...]:
    return tuple(customer_reply(s.result) for s in prompt.history if s.tool == ASK_CUSTOMER and s.ok)


def _checked(call: Call, turn: Turn) -> Call | Handoff:
    if call.tool not in turn.tools:
        return Handoff.failed(
            f"'{turn.skill}' needs the tool {call.tool}, which is not among this agent's tools: it is not "
            "granted to the agent, or no tool server serves it (was build_graph given a toolbox?).",
            f"My tools are {sorted(turn.tools)}; route '{turn.skill}' to an agent that has {call.tool}.",
        )
    if any(step.tool == call.tool and _same(step.args, call.args) for step in turn.history):
        return Handoff.failed(
            f"I was about to repeat {call.tool} with the same arguments, so I stopped.",
            "Repeating a call would not change its result (and could repeat a write).",
        )
    return call


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return {k: v for k, v in a.items() if v is not None} == {k: v for k, v in b.items() if v is not None}


_PLACEHOLDER = re.compile(
    r"\b(?:the|this|that|their|a)\s+(?:customer|user|client|shopper|buyer|caller|task|request|ticket)(?:'s)?\b"
    r"|\b(?:as|if)\s+(?:given|stated|named|specified|requested|provided)\b"
    r"|\bnot\s+(?:given|stated|specified|known|named|provided)\b"
    r"|\b(?:unknown|unspecified|tbd|to be (?:confirmed|determined|decided))\b|\bn/a\b"
    r"|<[^<>]*>|\[[^\[\]]*\]|\{[^{}]*\}|\.\.\.|\u2026",
    re.IGNORECASE,
)


def is_placeholder(value: Any) -> bool:
    """Whether a value read from a colleague's words stands for a value instead of being one.

    A supervisor that lacks a value may still write a phrase in its place
    ("the reason the customer gave", "the variant the customer asked for",
    "<size>", "TBD"). Such a phrase refers to the customer or the task in the
    third person, says the value is unknown, or is a template slot; taken
    as data it would be written to a record. Lists and mappings are
    placeholders when any of their strings is.
    """
    if isinstance(value, str):
        return _PLACEHOLDER.search(value) is not None
    if isinstance(value, Mapping):
        return any(is_placeholder(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_placeholder(v) for v in value)
    return False
