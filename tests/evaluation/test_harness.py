"""End to end: generated τ-bench-format tasks through the supervisor and the embedded engine.

Real MCP servers over stdio, real SQLite checkpoints, one fresh database per
trial; only the customer is scripted. The reward must tell a right run from
one that leaves the wrong database and from one that never tells the
customer what it had to.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from switchboard.evaluation import (
    TAU_TEAM_FILE,
    EvalConfig,
    GeneratedTask,
    QuestionsByKind,
    ScriptedUser,
    TauAction,
    TauTask,
    run_eval,
)
from switchboard.evaluation.report import print_report
from switchboard.runs import RunResult, resume_run
from switchboard.settings import Settings
from switchboard.testing import make_principals


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


async def test_a_question_channel_carries_the_question_to_the_customer_and_the_answer_back(
    tau_data: Path, generated: list[GeneratedTask], tmp_path: Path
) -> None:
    """How the customer-question interrupt plugs in, played here by the supervisor's own escalation.

    The vague opening names no customer, so the run pauses to ask; the channel
    hands the question to the user simulator and resumes the run with its answer.
    """

    async def answer_as_note(thread_id: str, text: str, *, settings: Settings, model: Any) -> RunResult:
        # The shipped policy's escalation_roles make "go on" a signed answer by staff: the
        # stand-in channel relays the customer's words as a support agent would.
        make_principals(settings.data_dir, {"cara": "support_agent"})
        return await resume_run(thread_id, approved=True, note=text, approver="cara", settings=settings, model=model)

    cancel = generated[0]
    user = ScriptedUser("Please cancel my pending order, I no longer need it.", [cancel.opening])
    config = EvalConfig(
        data_dir=tau_data,
        settings=Settings(team=str(TAU_TEAM_FILE)),
        users=lambda _: user,
        questions=QuestionsByKind("escalation", reply=answer_as_note),
        workdir=tmp_path / "work",
    )
    report = await run_eval([cancel.task], config)
    trial = report.trials[0]
    assert trial.reward.value == 1 and report.question_channel
    assert len(user.questions) == 1 and "cannot identify the customer" in user.questions[0]
    # the $637.90 cancel waits for a signed approval, which the harness gives as its own principal
    assert [u.speaker for u in trial.transcript] == ["user", "agent", "user", "harness", "agent"]
    assert trial.told[0] == user.questions[0]  # a question is something the customer was told
