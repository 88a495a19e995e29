"""The same task through Switchboard, ``create_supervisor`` and the subagents pattern.

One recorded run of the 6-step return (:mod:`benchmarks.replay`) is replayed
through each stack with the same scripted model class, the same MCP tools
(one retail server, shared), the same checkpointer and the same callback
handler; the database is restored before every run, so every stack's tools
return the same results. Counted per task, over every model call:

- LLM calls, and the supervisor's share;
- input tokens (messages plus bound tool schemas, by the shared tokenizer);
- milliseconds, in memory (``InMemorySaver``) and with SQLite and
  ``durability="sync"`` (``open_checkpointer``, signed as Switchboard opens
  it, for every stack), medians of interleaved runs.

Switchboard runs with the retail policy (the guard checks every tool call,
guardians check every handoff, the audit log records it all); the anchors
run with no policy. Run it alone with ``python -m benchmarks.same_task``.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from langchain.agents import create_agent
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import HumanMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import create_react_agent
from langgraph_supervisor import create_supervisor

from benchmarks.recording import TOKENIZER
from benchmarks.replay import TASK, Replies, Script, ours, subagents_anchor, supervisor_anchor
from benchmarks.report import Report, Row, main, ratio
from switchboard.agents.card import Team, load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.checkpoints.signing import checkpoint_key
from switchboard.domains.retail.demo import DB_VARIABLE, build_demo_db
from switchboard.graph import build_graph

ROUNDS = 7
"""Timed runs per stack and checkpointer (after one warm-up), interleaved."""
SUPERVISOR_PROMPT = (
    "You are a team supervisor managing the agents below. Hand each task to the agent best "
    "suited to it with its transfer tool; answer yourself only when the task is done.\n"
)
SUBAGENTS_PROMPT = (
    "You are a supervisor. Delegate each step of the user's request to the agent tool best suited "
    "to it, one at a time; answer yourself only when the task is done."
)


class _Hook(AsyncCallbackHandler):
    """A no-op callback handler: what any tracer costs every wrapper (run ids, a callback manager)."""


@dataclass(frozen=True)
class Stack:
    """One way to run the task."""

    name: str
    replies: Callable[[Script], Replies]
    build: Callable[[Team, Toolbox, Replies, Any], Any]
    payload: Callable[[str], dict[str, Any]]
    timed: bool = True


@dataclass
class Measured:
    """What one stack cost per task."""

    calls: int = 0
    supervisor_calls: int = 0
    tokens: int = 0
    supervisor_tokens: int = 0
    memory_ms: list[float] | None = None
    sqlite_ms: list[float] | None = None


def _ours(team: Team, toolbox: Toolbox, replies: Replies, saver: Any) -> Any:
    return build_graph(team=team, model=replies.supervisor, toolbox=toolbox, checkpointer=saver)


def _react_agents(team: Team, toolbox: Toolbox, replies: Replies) -> list[Any]:
    from benchmarks.recording import ReplayChatModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # create_react_agent is deprecated in LangGraph 1.x; the anchor uses it
        return [
            create_react_agent(
                model=replies.agents.get(card.name) or ReplayChatModel(steps=[]),
                tools=toolbox.tools_for(card),
                prompt=card.description,
                name=card.name,
            )
            for card in team.agents
        ]


def _supervisor(cards: bool) -> Callable[[Team, Toolbox, Replies, Any], Any]:
    def build(team: Team, toolbox: Toolbox, replies: Replies, saver: Any) -> Any:
        agents = _react_agents(team, toolbox, replies)
        lines = "\n".join(f"- {card.name}: {' '.join(card.description.split())}" for card in team.agents)
        prompt = f"{SUPERVISOR_PROMPT}{lines}" if cards else None
        return create_supervisor(agents, model=replies.supervisor, prompt=prompt).compile(checkpointer=saver)

    return build


def _subagents(team: Team, toolbox: Toolbox, replies: Replies, saver: Any) -> Any:
    from benchmarks.recording import ReplayChatModel

    tools: list[BaseTool] = []
    for card in team.agents:
        agent = create_agent(
            model=replies.agents.get(card.name) or ReplayChatModel(steps=[]),
            tools=toolbox.tools_for(card),
            system_prompt=card.description,
            name=card.name,
        )
        tools.append(_as_tool(card.name, " ".join(card.description.split()), agent))
    return create_agent(model=replies.supervisor, tools=tools, system_prompt=SUBAGENTS_PROMPT, checkpointer=saver)


def _as_tool(name: str, description: str, agent: Any) -> BaseTool:
    async def ask(request: str) -> str:
        result = await agent.ainvoke({"messages": [HumanMessage(request)]})
        return str(result["messages"][-1].content)

    return StructuredTool.from_function(coroutine=ask, name=name, description=description)


def _task(text: str) -> dict[str, Any]:
    return {"task": text}


def _chat(text: str) -> dict[str, Any]:
    return {"messages": [HumanMessage(text)]}


STACKS = (
    Stack("Switchboard", ours, _ours, _task),
    Stack("  handoff in its own turn", lambda s: ours(s, separate_handoff=True), _ours, _task, timed=False),
    Stack("  no plan (a model call per step)", lambda s: ours(s, plan=False), _ours, _task, timed=False),
    Stack("create_supervisor, as shipped", supervisor_anchor, _supervisor(cards=False), _chat),
    Stack("create_supervisor + descriptions", supervisor_anchor, _supervisor(cards=True), _chat, timed=False),
    Stack("subagents (create_agent)", subagents_anchor, _subagents, _chat),
)


class _Bench:
    """The shared retail server, its pristine database, and one run of a stack."""

    def __init__(self, team: Team, toolbox: Toolbox, db: Path, pristine: Path) -> None:
        self.team, self.toolbox, self.db, self.pristine = team, toolbox, db, pristine

    def restore(self) -> None:
        """Put the database back as it was, through SQLite (the server keeps its connection)."""
        with sqlite3.connect(self.pristine) as source, sqlite3.connect(self.db) as target:
            source.backup(target)

    async def record(self) -> Script:
        """Run the task once with the embedded engine and read the run back."""
        graph = build_graph(team=self.team, toolbox=self.toolbox, checkpointer=InMemorySaver())
        config: Any = {"configurable": {"thread_id": "record"}}
        await graph.ainvoke({"task": TASK}, config)
        values = (await graph.aget_state(config)).values
        self.restore()
        return Script.from_trail(TASK, values["trail"])

    def build(self, stack: Stack, script: Script, saver: Any) -> tuple[Any, Replies]:
        """The stack's graph over its scripted models, built once and run many times, as deployed."""
        replies = stack.replies(script)
        return stack.build(self.team, self.toolbox, replies, saver), replies

    async def run(self, graph: Any, replies: Replies, stack: Stack, script: Script, durability: str) -> float:
        """One timed run; the models are rewound and the database restored before the clock starts."""
        for model in replies.models:
            model.rewind()
        self.restore()
        config: Any = {"configurable": {"thread_id": uuid.uuid4().hex}, "callbacks": [_Hook()]}
        started = time.perf_counter()
        await graph.ainvoke(stack.payload(script.task), config, durability=durability)
        elapsed = (time.perf_counter() - started) * 1000
        for model in replies.models:
            model.assert_complete()
        return elapsed


