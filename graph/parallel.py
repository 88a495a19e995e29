"""Which steps may run at the same time.

A routing decision may start several steps at once (``also``). Parallel
steps are a saving only when they are independent; when they are not, the
same write can happen twice (a return processed by an agent and by its
backup) or a write can race a read of the same order. This module decides,
purely from the team's cards and the steps' instructions, whether a set of
parallel steps is safe; the router refuses an unsafe decision with the
reason, and the model gets one chance to answer again.

What counts as *writing* is declared on the card: a skill with
``writes: true``. A step that names no skill is judged by its agent: it
writes if the agent has any writing skill (the safe guess). Which records a
step touches is read from its instruction: identifiers such as ``#W0000123``,
``1042`` or ``jane@example.com``. A writing step that names no identifier
could touch anything, so it runs alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.agents.card import AgentCard, Team

__all__ = ["PlannedStep", "parallel_conflict"]

_RECORD = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|#?\b[A-Za-z]*\d[\w-]{3,}\b")


@dataclass(frozen=True)
class PlannedStep:
    """One step of a decision, as the router validates it."""

    agent: str
    skill: str | None
    instruction: str


def _records(instruction: str) -> frozenset[str]:
    return frozenset(match.lstrip("#").lower() for match in _RECORD.findall(instruction))


def _writes(card: AgentCard, skill: str | None) -> bool:
    if skill is None:
        return any(s.writes for s in card.skills)
    return any(s.writes for s in card.skills if s.id == skill)


def _backs_up(card: AgentCard, other: str) -> bool:
    return any(other in names for names in card.fallbacks.values())


def _shared_writes(first: AgentCard, second: AgentCard) -> set[str]:
    return {s.id for s in first.skills if s.writes} & {s.id for s in second.skills if s.writes}


def _pair_conflict(a: PlannedStep, b: PlannedStep, team: Team) -> str | None:
    first, second = team.card(a.agent), team.card(b.agent)
    if a.skill and a.skill == b.skill:
        return f"skill {a.skill!r} appears in two parallel steps ({a.agent} and {b.agent}); route it once"
    if a.agent != b.agent and (_backs_up(first, b.agent) or _backs_up(second, a.agent)):
        return f"{a.agent} and {b.agent} back each other up; they must not run the same work in parallel"
    if a.agent != b.agent and (shared := _shared_writes(first, second)):
        return f"{a.agent} and {b.agent} can both write ({', '.join(sorted(shared))}); run them one after the other"
    for writer, other in ((a, b), (b, a)):
        if not _writes(team.card(writer.agent), writer.skill):
            continue
        mine, theirs = _records(writer.instruction), _records(other.instruction)
        what = f"{writer.agent} ({writer.skill or 'any skill'}) writes"
        if not mine or not theirs:
            return f"{what} and the records of the parallel steps are not named; route it on its own"
        if mine & theirs:
            return f"{what} {', '.join(sorted(mine & theirs))}, which {other.agent} also uses; route one at a time"
    return None


def parallel_conflict(steps: Sequence[PlannedStep], team: Team) -> str | None:
    """Why ``steps`` must not run at the same time, or ``None`` when they may.

    Refused, for any two steps:

    * the same skill twice;
    * an agent with one of its own fallbacks (its backup);
    * two agents that both offer a writing skill (they share write tools);
    * a writing step with another step on the same record, or on records
      that cannot be told from the instructions.
    """
    for index, first in enumerate(steps):
        for second in steps[index + 1 :]:
            conflict = _pair_conflict(first, second, team)
            if conflict is not None:
                return conflict
    return None
