"""The routing lab: what the supervisor would decide, and how often it is right.

``switchboard route`` makes the first routing decision of a run without
running anything; ``switchboard eval-routing`` scores a labelled file of
tasks. Both go through the same :class:`~graph.routing.Router` a run uses,
offered the same cards (the team's workflows included) and reading the same
live health, so the lab measures the product, not a copy of it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from switchboard.agents.card import load_team
from switchboard.agents.health import HealthRegistry
from switchboard.errors import DataError
from switchboard.graph.decision import RoutingDecision
from switchboard.graph.intake import validate_task
from switchboard.graph.routing import Router, RouteResult
from switchboard.graph.structured import check_structured
from switchboard.graph.workflows import routing_team
from switchboard.models import resolve_model
from switchboard.runs import health_path
from switchboard.settings import Settings


@dataclass(frozen=True)
class Case:
    """One labelled task and what the router did with it."""

    task: str
    expected: str
    got: str
    confidence: float
    reason: str


@dataclass(frozen=True)
class EvalReport:
    """Routing accuracy over a labelled file."""

    cases: list[Case]
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    """expected agent -> decided agent (or ``escalate``/``finish``) -> count."""

    @property
    def accuracy(self) -> float:
        """Share of tasks routed to the labelled agent."""
        return sum(c.expected == c.got for c in self.cases) / len(self.cases) if self.cases else 0.0

    @property
    def wrong(self) -> list[Case]:
        """The cases the router got wrong."""
        return [c for c in self.cases if c.expected != c.got]


def make_router(settings: Settings | None = None, model: BaseChatModel | None = None) -> Router:
    """The router a run of the configured team uses, so the lab measures what runs do.

    Like ``build_graph``, it offers the team's workflows as cards (a routing
    rule may name one), and it reads the data directory's health registry, as
    runs do, so an agent whose circuit is open or that is at capacity is not
    offered here either. The model is checked as ``build_graph`` checks the
    supervisor's, so ``switchboard route`` and ``eval-routing`` refuse a
    model without structured output up front, with the fix, and not on the
    first task.

    Raises:
        ConfigError: The model cannot give the routing decision, a workflow
            is invalid, or a routing rule names neither an agent nor a workflow.
    """
    settings = settings or Settings()
    team = load_team(settings.team)
    offered = routing_team(team, team.load_workflows())
    model = model or resolve_model(settings.model, team)
    router = Router(offered, model, team.load_policy(), _live_health(settings))
    check_structured(router.model, RoutingDecision, router.method, role="the routing model")
    return router


def _live_health(settings: Settings) -> HealthRegistry | None:
    """The health registry runs share, if there is one; ``None`` (every agent idle) if no run has made it.

    The lab runs nothing, so it does not create the file a first run would.
    """
    path = health_path(settings)
    return HealthRegistry(path) if path.is_file() else None


def describe(result: RouteResult) -> dict[str, Any]:
    """A routing result as the lab prints it."""
    d = result.decision
    return {
        "action": d.action,
        "agent": d.agent,
        "skill": d.skill,
        "instruction": d.instruction,
        "reason": d.reason,
        "confidence": d.confidence,
        "source": result.source,
        "rule": result.rule,
        "shortlist": list(result.offer.shortlist),
        "unavailable": dict(result.offer.unavailable),
        "also": [s.model_dump() for s in d.also],
    }


async def route_once(task: str, router: Router) -> dict[str, Any]:
    """The decision the supervisor would make first for ``task``."""
    return describe(await router.decide(validate_task(task), [], {}))


def read_labelled(path: str | Path) -> list[tuple[str, str]]:
    """Read ``{"task": ..., "agent": ...}`` lines; blank lines are skipped.

    Raises:
        DataError: The file is missing, or a line is not such an object;
            the message gives the line number.
    """
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read {file}: {exc}") from exc
    cases = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            task, agent = item["task"], item["agent"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f'{file}:{number}: expected {{"task": ..., "agent": ...}}, got {line[:80]!r}') from exc
        if not isinstance(task, str) or not isinstance(agent, str):
            raise DataError(f"{file}:{number}: task and agent must be strings")
        cases.append((task, agent))
    if not cases:
        raise DataError(f"{file} holds no labelled tasks")
    return cases


async def evaluate_routing(path: str | Path, router: Router) -> EvalReport:
    """Score the router's first decision on every labelled task in ``path``.

    Raises:
        DataError: A label names no agent of the team (a typo would otherwise
            count silently as a routing error).
    """
    labelled = read_labelled(path)
    unknown = sorted({agent for _, agent in labelled} - set(router.team.names))
    if unknown:
        raise DataError(f"{path}: labels name agents the team does not have: {', '.join(unknown)}")
    cases: list[Case] = []
    confusion: dict[str, Counter[str]] = {}
    for task, expected in labelled:
        result = await router.decide(task, [], {})
        d = result.decision
        got = d.agent if d.action == "route" and d.agent else d.action
        cases.append(Case(task, expected, got, d.confidence, d.reason))
        confusion.setdefault(expected, Counter())[got] += 1
    return EvalReport(cases, {k: dict(v) for k, v in sorted(confusion.items())})