def _count(stack: Stack, replies: Replies) -> Measured:
    measured = Measured()
    for model in replies.models:
        for request, call in zip(model.requests, model.calls, strict=True):
            supervisor = model is replies.supervisor and call.agent is None
            measured.calls += 1
            measured.tokens += request.tokens
            measured.supervisor_calls += supervisor
            measured.supervisor_tokens += request.tokens if supervisor else 0
    return measured


async def measure(rounds: int = ROUNDS) -> tuple[Script, dict[str, Measured]]:
    """Record the run, count every stack once, and time the timed stacks in interleaved rounds."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        saved = {key: os.environ.get(key) for key in ("SWITCHBOARD_HOME", DB_VARIABLE)}
        os.environ["SWITCHBOARD_HOME"] = str(home)
        try:
            pristine = build_demo_db(home / "pristine.sqlite")
            db = home / "retail.sqlite"
            db.write_bytes(pristine.read_bytes())
            os.environ[DB_VARIABLE] = str(db)
            team = load_team()
            async with Toolbox.for_team(team) as toolbox:
                bench = _Bench(team, toolbox, db, pristine)
                script = await bench.record()
                results: dict[str, Measured] = {}
                for stack in STACKS:
                    graph, replies = bench.build(stack, script, InMemorySaver())
                    await bench.run(graph, replies, stack, script, "async")
                    results[stack.name] = _count(stack, replies)
                await _time(bench, script, results, rounds, home)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return script, results


async def _time(bench: _Bench, script: Script, results: dict[str, Measured], rounds: int, home: Path) -> None:
    timed = [stack for stack in STACKS if stack.timed]
    async with AsyncExitStack() as stack_of_savers:
        memory = {s.name: bench.build(s, script, InMemorySaver()) for s in timed}
        sqlite: dict[str, tuple[Any, Replies]] = {}
        key = checkpoint_key(home)  # signed, as every store Switchboard opens; the same for every stack
        for index, s in enumerate(timed):
            saver = await stack_of_savers.enter_async_context(open_checkpointer(home / f"cp-{index}.sqlite", key=key))
            sqlite[s.name] = bench.build(s, script, saver)
        for s in timed:
            results[s.name].memory_ms, results[s.name].sqlite_ms = [], []
        for round_ in range(rounds + 1):  # the first round warms up
            for kind, built in (("memory", memory), ("sqlite", sqlite)):
                for s in timed:
                    graph, replies = built[s.name]
                    ms = await bench.run(graph, replies, s, script, "sync" if kind == "sqlite" else "async")
                    samples = results[s.name].memory_ms if kind == "memory" else results[s.name].sqlite_ms
                    if round_ and samples is not None:
                        samples.append(ms)


def run(rounds: int = ROUNDS) -> Report:
    """Measure and report, with the issue's targets as checks."""
    started = time.perf_counter()
    script, results = asyncio.run(measure(rounds))
    return report(script, results, time.perf_counter() - started, rounds)


