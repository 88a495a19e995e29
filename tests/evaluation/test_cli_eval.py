"""``switchboard eval tau|tau-sample|tau-convert`` from the command line."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from switchboard.cli import _parser, main
from switchboard.evaluation import read_tasks


def test_sample_then_eval_with_trials_prints_pass_hat_k_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "tau-sample", str(tmp_path / "sample"), "--tasks", "3"]) == 0
    tasks = tmp_path / "sample" / "tasks.json"
    assert len(read_tasks(tasks)) == 3
    capsys.readouterr()

    argv = ["eval", "tau", "--tasks", str(tasks), "--data", str(tmp_path / "sample" / "data")]
    assert main([*argv, "--limit", "1", "--trials", "2", "--workdir", str(tmp_path / "work"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # The instruction alone is the opening; the second trial cancels the same order
    # again, which only works because every trial gets a fresh copy of the database.
    assert report["tasks"] == 1 and report["trials_per_task"] == 2
    assert [t["reward"] for t in report["trials"]] == [1, 1]
    assert report["pass_hat_k"] == {"1": 1.0, "2": 1.0}
    assert report["question_channel"] is True and report["team"].endswith("retail-tau.yaml")
    assert len({t["thread_id"] for t in report["trials"]}) == 2


def test_bad_input_is_one_clear_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "tasks.json"
    bad.write_text('[{"user_id": "a"}]')
    assert main(["eval", "tau", "--tasks", str(bad), "--data", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "task 0 in" in err and "instruction" in err

    assert main(["eval", "tau-convert", str(tmp_path), "--out", str(tmp_path / "out.json")]) == 1
    assert "tau-bench checkout" in capsys.readouterr().err


def test_an_embedded_user_model_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = tmp_path / "tasks.json"
    tasks.write_text('[{"user_id": "a", "instruction": "hi"}]')
    argv = ["eval", "tau", "--tasks", str(tasks), "--data", str(tmp_path), "--user-model", "embedded"]
    assert main(argv) == 1
    assert "--user-model needs provider:model" in capsys.readouterr().err


def test_eval_tau_prints_pass_hat_1_and_a_per_task_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What `make eval` runs with no endpoint: generated tasks, the embedded default, pass^1 and a table."""
    assert main(["eval", "tau-sample", str(tmp_path / "sample"), "--tasks", "4"]) == 0
    capsys.readouterr()
    argv = [
        "eval",
        "tau",
        "--tasks",
        str(tmp_path / "sample" / "tasks.json"),
        "--data",
        str(tmp_path / "sample" / "data"),
    ]
    assert main([*argv, "--workdir", str(tmp_path / "work")]) == 0
    out = capsys.readouterr().out
    assert "pass^1: 1.000 over 4 tasks" in out
    assert all(task in out for task in ("cancel-0", "return-1", "tracking-2", "which-3"))
    assert "no question channel" not in out  # agents could ask the customer

    assert main([*argv, "--limit", "1", "--single-shot", "--workdir", str(tmp_path / "single"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["question_channel"] is False


def test_make_eval_passes_the_model_and_the_user_model_to_eval_tau() -> None:
    """`make eval MODEL=… USER_MODEL=…` is how a user with a real endpoint runs it: the line it would run."""
    repo = Path(__file__).parents[2]
    local = "openai:qwen?structured=json_schema&max_tokens=512&concurrency=1"  # `&` and `?` reach it intact
    variables = [f"MODEL={local}", "USER_MODEL=openai:gpt-4.1", "TASKS=t.json", "DATA=d", "EVAL_ARGS=--single-shot"]
    # Run as a top-level make even under `make test`: a nested make prints "Entering/Leaving directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}}
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "eval", *variables],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    line = dry.stdout.split(" eval tau ", 1)[1].replace("\\\n", " ")
    args = _parser().parse_args(["eval", "tau", *shlex.split(line)])
    assert (args.model, args.user_model, args.single_shot) == (local, "openai:gpt-4.1", True)
    assert (str(args.tasks), str(args.data), args.trials) == ("t.json", "d", 1)
