"""Scripted step runners for workflow tests.

A ``Desk`` stands in for the agents of a workflow at the step-runner
interface (the model-free seam the workflow defines): it hands back scripted
findings, records every start and end in order, and lets a test hold a step
on an ``asyncio`` event, so concurrency is proven by events, never by sleeps.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig

from switchboard.agents.records import HandoffEvent, ToolCallRecord
from switchboard.graph.workflows import StepOutcome, StepRequest, StepRunner, Workflow

Hold = Callable[[StepRequest], Awaitable[None]]
HOLD_TIMEOUT = 10.0
"""Longest a held step waits for another step's event before the test fails."""


@dataclass
class Desk:
    """Scripted agents: findings per step, and a log of what ran."""

    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Step id to the facts its handoff carries."""
    status: dict[str, str] = field(default_factory=dict)
    """Step id to a status other than ``done``."""
    calls: dict[str, list[ToolCallRecord]] = field(default_factory=dict)
    """Step id to the tool calls its handoff reports."""
    raises: dict[str, BaseException] = field(default_factory=dict)
    """Step id to an exception its runner raises (once, then it is removed)."""
    holds: dict[str, Hold] = field(default_factory=dict)
    """Step id to a coroutine awaited after the step starts, before it ends."""
    log: list[tuple[str, str]] = field(default_factory=list)
    """("start" | "end", step id), in the order they happened."""
    requests: list[StepRequest] = field(default_factory=list)
    started: dict[str, asyncio.Event] = field(default_factory=dict)
    ended: dict[str, asyncio.Event] = field(default_factory=dict)

    def event(self, kind: str, step: str) -> asyncio.Event:
        """The event set when ``step`` starts or ends."""
        table = self.started if kind == "start" else self.ended
        return table.setdefault(step, asyncio.Event())

    async def run(self, request: StepRequest, config: RunnableConfig) -> StepOutcome:
        """The step runner every agent name maps to."""
        self.requests.append(request)
        self.log.append(("start", request.step))
        self.event("start", request.step).set()
        if request.step in self.holds:
            await self.holds[request.step](request)
        if request.step in self.raises:
            raise self.raises.pop(request.step)
        self.log.append(("end", request.step))
        self.event("end", request.step).set()
        return StepOutcome(self.handoff(request))

    def handoff(self, request: StepRequest) -> HandoffEvent:
        """The scripted findings for a request."""
        status = self.status.get(request.step, "done")
        return HandoffEvent(
            kind="handoff",
            agent=request.agent,
            assignment=request.assignment,
            skill=request.skill,
            instruction=request.instruction,
            status=status,  # type: ignore[typeddict-item]
            retryable=False,
            summary=f"{request.step} {status}",
            facts=dict(self.facts.get(request.step, {})),
            reasoning="scripted",
            confidence=1.0,
            tool_calls=list(self.calls.get(request.step, [])),
        )

    def runners(self, agents: Iterable[str]) -> Mapping[str, StepRunner]:
        """The same scripted runner for every agent."""
        return {name: self.run for name in agents}

    def at(self, kind: str, step: str) -> int:
        """Position of an event in the log; fails if it never happened."""
        return self.log.index((kind, step))

    @property
    def ran(self) -> list[str]:
        """Steps started, in order (a step started twice appears twice)."""
        return [step for kind, step in self.log if kind == "start"]

    @property
    def counts(self) -> Counter[str]:
        """How many times each step started."""
        return Counter(self.ran)


def wait_for(desk: Desk, kind: str, step: str) -> Hold:
    """A hold that releases once ``step`` has started or ended."""

    async def hold(request: StepRequest) -> None:
        await asyncio.wait_for(desk.event(kind, step).wait(), HOLD_TIMEOUT)

    return hold


def assert_dependencies_respected(workflow: Workflow, desk: Desk) -> None:
    """Every step that ran started after each of its needs ended."""
    for step in workflow.steps:
        if ("start", step.id) not in desk.log:
            continue
        for need in step.needs:
            assert desk.at("end", need) < desk.at("start", step.id), f"{step.id} started before {need} ended"
