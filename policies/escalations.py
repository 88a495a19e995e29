"""Escalation paths: who must answer, by role, and what happens when nobody does.

A path is a list of steps. Each step names the roles that may answer and how
long they have; when its time runs out, the question moves to the next step
(``escalate``) or is rejected (``reject``). Roles of earlier steps may still
answer after an escalation: escalating widens who may answer, never narrows
it. A path's last step must reject on expiry, so no question waits forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_FORMS = "write 90s, 30m, 4h or 2d (or a number of seconds)"


def parse_duration(value: float | int | str) -> float:
    """Seconds from a number or a string such as ``90s``, ``30m``, ``4h``, ``2d``.

    A clock-style ``4:00`` is refused rather than guessed at: YAML 1.1 used
    to read it as 240 seconds, and ``h:mm`` or ``m:ss`` are equally likely
    readings, so the writer must say which unit they mean.

    Raises:
        ValueError: ``value`` is not a duration, or not positive.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value)
        if ":" in text:
            raise ValueError(f"{value!r} looks like a clock time, which is not a duration here; {_FORMS}")
        match = _DURATION.fullmatch(text)
        if match is None:
            raise ValueError(f"{value!r} is not a duration; {_FORMS}")
        seconds = float(match.group(1)) * _UNIT[match.group(2)]
    if seconds <= 0:
        raise ValueError("a timeout must be positive")
    return seconds


class EscalationStep(BaseModel):
    """One level of a path."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    roles: tuple[str, ...] = Field(min_length=1)
    timeout: float
    """Seconds (or ``30m``, ``4h``, ``2d``) this step waits for an answer."""
    on_timeout: Literal["escalate", "reject"] = "escalate"

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: float | int | str) -> float:
        return parse_duration(value)


class EscalationPath(BaseModel):
    """Who answers a kind of question, in what order, within what time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    description: str = ""
    steps: tuple[EscalationStep, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ends(self) -> EscalationPath:
        if self.steps[-1].on_timeout != "reject":
            raise ValueError(f"the last step of escalation path {self.id!r} must have on_timeout: reject")
        return self


@dataclass(frozen=True)
class EscalationStatus:
    """Where a waiting question stands on its path at a given time."""

    step: int
    """Index of the step now answering (the last one once rejected)."""
    roles: tuple[str, ...]
    """Roles that may answer now."""
    deadline: float
    """When the current step times out (Unix seconds)."""
    state: Literal["waiting", "rejected"]
    reason: str = ""


def escalation_status(path: EscalationPath, asked_at: float, now: float) -> EscalationStatus:
    """Where a question asked at ``asked_at`` stands at ``now`` (pure)."""
    start = asked_at
    roles: list[str] = []
    for index, step in enumerate(path.steps):
        roles.extend(r for r in step.roles if r not in roles)
        deadline = start + step.timeout
        if now < deadline:
            return EscalationStatus(index, tuple(roles), deadline, "waiting")
        if step.on_timeout == "reject":
            return EscalationStatus(
                index, tuple(roles), deadline, "rejected",
                f"no answer from {', '.join(step.roles)} within {step.timeout:g}s (path {path.id}); rejected",
            )  # fmt: skip
        start = deadline
    raise AssertionError("a path's last step rejects")  # guaranteed by EscalationPath validation
