"""The same task through Switchboard, ``create_supervisor`` and the subagents pattern.

One recorded run of the 6-step return (:mod:`benchmarks.replay`) is replayed
through each stack with the same scripted model class, the same MCP tools
(one retail server, shared), the same checkpointer; the database is restored
before every run, so every stack's tools return the same results. Counted
per task, over every model call:

- LLM calls, and the supervisor's share;
- input tokens (messages, the tool calls in them, and bound tool schemas, by
  the shared tokenizer);
- milliseconds, in memory (``InMemorySaver``) and with SQLite and
  ``durability="sync"`` (``open_checkpointer``, signed as Switchboard opens
  it, for every stack), medians of interleaved runs in a rotating order.

Switchboard runs as deployed: the retail policy (the guard checks every tool
call, guardians check every handoff, the audit log records it all) and its
own telemetry (the handler ``switchboard.runs`` attaches to every run,
writing to a temporary data directory). The anchors run with no policy and a
no-op callback handler, the least any tracer costs them (they have no
tracing of their own). The issue's targets are checked against
``create_supervisor`` (its anchor); the subagents rows are shown with their
ratios, without a target. Run it alone with ``python -m benchmarks.same_task``.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
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
from benchmarks.replay import TASK, Replies, Script, ours, subagents_anchor, supervisor_anchor, waits_for_results
from benchmarks.report import Report, Row, main, ratio
from switchboard.agents.card import Team, load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.checkpoints.signing import checkpoint_key
from switchboard.domains.retail.demo import DB_VARIABLE, build_demo_db
from switchboard.graph import build_graph
from switchboard.monitoring import root_config
from switchboard.run_telemetry import run_telemetry

ROUNDS = 11
"""Timed runs per stack and checkpointer (after one warm-up), interleaved, the order rotating every round."""
KINDS = ("memory", "sqlite")
"""The two checkpointer columns: ``InMemorySaver`` (durability "async") and signed SQLite (durability "sync")."""
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
    timed: tuple[str, ...] = KINDS
    """The checkpointer columns (``KINDS``) it is timed in; a lever row that changes only tokens is timed in none."""
    traced: bool = False
    """Whether its runs carry Switchboard's own telemetry, as ``switchboard.runs`` attaches it; else a no-op hook."""


@dataclass(frozen=True)
class Measured:
    """What one stack cost per task: the counts of one run, and the ms of every timed run."""

    calls: int = 0
    supervisor_calls: int = 0
    tokens: int = 0
    supervisor_tokens: int = 0
    ms: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Per column of ``KINDS`` the stack is timed in, the timed runs' milliseconds."""

    def median_ms(self, kind: str) -> float | None:
        """The median ms in a column, or ``None`` when not timed there."""
        samples = self.ms.get(kind)
        return median(samples) if samples else None


def _ours(team: Team, toolbox: Toolbox, replies: Replies, saver: Any) -> Any:
    return build_graph(team=team, model=replies.supervisor, toolbox=toolbox, checkpointer=saver)


def _ours_sync_turns(team: Team, toolbox: Toolbox, replies: Replies, saver: Any) -> Any:
    """Ours with every agent turn's checkpoint awaited too (``sync_turns``), as the anchors' every step is."""
    return build_graph(team=team, model=replies.supervisor, toolbox=toolbox, checkpointer=saver, sync_turns=True)


def _ours_whole_card(team: Team, toolbox: Toolbox, replies: Replies, saver: Any) -> Any:
    """Ours with every tool of the card bound on every step, as the anchors bind them."""
    return _ours(whole_card(team), toolbox, replies, saver)


