"""Routing prompt tokens per task as the catalogue grows: Switchboard vs langgraph-supervisor.

The question is what routing costs in prompt tokens over a whole task, every
supervisor call counted, with 5, 20, 50 and 500 agents. Both sides get the
same synthetic cards and the same tasks, and every model is the same
:class:`ReplayChatModel`, so what is counted is exactly what each framework
sends its supervisor: messages plus bound tool schemas, call after call.

- A task is :data:`STEPS` synthetic tasks of the catalogue
  (``agents.synthetic.synthetic_task``) in one request, each written for one
  agent: a three-step task, each step for the agent its part was written for.
- Switchboard: the graph ``build_graph`` builds (idle health registry, empty
  policy). Its supervisor routes the first step with the rest as its plan,
  each agent hands off, and it is asked once more, to finish: two calls. Its
  prompt carries the capability shortlist (k = 8 plus fallbacks); when the
  first step's agent is not on it, the step goes to the shortlist's first
  card (the model can only choose what it is offered).
- langgraph-supervisor: ``create_supervisor`` over one ``create_react_agent``
  per card (named after the card, the card description as its prompt). It
  binds one ``transfer_to_<agent>`` tool per agent and transfers once per
  step, then answers: four calls, each carrying the conversation so far (the
  agents' answers included). Its default prompt says nothing about what agents
  do, so it is measured twice: as shipped, and with a system prompt listing
  every card's name and description (what a user adds for it to route by
  capability).

Run it alone with ``python -m benchmarks.routing_prompt``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import mean
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import create_react_agent
from langgraph_supervisor import create_supervisor

from benchmarks.recording import TOKENIZER, ReplayChatModel
from benchmarks.report import Report, Row, main, ratio
from switchboard.agents.card import Team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.synthetic import synthetic_task, synthetic_team
from switchboard.graph import build_graph
from switchboard.graph.routing import Router
from switchboard.policies import PolicyFile
from switchboard.testing import finish, handoff, route

SIZES = (5, 20, 50, 500)
HEADLINE = (5, 50, 500)
"""The sizes the headline table shows (the issue's)."""
TASKS = 10
STEPS = 3
MAX_GROWTH = 1.5
"""Our tokens per task at 500 agents may be at most this many times those at 20."""

_ANCHOR_PROMPT = (
    "You are a team supervisor managing the agents below. Hand each task to the agent best "
    "suited to it with its transfer tool; answer yourself only when the task is done.\n"
)
_OPENINGS = ("First: ", "Then: ", "Finally: ")


@dataclass(frozen=True)
class Task:
    """One multi-step request and the agent each of its parts was written for."""

    text: str
    parts: tuple[str, ...]
    agents: tuple[str, ...]


@dataclass(frozen=True)
class Measured:
    """Mean supervisor calls and prompt tokens per task, one stack."""

    calls: float
    tokens: float


@dataclass(frozen=True)
class Size:
    """One catalogue's figures."""

    agents: int
    shown: float
    """Mean number of cards in our first routing prompt."""
    ours: Measured
    first: float
    """Our first routing call alone, mean tokens (the figure this benchmark used to report)."""
    anchor: Measured
    anchor_cards: Measured


def tasks_for(team: Team, count: int = TASKS) -> list[Task]:
    """``count`` tasks of :data:`STEPS` parts each, the same for every stack."""
    found = []
    for index in range(count):
        written = [synthetic_task(team, index * STEPS + part) for part in range(STEPS)]
        parts = tuple(text for text, _ in written)
        text = " ".join(f"{opening}{part}" for opening, part in zip(_OPENINGS, parts, strict=False))
        found.append(Task(text, parts, tuple(agent for _, agent in written)))
    return found


def _supervisor_tokens(model: ReplayChatModel) -> tuple[int, list[int]]:
    """Supervisor calls (those made for no agent) and the tokens of each."""
    tokens = [r.tokens for r, c in zip(model.requests, model.calls, strict=True) if c.agent is None]
    return len(tokens), tokens


async def ours(team: Team, tasks: Sequence[Task]) -> tuple[Measured, float, float]:
    """Our supervisor over each task: calls and tokens per task, cards shown, first call's tokens."""
    health = HealthRegistry()
    probe = Router(team, ReplayChatModel(steps=[]), PolicyFile(name="bench"), health)
    model = ReplayChatModel(steps=[])
    graph = build_graph(team=team, model=model, policy=PolicyFile(name="bench"), checkpointer=InMemorySaver())
    calls, totals, firsts, shown = [], [], [], []
    try:
        for task in tasks:
            offer = probe.offer(task.text)
            shown.append(len(offer.cards))
            first = task.agents[0] if task.agents[0] in offer.names else offer.names[0]
            agents = (first, *task.agents[1:])
            plan = [(agent, None, part) for agent, part in zip(agents[1:], task.parts[1:], strict=True)]
            lanes: dict[str, list[Any]] = {}
            for step, agent in enumerate(agents):
                lanes.setdefault(agent, []).append(handoff(f"Step {step + 1} is done.", ref=f"R-{step + 1}"))
            model.rewind()  # the graph is built once; each task plays its own script through the same model
            model.steps, model.agents = [route(first, task.parts[0], plan=plan), finish()], lanes
            await graph.ainvoke({"task": task.text}, {"configurable": {"thread_id": uuid.uuid4().hex}})
            model.assert_complete()
            count, tokens = _supervisor_tokens(model)
            calls.append(count)
            totals.append(sum(tokens))
            firsts.append(tokens[0])
    finally:
        health.close()
    return Measured(mean(calls), mean(totals)), mean(shown), mean(firsts)


def anchor(team: Team, tasks: Sequence[Task], *, cards: bool) -> Measured:
    """``create_supervisor`` over each task: supervisor calls and tokens per task."""
    worker = ReplayChatModel(steps=[])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # create_react_agent is deprecated in LangGraph 1.x; the anchor uses it
        agents: list[Any] = [
            create_react_agent(model=worker, tools=[], prompt=card.description, name=card.name) for card in team.agents
        ]
    model = ReplayChatModel(steps=[])
    prompt = None
    if cards:
        lines = "\n".join(f"- {card.name}: {' '.join(card.description.split())}" for card in team.agents)
        prompt = f"{_ANCHOR_PROMPT}{lines}"
    app = create_supervisor(agents, model=model, prompt=prompt).compile()
    calls, totals = [], []
    for task in tasks:
        transfers = [
            AIMessage("", tool_calls=[{"name": f"transfer_to_{a}", "args": {}, "id": f"t{i}", "type": "tool_call"}])
            for i, a in enumerate(task.agents)
        ]
        model.rewind()
        worker.rewind()
        model.steps = [*transfers, AIMessage("All steps are done.")]
        worker.steps = [AIMessage(f"Step {i + 1} is done. Facts: {{'ref': 'R-{i + 1}'}}") for i in range(STEPS)]
        app.invoke({"messages": [HumanMessage(task.text)]})
        model.assert_complete()
        worker.assert_complete()
        calls.append(len(model.requests))
        totals.append(sum(request.tokens for request in model.requests))
    return Measured(mean(calls), mean(totals))


def measure(team: Team) -> Size:
    """Both sides' figures over the same :data:`TASKS` tasks."""
    tasks = tasks_for(team)
    measured, shown, first = asyncio.run(ours(team, tasks))
    return Size(
        agents=len(team.agents),
        shown=shown,
        ours=measured,
        first=first,
        anchor=anchor(team, tasks, cards=False),
        anchor_cards=anchor(team, tasks, cards=True),
    )


def run() -> Report:
    """Measure every catalogue size and check the growth requirement."""
    started = time.perf_counter()
    sizes = {n: measure(synthetic_team(n)) for n in SIZES}
    growth = sizes[500].ours.tokens / sizes[20].ours.tokens
    table = tuple(
        (
            str(n),
            f"{s.shown:.1f}",
            f"{s.ours.calls:.0f}",
            f"{s.ours.tokens:,.0f}",
            f"{s.first:,.0f}",
            f"{s.anchor.calls:.0f}",
            f"{s.anchor.tokens:,.0f}",
            ratio(s.ours.tokens, s.anchor.tokens),
            f"{s.anchor_cards.tokens:,.0f}",
            ratio(s.ours.tokens, s.anchor_cards.tokens),
        )
        for n, s in sizes.items()
    )
    summary = tuple(
        row
        for n in HEADLINE
        for row in (
            _row(f"routing prompt tokens per task, {n} agents", sizes[n].ours.tokens, sizes[n].anchor.tokens, ""),
            _row(
                f"routing prompt tokens per task, {n} agents",
                sizes[n].ours.tokens,
                sizes[n].anchor_cards.tokens,
                " + descriptions",
            ),
        )
    )
    return Report(
        title=f"Routing prompt tokens per task, every supervisor call ({STEPS}-step tasks, mean over the same tasks)",
        columns=(
            "agents",
            "cards shown",
            "our calls",
            "ours",
            "our 1st call",
            "lg-sup calls",
            "lg-sup",
            "ratio",
            "lg-sup+descriptions",
            "ratio",
        ),
        rows=table,
        notes=(
            f"Tokens: {TOKENIZER}; the same count for both sides; supervisor calls only, all of them.",
            f"Each row: mean over {TASKS} tasks of {STEPS} synthetic requests each (switchboard.agents.synthetic, "
            "seed 0) for synthetic_team(n).",
            "ours: build_graph's supervisor (shortlist of k=8 cards, idle health registry), one routing call with "
            "the plan and one to finish; 'our 1st call' is the first alone.",
            "lg-sup: langgraph_supervisor.create_supervisor as shipped (one transfer tool per agent, no prompt), "
            "a transfer per step and the answer; lg-sup+descriptions adds every card's name and description.",
            f"Ours at 500 agents / ours at 20 agents = {growth:.2f}x (required <= {MAX_GROWTH}x).",
        ),
        checks={f"ours at 500 agents within {MAX_GROWTH}x of 20 ({growth:.2f}x)": growth <= MAX_GROWTH},
        seconds=time.perf_counter() - started,
        summary=summary,
    )


def _row(figure: str, ours_value: float, anchor_value: float, variant: str) -> Row:
    return Row(
        figure,
        f"{ours_value:,.0f}",
        f"{anchor_value:,.0f}",
        f"create_supervisor{variant}",
        ratio(ours_value, anchor_value),
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