def _ms(samples: list[float] | None) -> float:
    return median(samples) if samples else 0.0


def report(script: Script, results: dict[str, Measured], seconds: float, rounds: int = ROUNDS) -> Report:
    """The headline rows (ours against each anchor) and the detail table."""
    us = results["Switchboard"]
    sup = results["create_supervisor, as shipped"]
    cards = results["create_supervisor + descriptions"]
    sub = results["subagents (create_agent)"]
    path = " -> ".join(step.agent for step in script.steps)
    summary = (
        _row("input tokens per task", us.tokens, sup.tokens, "create_supervisor", 0.4),
        _row("input tokens per task", us.tokens, cards.tokens, "create_supervisor + descriptions"),
        _row("input tokens per task", us.tokens, sub.tokens, "subagents"),
        _row("supervisor input tokens per task", us.supervisor_tokens, sup.supervisor_tokens, "create_supervisor"),
        _row(
            "supervisor input tokens per task",
            us.supervisor_tokens,
            cards.supervisor_tokens,
            "create_supervisor + descriptions",
        ),
        _row("LLM calls per task", us.calls, sup.calls, "create_supervisor", 0.7),
        _row("LLM calls per task", us.calls, sub.calls, "subagents"),
        Row(
            "supervisor LLM calls per task",
            str(us.supervisor_calls),
            str(sup.supervisor_calls),
            "create_supervisor",
            ratio(us.supervisor_calls, sup.supervisor_calls),
            "<= 2",
            us.supervisor_calls <= 2,
        ),
        _row("ms per task, in memory", _ms(us.memory_ms), _ms(sup.memory_ms), "create_supervisor", 0.5),
        _row("ms per task, in memory", _ms(us.memory_ms), _ms(sub.memory_ms), "subagents"),
        _row("ms per task, SQLite sync", _ms(us.sqlite_ms), _ms(sup.sqlite_ms), "create_supervisor", 0.5),
        _row("ms per task, SQLite sync", _ms(us.sqlite_ms), _ms(sub.sqlite_ms), "subagents"),
    )
    rows = tuple(
        (
            name,
            str(m.calls),
            str(m.supervisor_calls),
            f"{m.tokens:,}",
            f"{m.supervisor_tokens:,}",
            f"{_ms(m.memory_ms):.0f}" if m.memory_ms else "-",
            f"{_ms(m.sqlite_ms):.0f}" if m.sqlite_ms else "-",
        )
        for name, m in results.items()
    )
    return Report(
        title="The same 6-step return through each stack, per task",
        columns=("stack", "LLM calls", "supervisor", "input tokens", "supervisor tokens", "ms memory", "ms SQLite"),
        rows=rows,
        notes=(
            f"One recorded run of the embedded engine ({path}; {script.tool_calls} tool calls) "
            "replayed through each stack by the same ReplayChatModel class (benchmarks/replay.py).",
            "Same MCP retail server and tools, database restored before every run, same checkpointer "
            "per column, a no-op callback handler on every run; only Switchboard runs a policy.",
            f"Tokens: {TOKENIZER}; every model call counted, supervisor and agents.",
            f"ms: median of {rounds} interleaved runs after one warm-up; each graph built once per checkpointer "
            "(as deployed) and its scripted models rewound between runs.",
            "The two indented Switchboard rows replay the same run without one lever each.",
        ),
        seconds=seconds,
        summary=summary,
    )


def _row(figure: str, ours_value: float, anchor: float, versus: str, target: float | None = None) -> Row:
    share = ours_value / anchor if anchor else float("inf")
    return Row(
        figure,
        f"{ours_value:,.0f}",
        f"{anchor:,.0f}",
        versus,
        ratio(ours_value, anchor),
        f"<= {target}x" if target is not None else "",
        share <= target if target is not None else None,
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
