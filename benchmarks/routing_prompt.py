"""Routing prompt tokens as the catalogue grows: Switchboard vs langgraph-supervisor.

The question is what one routing decision costs in prompt tokens with 5, 20,
50 and 500 agents. Both sides get the same synthetic cards and the same tasks,
and both routing models are the same :class:`RecordingChatModel`, so what is
counted is exactly what each framework sends on its first routing call:
messages plus bound tool schemas.

- Switchboard: ``Router.decide`` with a live (idle) health registry, as the
  graph builds it. The prompt carries the capability shortlist (k = 8 plus
  fallbacks) and the ``RoutingDecision`` tool with the offered names as an enum.
- langgraph-supervisor: ``create_supervisor`` over one ``create_react_agent``
  per card (named after the card, the card description as its prompt). It
  binds one ``transfer_to_<agent>`` tool per agent. Its default supervisor
  prompt says nothing about what agents do, so it is measured twice: as
  shipped (handoff tools only) and with every card in its system prompt, which
  is what a user must add for it to route by capability.

Run it alone with ``python -m benchmarks.routing_prompt``.
"""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import mean
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.prebuilt import create_react_agent
from langgraph.pregel import Pregel
from langgraph_supervisor import create_supervisor

from benchmarks.recording import TOKENIZER, RecordingChatModel
from benchmarks.report import Report, ratio, render
from switchboard.agents.card import Team, load_team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.synthetic import synthetic_task, synthetic_team
from switchboard.graph.routing import Router
from switchboard.policies import PolicyFile
from switchboard.testing import finish

SIZES = (5, 20, 50, 500)
TASKS = 20
MAX_GROWTH = 1.5
"""The 500-agent prompt may be at most this many times the 20-agent one."""

_ANCHOR_PROMPT = (
    "You are a team supervisor managing the agents below. Hand each task to the agent best "
    "suited to it with its transfer tool; answer yourself only when the task is done.\n"
)


@dataclass(frozen=True)
class Row:
    """Mean prompt tokens for one catalogue."""

    label: str
    agents: int
    ours: float
    shown: float
    """Mean number of cards in our prompt."""
    anchor_tools: float
    anchor_cards: float


async def ours(team: Team, tasks: Sequence[str]) -> tuple[list[int], list[int]]:
    """Tokens of our first routing request per task, and the cards it showed."""
    model = RecordingChatModel(reply=finish())
    health = HealthRegistry()
    try:
        router = Router(team, model, PolicyFile(name="bench"), health)
        shown = [len((await router.decide(task, [], {})).offer.cards) for task in tasks]
    finally:
        health.close()
    return [request.tokens for request in model.requests], shown


def anchor(team: Team, tasks: Sequence[str], *, cards: bool) -> list[int]:
    """Tokens of langgraph-supervisor's first supervisor request per task."""
    worker = RecordingChatModel(reply=AIMessage("done"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # create_react_agent is deprecated in LangGraph 1.x
        agents: list[Pregel[Any, Any, Any, Any]] = [
            create_react_agent(model=worker, tools=[], prompt=card.description, name=card.name) for card in team.agents
        ]
    model = RecordingChatModel(reply=AIMessage("The task is done."))
    prompt = None
    if cards:
        views = json.dumps([card.prompt_view() for card in team.agents], indent=1)
        prompt = SystemMessage(f"{_ANCHOR_PROMPT}<agents>\n{views}\n</agents>")
    app = create_supervisor(agents, model=model, prompt=prompt).compile()
    for task in tasks:
        app.invoke({"messages": [HumanMessage(task)]})
    if worker.requests:
        raise AssertionError("an agent was called; only the supervisor's first call should be measured")
    return [request.tokens for request in model.requests]


def measure(label: str, team: Team) -> Row:
    """Mean tokens for both sides over the same :data:`TASKS` tasks."""
    tasks = [synthetic_task(team, index)[0] for index in range(TASKS)]
    tokens, shown = asyncio.run(ours(team, tasks))
    return Row(
        label=label,
        agents=len(team.agents),
        ours=mean(tokens),
        shown=mean(shown),
        anchor_tools=mean(anchor(team, tasks, cards=False)),
        anchor_cards=mean(anchor(team, tasks, cards=True)),
    )


def run() -> Report:
    """Measure every catalogue size and check the growth requirement."""
    started = time.perf_counter()
    rows = [measure(str(n), synthetic_team(n)) for n in SIZES]
    rows.append(measure("5 (retail)", load_team()))
    by_size = {row.agents: row for row in rows if row.label.isdigit()}
    growth = by_size[500].ours / by_size[20].ours
    table = tuple(
        (
            row.label,
            f"{row.shown:.1f}",
            f"{row.ours:,.0f}",
            f"{row.anchor_tools:,.0f}",
            ratio(row.ours, row.anchor_tools),
            f"{row.anchor_cards:,.0f}",
            ratio(row.ours, row.anchor_cards),
        )
        for row in rows
    )
    return Report(
        title="Routing prompt tokens per decision (mean over the same tasks)",
        columns=("agents", "cards shown", "ours", "lg-sup", "ratio", "lg-sup+cards", "ratio"),
        rows=table,
        notes=(
            f"Tokens: {TOKENIZER}; the same count for both sides.",
            f"Each row: mean over {TASKS} synthetic tasks (switchboard.agents.synthetic, seed 0); "
            "rows 5-500 are synthetic_team(n), '5 (retail)' is the shipped retail team.",
            "ours: first request of Router.decide (shortlist of k=8 cards, idle health "
            "registry); 'cards shown' is how many cards it held.",
            "lg-sup: langgraph_supervisor.create_supervisor as shipped (one transfer tool per agent, no prompt).",
            "lg-sup+cards: the same, with every card's prompt view in its system prompt.",
            f"Ours at 500 agents / ours at 20 agents = {growth:.2f}x (required <= {MAX_GROWTH}x).",
        ),
        checks={f"ours at 500 agents within {MAX_GROWTH}x of 20 ({growth:.2f}x)": growth <= MAX_GROWTH},
        seconds=time.perf_counter() - started,
    )


if __name__ == "__main__":
    report = run()
    render([report])
    raise SystemExit(0 if report.ok else 1)
