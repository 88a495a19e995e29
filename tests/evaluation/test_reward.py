"""τ-bench's reward and the pass^k estimator."""

from __future__ import annotations

import pytest

from switchboard.errors import ConfigError
from switchboard.evaluation import StateDiff, missing_outputs, pass_hat_k, reward


def test_outputs_are_found_case_insensitively_in_messages_without_commas() -> None:
    told = ["Your refund of $1,234.50 is on its way.", "There are 12 T-Shirt options."]
    assert missing_outputs(["1234.50", "t-shirt options", "12"], told) == []
    assert missing_outputs(["1,234.50"], told) == ["1,234.50"]  # the output itself keeps its commas, as in τ-bench
    assert missing_outputs(["13"], told) == ["13"]


def test_the_reward_needs_both_the_state_and_the_outputs() -> None:
    diff = [StateDiff("orders", "#W1", "changed", ("status",))]
    assert reward([], ["ok"], ["all OK"]).value == 1
    assert reward([], [], []).value == 1
    wrong_state = reward(diff, [], ["all ok"])
    assert wrong_state.value == 0 and not wrong_state.state_ok
    untold = reward([], ["ok", "42"], ["ok"])
    assert untold.value == 0 and untold.state_ok and untold.missing_outputs == ("42",)


def test_pass_hat_k_is_the_mean_of_c_choose_k_over_n_choose_k() -> None:
    rewards = {"a": [1, 1, 1, 1], "b": [1, 1, 0, 0], "c": [0, 0, 0, 0]}
    assert pass_hat_k(rewards, 1) == pytest.approx((1 + 0.5 + 0) / 3)
    assert pass_hat_k(rewards, 2) == pytest.approx((1 + 1 / 6 + 0) / 3)
    assert pass_hat_k(rewards, 4) == pytest.approx(1 / 3)


def test_pass_hat_k_refuses_k_beyond_the_trials() -> None:
    with pytest.raises(ConfigError, match="at least 3 trials"):
        pass_hat_k({"a": [1, 1]}, 3)
    with pytest.raises(ConfigError, match="at least one task"):
        pass_hat_k({}, 1)
