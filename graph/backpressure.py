"""Back-pressure: a step for a saturated agent waits for a slot instead of pausing the run.

An agent at its ``max_concurrency`` is a queue, not a failure. It used to be
left out of the offer, so when no free agent had its skill the step could go
nowhere and the run asked a human, mid-process (issue 9: 2 of 24 runs paused
under 8 concurrent returns). Now, with ``on_unavailable: fallback`` (the
default):

- a saturated agent whose skill no free agent offers stays on offer, marked
  unavailable, and a plan step for it is kept (see :func:`queued`,
  :func:`saturated`);
- a step routed to it waits, up to the routing policy's ``max_wait_s``, for
  one of its steps elsewhere (in this process or another sharing the health
  registry) to finish, and then runs (:func:`wait_for_capacity`);
- only when the wait runs out does the supervisor ask a human, as before.

The wait is recorded on the routing decision (``capacity_wait``), so the
trail query and ``switchboard show`` say how long the step queued and why.

An open circuit is not a queue: those agents are still not offered, and
their steps go to a fallback or a human at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from switchboard.agents.card import AgentCard
from switchboard.agents.health import AgentHealth, HealthRegistry
from switchboard.agents.records import SlotWait
from switchboard.graph.state import CapacityWait

if TYPE_CHECKING:
    from switchboard.graph.routing import Router

log = logging.getLogger(__name__)

__all__ = [
    "POLL_S",
    "QUEUE_KEY",
    "Claim",
    "claim_slot",
    "describe",
    "expired_question",
    "handed_back",
    "queued",
    "saturated",
    "slot_wait",
    "stand_in",
    "step_lease",
    "wait_bound",
    "wait_for_capacity",
]

POLL_S = (0.02, 0.25)
"""First and longest pause between two looks at the health registry while a
step waits. Slots are freed by other threads and processes, through the
shared SQLite registry, so there is nothing in-process to wait on; the pause
doubles up to the longest, which keeps an idle wait to a few reads a second."""


def saturated(health: AgentHealth | None, max_concurrency: int) -> bool:
    """Whether an agent is unavailable only because every slot is taken (its circuit is closed)."""
    return health is not None and health.breaker == "closed" and health.in_flight >= max_concurrency


def queued(
    shortlist: Sequence[AgentCard],
    health: Mapping[str, AgentHealth],
    free: Iterable[AgentCard],
) -> tuple[AgentCard, ...]:
    """Saturated agents to keep on offer: some skill of theirs no free agent offers.

    Args:
        shortlist: The agents matched to the task.
        health: Their load and health.
        free: The agents on offer now.
    """
    offered = {skill.id for card in free for skill in card.skills}
    return tuple(
        card
        for card in shortlist
        if saturated(health.get(card.name), card.max_concurrency)
        and any(skill.id not in offered for skill in card.skills)
    )


def stand_in(router: Router, agent: str, skill: str | None) -> bool:
    """Whether another agent of the team with ``skill`` is free now (then nothing need queue).

    Reads the health registry: call it off the event loop.
    """
    if not skill:
        return False
    return any(card.name != agent and router.available(card.name) for card in router.team.offering(skill))


async def wait_for_capacity(router: Router, agent: str, why: str, max_wait_s: float) -> CapacityWait:
    """Wait until ``agent`` has a free slot, or ``max_wait_s`` has passed.

    The health registry is SQLite, so each look runs in a worker thread; in
    between, the task sleeps, leaving the event loop to other runs.
    """
    started = time.monotonic()
    deadline = started + max_wait_s
    pause = POLL_S[0]
    while True:
        free = await asyncio.to_thread(router.available, agent)
        now = time.monotonic()
        if free or now >= deadline:
            return CapacityWait(
                agent=agent, why=why, waited_s=round(now - started, 3), max_wait_s=max_wait_s, expired=not free
            )
        await asyncio.sleep(min(pause, deadline - now))
        pause = min(2 * pause, POLL_S[1])


@dataclass(frozen=True)
class Claim:
    """How a step's claim on a slot of its agent ended."""

    lease: str | None
    """The step's lease, or ``None``: no slot, and the step is handed back without starting."""
    waited_s: float = 0.0
    """Seconds the step waited for a slot; 0 when the first claim took one."""
    why: str | None = None
    """Why the last refused claim was refused (the agent's state then); ``None`` when none was."""


