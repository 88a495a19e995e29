"""What an evaluation produces: one record per trial, and the scores over them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from switchboard.evaluation.reward import Reward, pass_hat_k
from switchboard.evaluation.state import ReplayStep


@dataclass(frozen=True)
class Utterance:
    """One line of a trial's conversation."""

    speaker: Literal["user", "agent", "harness"]
    """Who said it; ``harness`` is the evaluation answering a pause in a human's place."""
    text: str
    """What was said."""


@dataclass(frozen=True)
class Trial:
    """One run of one task, and its reward."""

    task_id: str
    """The task's id (its position in the task file unless the file names it)."""
    trial: int
    """Which trial of the task, from 0."""
    thread_id: str
    """The Switchboard thread the trial ran on (kept in the work directory)."""
    status: str
    """How the run ended: completed, paused (out of pause budget or unanswered), failed, or error."""
    reward: Reward
    """τ-bench's reward and why."""
    told: tuple[str, ...]
    """Everything the customer was told: questions, notifications, the final report."""
    transcript: tuple[Utterance, ...]
    """The conversation, in order, with the pauses the harness answered."""
    unanswered: str | None = None
    """A question for the customer that no channel could carry to the user simulator."""
    error: str | None = None
    """An error that ended the run early."""

    def to_json(self) -> dict[str, Any]:
        """One trial for ``--json``."""
        return {
            "task_id": self.task_id,
            "trial": self.trial,
            "thread_id": self.thread_id,
            "status": self.status,
            "reward": self.reward.value,
            "state_ok": self.reward.state_ok,
            "diff": [str(d) for d in self.reward.diff],
            "missing_outputs": list(self.reward.missing_outputs),
            "told": list(self.told),
            "transcript": [{"speaker": u.speaker, "text": u.text} for u in self.transcript],
            "unanswered": self.unanswered,
            "error": self.error,
        }


@dataclass(frozen=True)
class EvalReport:
    """Every trial of an evaluation, with τ-bench's scores."""

    trials: tuple[Trial, ...]
    """All trials, task by task."""
    trials_per_task: int
    """n: how many times each task ran."""
    team: str
    """The team file the runs used."""
    model: str
    """The model that drove the supervisor and the agents."""
    user: str
    """Who played the customer."""
    question_channel: bool
    """Whether agents could ask the customer questions (the user simulator answered them)."""
    replays: dict[str, tuple[ReplayStep, ...]] = field(default_factory=dict)
    """Per task, the reference actions as replayed; a refused one is worth a look."""

    @property
    def team_name(self) -> str:
        """The team file's name without its folder, for headings."""
        return self.team.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def rewards(self) -> dict[str, list[int]]:
        """Per task, the reward of each trial."""
        table: dict[str, list[int]] = {}
        for trial in self.trials:
            table.setdefault(trial.task_id, []).append(trial.reward.value)
        return table

    def pass_hat(self, k: int = 1) -> float:
        """pass^k over the tasks; pass^1 is the mean reward."""
        return pass_hat_k(self.rewards, k)

    def pass_hats(self) -> dict[int, float]:
        """pass^k for every k from 1 to the number of trials."""
        return {k: self.pass_hat(k) for k in range(1, self.trials_per_task + 1)}

    def to_json(self) -> dict[str, Any]:
        """The whole report for ``--json``."""
        return {
            "tasks": len(self.rewards),
            "trials_per_task": self.trials_per_task,
            "team": self.team,
            "model": self.model,
            "user": self.user,
            "question_channel": self.question_channel,
            "pass_hat_k": {str(k): value for k, value in self.pass_hats().items()},
            "replay_refusals": {
                task: [f"{s.name}: {s.error}" for s in steps if not s.ok]
                for task, steps in self.replays.items()
                if any(not s.ok for s in steps)
            },
            "trials": [trial.to_json() for trial in self.trials],
        }


def group(trials: Sequence[Trial]) -> dict[str, list[Trial]]:
    """Trials by task, in first-seen order."""
    table: dict[str, list[Trial]] = {}
    for trial in trials:
        table.setdefault(trial.task_id, []).append(trial)
    return table
