"""Budgets per run: hops, tool calls, tokens and cost, and what happens at the limit."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Budgets(BaseModel):
    """Limits of one run; ``None`` means no limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hops: int | None = Field(default=None, ge=1)
    """Agent steps."""
    tool_calls: int | None = Field(default=None, ge=1)
    tokens: int | None = Field(default=None, ge=1)
    """Model tokens, input and output, over every model call of the run."""
    cost_usd: float | None = Field(default=None, gt=0)
    on_exceeded: Literal["escalate", "fail"] = "escalate"
    """escalate: pause and ask a human whether to continue; fail: stop the run."""


@dataclass(frozen=True)
class Usage:
    """What a run has used so far (or is about to use)."""

    hops: int = 0
    tool_calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class BudgetVerdict:
    """Whether a run is within its budgets."""

    exceeded: tuple[str, ...]
    """Names of the budgets that would be exceeded, e.g. ``("tool_calls",)``."""
    action: Literal["continue", "escalate", "fail"]
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Within every budget."""
        return not self.exceeded


def check_budget(budgets: Budgets, used: Usage, adding: Usage | None = None) -> BudgetVerdict:
    """Check ``used`` (plus what is about to be used) against the limits.

    Args:
        budgets: The policy's limits.
        used: The run's usage so far.
        adding: What the next step will add (one tool call, one hop), so the
            check can stop a call *before* it goes over.
    """
    total = used + adding if adding is not None else used
    over = []
    for name in ("hops", "tool_calls", "tokens", "cost_usd"):
        limit = getattr(budgets, name)
        if limit is not None and getattr(total, name) > limit:
            over.append(f"{name} {getattr(total, name):g} > {limit:g}")
    if not over:
        return BudgetVerdict((), "continue")
    names = tuple(item.split(" ")[0] for item in over)
    return BudgetVerdict(names, budgets.on_exceeded, "the run is over budget: " + "; ".join(over))