def whole_card(team: Team) -> Team:
    """The team with no tools (and no lookups) listed on any skill.

    A step is shown its skill's tools, or the whole card's when the skill
    lists none (``AgentCard.tools_of``): this turns the skill-narrowing lever
    off without touching the product, so its row shows what the lever saves.
    """
    cards = tuple(
        card.model_copy(
            update={"skills": tuple(skill.model_copy(update={"tools": (), "lookups": ()}) for skill in card.skills)}
        )
        for card in team.agents
    )
    return team.model_copy(update={"agents": cards})


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
    Stack("Switchboard", ours, _ours, _task, traced=True),
    Stack("  every agent turn synced (sync_turns=True)", ours, _ours_sync_turns, _task, ("sqlite",), traced=True),
    Stack("  whole card's tools bound on every step", ours, _ours_whole_card, _task, ()),
    Stack("  handoff in its own turn", lambda s: ours(s, separate_handoff=True), _ours, _task, ()),
    Stack("  no plan (a model call per step)", lambda s: ours(s, plan=False), _ours, _task, ()),
    Stack("create_supervisor, as shipped", supervisor_anchor, _supervisor(cards=False), _chat),
    Stack("create_supervisor + descriptions", supervisor_anchor, _supervisor(cards=True), _chat, ()),
    Stack("subagents (create_agent)", subagents_anchor, _subagents, _chat),
)
OURS, SYNC_TURNS, ANCHOR, SUBAGENTS = (STACKS[i].name for i in (0, 1, 5, 7))


@asynccontextmanager
async def _callbacks(stack: Stack, thread_id: str, task: str) -> AsyncIterator[dict[str, Any]]:
    """A run's callbacks: Switchboard's telemetry and root-run labels as ``switchboard.runs`` attaches them, or a no-op.

    The telemetry is flushed as the block ends, inside the clock, as
    ``start_run`` does before it returns.

    Raises:
        RuntimeError: Telemetry is off, so ours would run without what it pays for as deployed.
    """
    if not stack.traced:
        yield {"callbacks": [_Hook()]}
        return
    async with run_telemetry() as handlers:
        if not handlers:
            raise RuntimeError("Switchboard's telemetry is off in this environment; the benchmark needs it on")
        yield {**root_config(thread_id, task, resume=False), "callbacks": handlers}


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
        called = {c["tool"] for h in values["trail"] if h["kind"] == "handoff" for c in h["tool_calls"]}
        described = {name: tool.description for name in called if (tool := self.toolbox.get(name)) is not None}
        return Script.from_trail(TASK, values["trail"], described)

    def build(self, stack: Stack, script: Script, saver: Any) -> tuple[Any, Replies]:
        """The stack's graph over its scripted models, built once and run many times, as deployed."""
        replies = stack.replies(script)
        return stack.build(self.team, self.toolbox, replies, saver), replies

    async def run(self, graph: Any, replies: Replies, stack: Stack, script: Script, durability: str) -> float:
        """One timed run; the models are rewound and the database restored before the clock starts."""
        for model in replies.models:
            model.rewind()
        self.restore()
        thread_id = uuid.uuid4().hex
        started = time.perf_counter()
        async with _callbacks(stack, thread_id, script.task) as labels:
            config: Any = {**labels, "configurable": {"thread_id": thread_id}}
            await graph.ainvoke(stack.payload(script.task), config, durability=durability)
        elapsed = (time.perf_counter() - started) * 1000
        for model in replies.models:
            model.assert_complete()
        return elapsed


def _count(replies: Replies) -> Measured:
    """Calls and input tokens of one run, every model's every call; the supervisor's share apart."""
    calls = supervisor_calls = tokens = supervisor_tokens = 0
    for model in replies.models:
        for request, call in zip(model.requests, model.calls, strict=True):
            supervisor = model is replies.supervisor and call.agent is None
            calls += 1
            tokens += request.tokens
            supervisor_calls += supervisor
            supervisor_tokens += request.tokens if supervisor else 0
    return Measured(calls, supervisor_calls, tokens, supervisor_tokens)


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
                    results[stack.name] = _count(replies)
                timings = await _time(bench, script, rounds, home)
                results = {name: replace(m, ms=timings.get(name, {})) for name, m in results.items()}
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return script, results


def rotated(stacks: Sequence[Stack], round_: int) -> list[Stack]:
    """The stacks in this round's order: each round starts one further along, so none always runs first."""
    shift = round_ % len(stacks) if stacks else 0
    return [*stacks[shift:], *stacks[:shift]]


