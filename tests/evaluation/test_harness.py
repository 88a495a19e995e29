"""End to end: generated τ-bench-format tasks through the supervisor and the embedded engine.

Real MCP servers over stdio, real SQLite checkpoints, one fresh database per
trial; only the customer is scripted. The reward must tell a right run from
one that leaves the wrong database and from one that never tells the
customer what it had to.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from switchboard.evaluation import (
    TAU_TEAM_FILE,
    EvalConfig,
    GeneratedTask,
    ScriptedUser,
    TauAction,
    TauTask,
    generate_tasks,
    run_eval,
)
from switchboard.evaluation.report import print_report
from switchboard.settings import Settings


def _users(generated: list[GeneratedTask], extra: dict[str, str]) -> dict[str, str]:
    return {**{g.task.id or "": g.opening for g in generated}, **extra}


@pytest.fixture(scope="module")
def variants(generated: list[GeneratedTask]) -> list[TauTask]:
    """Two tasks the same runs must fail: a different reference write, an output never told."""
    cancel, tracking = generated[0].task, generated[2].task
    order_id = cancel.actions[-1].kwargs["order_id"]
    wrong_reason = cancel.model_copy(
        update={
            "id": "wrong-reason",
            "actions": [
                *cancel.actions[:-1],
                TauAction(name="cancel_pending_order", kwargs={"order_id": order_id, "reason": "ordered by mistake"}),
            ],
        }
    )
    untold = tracking.model_copy(update={"id": "untold", "outputs": [*tracking.outputs, "PROMO-2026"]})
    return [wrong_reason, untold]


async def test_pass_hat_1_scores_right_wrong_state_and_missing_output(
    tau_data: Path, generated: list[GeneratedTask], variants: list[TauTask], tmp_path: Path
) -> None:
    openings = _users(generated, {"wrong-reason": generated[0].opening, "untold": generated[2].opening})
    config = EvalConfig(
        data_dir=tau_data,
        settings=Settings(team=str(TAU_TEAM_FILE)),
        users=lambda task: ScriptedUser(openings[task.id or ""]),
        workdir=tmp_path / "work",
    )
    tasks = [g.task for g in generated] + variants
    report = await run_eval(tasks, config)

    assert report.rewards == {"cancel-0": [1], "return-1": [1], "tracking-2": [1], "wrong-reason": [0], "untold": [0]}
    assert report.pass_hat(1) == pytest.approx(3 / 5)
    trials = {t.task_id: t for t in report.trials}
    assert all(t.status == "completed" and t.error is None for t in trials.values())

    order_id = generated[0].task.actions[-1].kwargs["order_id"]
    wrong = trials["wrong-reason"].reward
    assert [(d.table, d.key, d.fields) for d in wrong.diff] == [("orders", order_id, ("cancel_reason",))]
    assert wrong.missing_outputs == ()

    untold = trials["untold"].reward
    assert untold.state_ok and untold.missing_outputs == ("PROMO-2026",)
    tracking_number = generated[2].task.outputs[0]
    assert any(tracking_number in told for told in trials["tracking-2"].told)  # found in what the customer was told
    assert any("cancelled" in told for told in trials["cancel-0"].told)  # the notify_customer message counts too
    assert os.environ.get("SWITCHBOARD_RETAIL_DB") is None  # the harness restored the environment

    console = Console(record=True, width=200)
    print_report(report, console)
    text = console.export_text()
    assert "pass^1: 0.600 over 5 tasks" in text
    assert f"orders[{order_id}] changed (cancel_reason)" in text and "not told: PROMO-2026" in text


async def test_the_full_retail_team_goes_past_tau_bench_and_fails_its_reward(
    tau_data: Path, generated: list[GeneratedTask], tmp_path: Path
) -> None:
    """Why the τ-bench-exact team exists: a full return does not end at "return requested"."""
    task = generated[1].task
    config = EvalConfig(
        data_dir=tau_data,
        settings=Settings(team="retail"),
        users=lambda _: ScriptedUser(generated[1].opening),
        workdir=tmp_path / "work",
    )
    report = await run_eval([task], config)
    trial = report.trials[0]
    order_id = task.actions[-1].kwargs["order_id"]
    assert trial.status == "completed" and trial.reward.value == 0
    order = next(d for d in trial.reward.diff if d.key == order_id)
    assert "status" in order.fields


async def test_the_agent_asks_the_customer_and_the_user_simulator_answers(
    tau_data: Path, generated: list[GeneratedTask], tmp_path: Path
) -> None:
    """The default question channel: an agent's ``ask_customer`` reaches the user simulator, the answer the agent.

    The vague opening names no customer, so the agent that owns the request
    asks for the customer's email; the scripted user's answer carries it, and
    the same agent goes on from there.
    """
    cancel = generated[0]
    user = ScriptedUser("Please cancel my pending order, I no longer need it.", [cancel.opening])
    config = EvalConfig(
        data_dir=tau_data,
        settings=Settings(team=str(TAU_TEAM_FILE)),
        users=lambda _: user,
        workdir=tmp_path / "work",
    )
    report = await run_eval([cancel.task], config)
    trial = report.trials[0]
    assert trial.reward.value == 1 and report.question_channel
    assert len(user.questions) == 1 and "email address on your account" in user.questions[0]
    # the $637.90 cancel waits for a signed approval, which the harness gives as its own principal
    assert [u.speaker for u in trial.transcript] == ["user", "agent", "user", "harness", "agent"]
    assert trial.told[0] == user.questions[0]  # a question is something the customer was told


async def test_which_order_the_agent_asks_and_the_scripted_user_answers(tau_data: Path, tmp_path: Path) -> None:
    """A generated task whose opening names none of the customer's delivered orders."""
    which = next(g for g in generate_tasks(tau_data, count=4, seed=3) if (g.task.id or "").startswith("which"))
    order_id = which.task.actions[-1].kwargs["order_id"]
    assert order_id not in which.opening and which.replies == (f"It is order {order_id}.",)
    config = EvalConfig(
        data_dir=tau_data,
        settings=Settings(team=str(TAU_TEAM_FILE)),
        users=lambda _: ScriptedUser(which.opening, which.replies),
        workdir=tmp_path / "asked",
    )
    trial = (await run_eval([which.task], config)).trials[0]
    assert trial.reward.value == 1, trial
    question = trial.told[0]
    assert question.startswith("Which order do you mean?") and order_id in question
    assert [u.speaker for u in trial.transcript][:3] == ["user", "agent", "user"]

    # single-shot (no question channel): the question ends the trial, unanswered, and nothing is written
    single = replace(config, questions=None, workdir=tmp_path / "single")
    trial = (await run_eval([which.task], single)).trials[0]
    assert trial.status == "paused" and trial.reward.value == 0
    assert trial.unanswered is not None and trial.unanswered.startswith("Which order do you mean?")
    assert not trial.reward.state_ok
