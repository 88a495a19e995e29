"""Reassignment latency: a failed step handed to a fallback vs a plain retry.

When an agent's model call fails, Switchboard's supervisor reassigns the step
to a fallback agent that has the same skill, without asking the routing
model, and records why in the trail. The question is what that costs in wall
time over the cheapest thing LangGraph offers for a failing step: a node with
a ``RetryPolicy`` that simply runs it again.

- Ours: team ``primary`` + ``backup`` (same skill; primary lists backup as its
  fallback). Script: the supervisor routes to primary; primary's model call
  raises; the supervisor reassigns to backup (no model call); backup hands
  off; the supervisor's model finishes; ``finalize`` writes the report.
- Anchor: a one-node LangGraph graph whose node calls the model, which raises
  on the first attempt and answers on the second;
  ``RetryPolicy(max_attempts=2, initial_interval=0, jitter=False)``.

Both use the same scripted model class, the same SQLite checkpointer type
(one file each, in a temporary directory) and fresh threads; graphs are built
before the clock starts. Run it alone with ``python -m benchmarks.reassignment``.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from statistics import mean, median
from typing import Any, TypedDict

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from benchmarks.report import Report, main, ratio
from switchboard.agents.card import AgentCard, Skill, Team
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, fail, finish, handoff, route

RUNS = 30
WARMUP = 3
TASK = "Settle invoice 7 for the Acme account."

_SKILL = Skill(id="invoices", description="Settle invoices.", examples=("Settle invoice 12.",))
TEAM = Team(
    name="bench_reassign",
    agents=(
        AgentCard(
            name="primary",
            description="Settles invoices.",
            skills=(_SKILL,),
            fallbacks={"invoices": ("backup",)},
        ),
        AgentCard(name="backup", description="Second invoice desk.", skills=(_SKILL,)),
    ),
)
POLICY = PolicyFile(name="bench")
Trial = Callable[[int], Awaitable[float]]


class _StepState(TypedDict, total=False):
    task: str
    result: str


def _config(thread: str) -> Any:
    return {"configurable": {"thread_id": thread}}


def ours(saver: BaseCheckpointSaver[Any]) -> Trial:
    """One task through the supervisor graph, with primary failing; returns seconds."""

    async def trial(index: int) -> float:
        model = ScriptedChatModel(
            steps=[route("primary", TASK, skill="invoices"), finish("settled by the backup desk")],
            agents={
                "primary": [fail("primary's provider is down")],
                "backup": [handoff("Invoice 7 settled.")],
            },
        )
        graph = build_graph(team=TEAM, model=model, policy=POLICY, checkpointer=saver)
        config = _config(f"ours-{index}")
        started = time.perf_counter()
        await graph.ainvoke({"task": TASK}, config)
        elapsed = time.perf_counter() - started
        model.assert_complete()
        state = await graph.aget_state(config)
        sources = [e.get("source") for e in state.values["trail"] if e["kind"] == "decision"]
        if state.values.get("outcome") != "resolved" or sources != ["model", "reassign", "model"]:
            raise AssertionError(f"the run did not reassign and finish as scripted: {state.values['trail']}")
        return elapsed

    return trial


def anchor(saver: BaseCheckpointSaver[Any]) -> Trial:
    """The same step as one node retried by LangGraph; returns seconds."""

    async def trial(index: int) -> float:
        model = ScriptedChatModel(steps=[fail("provider is down"), AIMessage("Invoice 7 settled.")])

        async def step(state: _StepState) -> _StepState:
            reply = await model.ainvoke([HumanMessage(state["task"])])
            return {"result": str(reply.content)}

        builder = StateGraph(_StepState)
        retry = RetryPolicy(max_attempts=2, initial_interval=0, jitter=False, retry_on=RuntimeError)
        builder.add_node("step", step, retry_policy=retry)
        builder.add_edge(START, "step")
        builder.add_edge("step", END)
        graph = builder.compile(checkpointer=saver)
        started = time.perf_counter()
        result = await graph.ainvoke({"task": TASK}, _config(f"anchor-{index}"))
        elapsed = time.perf_counter() - started
        model.assert_complete()
        if result.get("result") != "Invoice 7 settled.":
            raise AssertionError(f"the retried step did not succeed: {result}")
        return elapsed

    return trial


async def measure(runs: int = RUNS) -> tuple[list[float], list[float]]:
    """Milliseconds per completed task for ours and the anchor, interleaved."""
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            open_checkpointer(Path(tmp) / "ours.sqlite") as a,
            open_checkpointer(Path(tmp) / "anchor.sqlite") as b,
        ):
            trials = ours(a), anchor(b)
            for index in range(WARMUP):
                for trial in trials:
                    await trial(-1 - index)
            times: tuple[list[float], list[float]] = ([], [])
            for index in range(runs):
                for trial, sink in zip(trials, times, strict=True):
                    sink.append(1000 * await trial(index))
    return times


def run(runs: int = RUNS) -> Report:
    """Time both sides and report mean and median per completed task."""
    started = time.perf_counter()
    # Every run's primary fails by design; its warning (one per run) would bury the tables.
    step_log = logging.getLogger("switchboard.graph.agent_node")
    level = step_log.level
    step_log.setLevel(logging.ERROR)
    try:
        ours_ms, anchor_ms = asyncio.run(measure(runs))
    finally:
        step_log.setLevel(level)
    overhead = median(ours_ms) - median(anchor_ms)
    rows = (
        (
            "mean ms / task",
            f"{mean(ours_ms):.1f}",
            f"{mean(anchor_ms):.1f}",
            ratio(mean(ours_ms), mean(anchor_ms)),
        ),
        (
            "median ms / task",
            f"{median(ours_ms):.1f}",
            f"{median(anchor_ms):.1f}",
            ratio(median(ours_ms), median(anchor_ms)),
        ),
        (
            "min ms / task",
            f"{min(ours_ms):.1f}",
            f"{min(anchor_ms):.1f}",
            ratio(min(ours_ms), min(anchor_ms)),
        ),
        ("model calls / task", "4 (1 failed)", "2 (1 failed)", "2.00x"),
    )
    return Report(
        title=f"Reassignment after a failed model call: wall time per completed task ({runs} runs)",
        columns=("", "ours", "retry", "ratio"),
        rows=rows,
        notes=(
            "ours: supervisor routes -> primary's model raises -> supervisor reassigns to "
            "backup (no model call) -> backup hands off -> supervisor finishes -> finalize.",
            "retry: plain LangGraph, one node calling the model, with RetryPolicy("
            "max_attempts=2, initial_interval=0, jitter=False, retry_on=RuntimeError).",
            f"Both: ScriptedChatModel (no I/O), the SQLite saver of open_checkpointer in a temp dir, {WARMUP} "
            "warm-up runs each, runs interleaved, graphs built before the clock starts.",
            f"Overhead of ours over the plain retry: {overhead:.1f} ms per task (median).",
        ),
        checks={"every run reassigned to the fallback and finished": len(ours_ms) == runs},
        seconds=time.perf_counter() - started,
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
