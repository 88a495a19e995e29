"""Routing loops: a run that keeps going round instead of forward.

A weak routing model can re-route a step that is already done, again and
again, or bounce work between two agents. Each such hop costs a model call
and an agent step, and the hop limit only stops it late. This module spots
the pattern in the trail (pure: it reads the trail through
:mod:`switchboard.graph.trail` and decides nothing else), so the router can
turn the decision into an escalation that says what went round.

Two patterns are caught, over the current turn only:

* **the same step again**: the proposed step (agent and skill, or agent and
  instruction when no skill is named) was already routed ``max_repeats``
  times;
* **ping-pong**: the last single-agent decisions alternate between two
  agents, and the proposed one would continue the alternation for
  ``ping_pong`` full round trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.graph import trail as query

__all__ = ["Loop", "StepKey", "detect_loop"]

StepKey = tuple[str, str]
"""(agent, skill), or (agent, normalised instruction) when no skill is named."""


@dataclass(frozen=True)
class Loop:
    """A loop the proposed decision would continue."""

    kind: str
    """``repeat`` or ``ping-pong``."""
    agents: tuple[str, ...]
    """The agents going round."""
    reason: str
    """A sentence for the human the run escalates to."""


def step_key(agent: str, skill: str | None, instruction: str) -> StepKey:
    """What makes two routed steps "the same step"."""
    return (agent, skill or " ".join(instruction.lower().split()))


def _routed(trail: query.Trail) -> list[list[StepKey]]:
    """The steps of each routing decision of the current turn, oldest first."""
    routed = []
    for decision in query.decisions(query.current_turn(trail)):
        if decision["action"] != "route":
            continue
        steps = [step_key(a["agent"], a["skill"], a["instruction"]) for a in decision["assignments"]]
        routed.append(steps or [step_key(decision["agent"] or "", decision["skill"], decision["instruction"])])
    return routed


def detect_loop(
    trail: query.Trail, proposed: Sequence[StepKey], *, max_repeats: int = 2, ping_pong: int = 2
) -> Loop | None:
    """The loop that routing ``proposed`` would continue, if any.

    Args:
        trail: The thread's trail.
        proposed: The steps of the decision about to be made.
        max_repeats: How often one step may be routed in a turn before the
            next time counts as a loop. Reassignments of a failed step to
            another agent do not count: they have another agent.
        ping_pong: Round trips between two agents (A, B, A, B is two) that,
            continued by the proposal, count as a loop.
    """
    history = _routed(trail)
    for key in proposed:
        seen = sum(steps.count(key) for steps in history)
        if seen >= max_repeats:
            agent, what = key
            return Loop(
                "repeat",
                (agent,),
                f"The supervisor routed the same step ({what!r} to {agent}) {seen + 1} times in this run; "
                "it is going round in circles. How should we proceed?",
            )
    if len(proposed) != 1:
        return None
    single = [steps[0][0] for steps in history if len(steps) == 1]
    window = [*single[-2 * ping_pong :], proposed[0][0]]
    alternating = all(window[i] != window[i + 1] for i in range(len(window) - 1))
    if len(window) == 2 * ping_pong + 1 and len(set(window)) == 2 and alternating:
        first, second = window[0], window[1]
        return Loop(
            "ping-pong",
            (first, second),
            f"The supervisor keeps handing the work back and forth between {first} and {second} "
            f"({' -> '.join(window)}) without finishing. How should we proceed?",
        )
    return None
