"""End-to-end evaluation on τ-bench's retail tasks: ``switchboard eval tau``.

Typical use::

    from switchboard.evaluation import EvalConfig, read_tasks, run_eval, TAU_TEAM_FILE
    from switchboard.settings import Settings

    tasks = read_tasks("tau-retail-test.json")    # converted from a τ-bench checkout
    config = EvalConfig(data_dir=Path("tau-bench/tau_bench/envs/retail/data"),
                        settings=Settings(team=str(TAU_TEAM_FILE), model="openai:gpt-4.1-mini"))
    report = await run_eval(tasks, config)
    print(report.pass_hat(1))

Each task runs through the supervisor on a fresh copy of the database and is
scored by τ-bench's reward (the final database equals the reference's, and
the required outputs were told to the customer); pass^k over k trials.
"""

from __future__ import annotations

from switchboard.evaluation.convert import convert_checkout, data_directory, parse_tasks
from switchboard.evaluation.harness import (
    CUSTOMER_QUESTIONS,
    EvalConfig,
    PausePolicy,
    QuestionChannel,
    QuestionsByKind,
    run_eval,
    run_trial,
)
from switchboard.evaluation.results import EvalReport, Trial, Utterance
from switchboard.evaluation.reward import Reward, missing_outputs, pass_hat_k, reward
from switchboard.evaluation.state import StateDiff, diff_states, read_state, replay
from switchboard.evaluation.taskgen import GeneratedTask, generate_tasks
from switchboard.evaluation.tasks import TauAction, TauTask, read_tasks, write_tasks
from switchboard.evaluation.tau_team import TEAM_FILE as TAU_TEAM_FILE
from switchboard.evaluation.users import InstructionUser, ModelUser, ScriptedUser, UserSimulator

__all__ = [
    "CUSTOMER_QUESTIONS",
    "TAU_TEAM_FILE",
    "EvalConfig",
    "EvalReport",
    "GeneratedTask",
    "InstructionUser",
    "ModelUser",
    "PausePolicy",
    "QuestionChannel",
    "QuestionsByKind",
    "Reward",
    "ScriptedUser",
    "StateDiff",
    "TauAction",
    "TauTask",
    "Trial",
    "UserSimulator",
    "Utterance",
    "convert_checkout",
    "data_directory",
    "diff_states",
    "generate_tasks",
    "missing_outputs",
    "parse_tasks",
    "pass_hat_k",
    "read_state",
    "read_tasks",
    "replay",
    "reward",
    "run_eval",
    "run_trial",
    "write_tasks",
]
