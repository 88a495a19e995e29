"""τ-bench's reward and its pass^k, as pure functions.

A trial earns 1 when the final database equals the expected one *and* every
required output was told to the user; otherwise 0. τ-bench looks for an
output in each message the agent sent the user: lower-cased, with the
message's commas removed (``"1,234.5"`` is found as ``1234.5``).

pass^k is the chance that *all* of k trials of a task succeed, estimated
without bias from n ≥ k trials with c successes as C(c, k) / C(n, k), and
averaged over tasks, as τ-bench reports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import comb

from switchboard.errors import ConfigError
from switchboard.evaluation.state import StateDiff


@dataclass(frozen=True)
class Reward:
    """The score of one trial and why."""

    value: int
    """1 or 0."""
    diff: tuple[StateDiff, ...]
    """Records that differ from the expected database (empty: the actions were right)."""
    missing_outputs: tuple[str, ...]
    """Required outputs no message to the user contained."""

    @property
    def state_ok(self) -> bool:
        """The final database equals the expected one."""
        return not self.diff


def missing_outputs(required: Sequence[str], told: Sequence[str]) -> list[str]:
    """The required outputs that appear in none of the messages told to the user."""
    said = [message.lower().replace(",", "") for message in told]
    return [output for output in required if not any(output.lower() in message for message in said)]


def reward(diff: Sequence[StateDiff], required: Sequence[str], told: Sequence[str]) -> Reward:
    """τ-bench's reward of one trial."""
    missing = tuple(missing_outputs(required, told))
    return Reward(int(not diff and not missing), tuple(diff), missing)


def pass_hat_k(successes: Mapping[str, Sequence[int]], k: int) -> float:
    """pass^k over tasks: the mean of C(c, k) / C(n, k).

    Args:
        successes: Per task, the rewards (1 or 0) of its n trials.
        k: How many trials must all succeed; 1 ≤ k ≤ n for every task.

    Raises:
        ConfigError: A task has fewer than k trials, or there are no tasks.
    """
    if not successes:
        raise ConfigError("pass^k needs at least one task")
    total = 0.0
    for task, rewards in successes.items():
        n, c = len(rewards), sum(rewards)
        if not 1 <= k <= n:
            raise ConfigError(f"pass^{k} needs at least {k} trials of every task; task {task} has {n}")
        total += comb(c, k) / comb(n, k)
    return total / len(successes)