async def _time(bench: _Bench, script: Script, rounds: int, home: Path) -> dict[str, dict[str, tuple[float, ...]]]:
    """Per stack and column, the ms of ``rounds`` timed runs, after one warm-up round."""
    async with AsyncExitStack() as savers:
        built: dict[str, dict[str, tuple[Any, Replies]]] = {kind: {} for kind in KINDS}
        key = checkpoint_key(home)  # signed, as every store Switchboard opens; the same for every stack
        for index, stack in enumerate(STACKS):
            if "memory" in stack.timed:
                built["memory"][stack.name] = bench.build(stack, script, InMemorySaver())
            if "sqlite" in stack.timed:
                saver = await savers.enter_async_context(open_checkpointer(home / f"cp-{index}.sqlite", key=key))
                built["sqlite"][stack.name] = bench.build(stack, script, saver)
        samples: dict[str, dict[str, list[float]]] = {}
        for round_ in range(rounds + 1):  # the first round warms up
            for kind in KINDS:
                for stack in rotated([s for s in STACKS if kind in s.timed], round_):
                    graph, replies = built[kind][stack.name]
                    ms = await bench.run(graph, replies, stack, script, "sync" if kind == "sqlite" else "async")
                    if round_:
                        samples.setdefault(stack.name, {}).setdefault(kind, []).append(ms)
    return {name: {kind: tuple(got) for kind, got in by_kind.items()} for name, by_kind in samples.items()}


def run(rounds: int = ROUNDS) -> Report:
    """Measure and report, with the issue's targets as checks."""
    started = time.perf_counter()
    script, results = asyncio.run(measure(rounds))
    return report(script, results, time.perf_counter() - started, rounds)


def _ms(measured: Measured, kind: str) -> float:
    return measured.median_ms(kind) or 0.0