async def claim_slot(health: HealthRegistry, card: AgentCard, max_wait_s: float, step: str | None = None) -> Claim:
    """Take one of ``card``'s ``max_concurrency`` slots for a step, waiting up to ``max_wait_s`` for one.

    The supervisor routes to an agent it saw with a free slot, but so may
    another run, in this process or another, at the same moment. The slot
    itself is taken here, when the step starts, in one write transaction of
    the shared registry, so the limit holds: the step that loses the race
    queues for the next free slot, as a routed step does. The breaker is
    part of the limit: a half-open agent takes one trial step at a time, and
    an agent whose circuit opened since the step was routed takes none. An
    open circuit is no queue, so a routed step is handed back at once for
    another agent; a step with nowhere else to go (``max_wait_s`` infinite)
    waits for the cool-down and a turn at the trial.

    ``step`` names the lease (see :func:`step_lease`): a step run again after
    a pause or after its process died takes back its own slot, whatever the
    limit or the breaker; one whose lease has expired since is under way all
    the same (it may have acted), so it waits for a slot as long as it takes
    rather than be handed back as not run.
    """
    started = time.monotonic()
    deadline = started + max_wait_s  # inf: wait as long as it takes
    pause = POLL_S[0]
    why: str | None = None
    while True:
        lease = await _take(health, card, step)
        now = time.monotonic()
        if lease is not None:
            return Claim(lease, now - started if why else 0.0, why)
        if why is None and step is not None and await health.aholds(step):  # asked once, only when refused
            deadline = float("inf")
        state = await health.ahealth(card.name)
        first, why = why is None, state.why_unavailable(card.max_concurrency) or "its last free slot was just taken"
        if deadline != float("inf") and (now >= deadline or state.breaker == "open"):
            return Claim(None, now - started, why)
        if first:
            bound = "as long as it takes" if deadline == float("inf") else f"up to {max_wait_s:g}s"
            log.info("a step for %s waits for a slot (%s), %s", card.name, why, bound)
        await asyncio.sleep(min(pause, deadline - now))
        pause = min(2 * pause, POLL_S[1])


async def _take(health: HealthRegistry, card: AgentCard, step: str | None) -> str | None:
    """One claim on a slot. Cancelled while it commits, it parks the lease it took rather than hold it.

    The claim's transaction runs in a worker thread, which a cancel does not
    stop: unparked, a slot taken there would count against the agent's limit
    until the lease expired (10 minutes), with no step to release it.
    """
    claiming = asyncio.ensure_future(health.aacquire(card.name, limit=card.max_concurrency, lease=step))
    try:
        return await asyncio.shield(claiming)
    except asyncio.CancelledError:
        lease = await claiming
        if lease is not None:
            await health.aforget(lease)  # holds no capacity; a re-run of the step takes it back
        raise


QUEUE_KEY = "switchboard_queue_for_slot"
"""In a node's ``configurable``: its step has nowhere else to go (a workflow
step), so it waits for a slot as long as it takes instead of handing the
step back after ``max_wait_s``."""


def step_lease(config: Mapping[str, Any], agent: str) -> str | None:
    """The lease id of the node's step on ``agent``; ``None`` outside a thread.

    It is named after the thread and the node's task (its checkpoint
    namespace), which LangGraph derives again, the same, when the step runs
    again from the same checkpoint: after a pause, or after its process died.
    Two steps never share it, even two runs of one workflow in one thread.
    """
    configurable = config.get("configurable") or {}
    thread, task = configurable.get("thread_id"), configurable.get("checkpoint_ns")
    return f"{thread}/{task}/{agent}" if thread and task else None


def wait_bound(config: Mapping[str, Any], max_wait_s: float) -> float:
    """How long the node's step waits for a slot: ``max_wait_s``, or without end when it has nowhere else to go."""
    return float("inf") if (config.get("configurable") or {}).get(QUEUE_KEY) else max_wait_s


def slot_wait(claim: Claim | None) -> SlotWait | None:
    """The step's wait for its slot, for its handoff record; ``None`` when the first claim took one."""
    if claim is None or claim.why is None:
        return None
    return SlotWait(why=claim.why, waited_s=round(claim.waited_s, 3))


def handed_back(card: AgentCard, claim: Claim) -> str:
    """The summary of a step that got no slot: handed back without starting; another agent may take it."""
    return (
        f"{card.name} could not take the step for {claim.waited_s:.1f}s ({claim.why}), so it was handed back "
        "without starting; another agent may take it"
    )


def expired_question(wait: CapacityWait) -> str:
    """The question for a human when the wait ran out."""
    return (
        f"{wait['agent']} stayed unavailable ({wait['why']}) for {wait['max_wait_s']:g}s, the longest a step "
        "waits for capacity, and no other agent can take the step. Should the run go on without it?"
    )


def describe(wait: CapacityWait) -> str:
    """One line for ``show``: how long the step queued and how it ended."""
    if wait["expired"]:
        return f"waited {wait['waited_s']:.1f}s for capacity ({wait['agent']} {wait['why']}); the wait expired"
    return f"waited {wait['waited_s']:.1f}s for capacity ({wait['agent']} {wait['why']})"