def _cell(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _vs(value: float | None, anchor: float | None) -> str:
    return "-" if value is None or not anchor else ratio(value, anchor)


def summary_rows(results: dict[str, Measured]) -> tuple[Row, ...]:
    """The headline rows: the targets against ``create_supervisor``; subagents and levers beside them, untargeted."""
    us, sup, sub = results[OURS], results[ANCHOR], results[SUBAGENTS]
    cards = results["create_supervisor + descriptions"]
    sync_turns = results[SYNC_TURNS]
    return (
        _row("input tokens per task", us.tokens, sup.tokens, "create_supervisor", 0.4),
        _row("input tokens per task", us.tokens, cards.tokens, "create_supervisor + descriptions"),
        _row("input tokens per task", us.tokens, sub.tokens, "subagents (no target)"),
        _row("supervisor input tokens per task", us.supervisor_tokens, sup.supervisor_tokens, "create_supervisor"),
        _row("LLM calls per task", us.calls, sup.calls, "create_supervisor", 0.7),
        _row("LLM calls per task", us.calls, sub.calls, "subagents (no target)"),
        Row(
            "supervisor LLM calls per task",
            str(us.supervisor_calls),
            str(sup.supervisor_calls),
            "create_supervisor",
            ratio(us.supervisor_calls, sup.supervisor_calls),
            "<= 2",
            us.supervisor_calls <= 2,
        ),
        _row("ms per task, in memory", _ms(us, "memory"), _ms(sup, "memory"), "create_supervisor", 0.5),
        _row("ms per task, in memory", _ms(us, "memory"), _ms(sub, "memory"), "subagents (no target)"),
        _row("ms per task, SQLite sync", _ms(us, "sqlite"), _ms(sup, "sqlite"), "create_supervisor", 0.5),
        _row("ms per task, SQLite sync", _ms(us, "sqlite"), _ms(sub, "sqlite"), "subagents (no target)"),
        _row(
            "ms per task, SQLite sync, sync_turns=True",
            _ms(sync_turns, "sqlite"),
            _ms(sup, "sqlite"),
            "create_supervisor (no target)",
        ),
    )


def slower_than_subagents(results: dict[str, Measured]) -> str:
    """A note saying in which columns ours is slower than the subagents pattern, with the ratios; empty if none."""
    us, sub = results[OURS], results[SUBAGENTS]
    slower = [
        f"{label} {ratio(_ms(us, kind), _ms(sub, kind))}"
        for kind, label in (("memory", "in memory"), ("sqlite", "SQLite sync"))
        if _ms(us, kind) > _ms(sub, kind) > 0
    ]
    if not slower:
        return "Switchboard is not slower than the subagents pattern in ms in this run."
    return (
        f"Switchboard is SLOWER than the subagents pattern in ms: {', '.join(slower)} (no target; shown as measured)."
    )


def detail_rows(results: dict[str, Measured]) -> tuple[tuple[str, ...], ...]:
    """One row per stack: counts, ms per column, and each against ``create_supervisor``."""
    sup = results[ANCHOR]
    return tuple(
        (
            name,
            str(m.calls),
            str(m.supervisor_calls),
            f"{m.tokens:,}",
            ratio(m.tokens, sup.tokens),
            f"{m.supervisor_tokens:,}",
            _cell(m.median_ms("memory")),
            _vs(m.median_ms("memory"), sup.median_ms("memory")),
            _cell(m.median_ms("sqlite")),
            _vs(m.median_ms("sqlite"), sup.median_ms("sqlite")),
        )
        for name, m in results.items()
    )


def report(script: Script, results: dict[str, Measured], seconds: float, rounds: int = ROUNDS) -> Report:
    """The headline rows (ours against each anchor) and the detail table."""
    path = " -> ".join(step.agent for step in script.steps)
    waits = waits_for_results(script)
    alone = "; ".join(f"step {i + 1} ({script.steps[i].agent}: {', '.join(values)})" for i, values in waits.items())
    return Report(
        title="The same 6-step return through each stack, per task",
        columns=(
            "stack",
            "LLM calls",
            "supervisor",
            "input tokens",
            "vs c_s",
            "supervisor tokens",
            "ms memory",
            "vs c_s",
            "ms SQLite",
            "vs c_s",
        ),
        rows=detail_rows(results),
        notes=(
            f"One recorded run of the embedded engine ({path}; {script.tool_calls} tool calls) "
            "replayed through each stack by the same ReplayChatModel class (benchmarks/replay.py).",
            "Targets (issue 8) are against create_supervisor, as shipped ('vs c_s'); the subagents pattern "
            "(create_agent, agents as tools) is the second comparison, shown without a target. "
            + slower_than_subagents(results),
            "Same MCP retail server and tools, database restored before every run, same checkpointer per column. "
            "Switchboard runs as deployed: the retail policy and its own telemetry (the handler switchboard.runs "
            "attaches, writing to a temp data dir, flushed inside the clock). The anchors run no policy and carry "
            "a no-op callback handler, as they have no tracing of their own.",
            f"Tokens: {TOKENIZER}; every model call counted, supervisor and agents.",
            "Our agents put handoff in the turn of their last tool call only when the findings need nothing "
            "that call returned; by the recording, these steps hand off in a turn of their own, since their "
            f"facts hold values only the last call's result gave: {alone or 'none'}.",
            f"ms: median of {rounds} runs per cell after one warm-up round; each round runs the timed stacks in an "
            "order rotated by one; each graph built once per checkpointer (as deployed), its models rewound.",
            "ms SQLite: durability='sync' for every stack. Switchboard's default (the target's row, as deployed) "
            "checkpoints each supervisor step synchronously and an agent's own turns in the background "
            "(graph/agent_node.py); the 'sync_turns=True' row awaits every agent turn's checkpoint too, as the "
            "anchors await every step's.",
            "Indented rows: ours without one lever each. 'whole card's tools' binds every tool of the card on "
            "every step (the anchors' binding), instead of the step's skill's tools only.",
        ),
        seconds=seconds,
        summary=summary_rows(results),
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
