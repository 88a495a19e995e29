"""Reading task files: the formats accepted, and clear errors for the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard.errors import DataError
from switchboard.evaluation import EvalConfig, TauTask, read_tasks, run_eval, write_tasks
from switchboard.settings import Settings

TASK = {
    "user_id": "ana_lopez_1",
    "instruction": "You are Ana Lopez. Cancel order #W0000001.",
    "actions": [{"name": "cancel_pending_order", "kwargs": {"order_id": "#W0000001", "reason": "no longer needed"}}],
    "outputs": ["42"],
}


def test_reads_a_json_array_and_numbers_the_tasks(tmp_path: Path) -> None:
    file = tmp_path / "tasks.json"
    file.write_text(json.dumps([TASK, {**TASK, "outputs": []}]))
    tasks = read_tasks(file)
    assert [t.id for t in tasks] == ["0", "1"]
    assert tasks[0].actions[0].kwargs["order_id"] == "#W0000001"
    assert tasks[0].outputs == ["42"] and tasks[1].outputs == []


def test_reads_jsonl_an_object_with_tasks_and_a_directory(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps(TASK) + "\n\n" + json.dumps({**TASK, "id": "named"}) + "\n")
    (tmp_path / "b.json").write_text(json.dumps({"tasks": [TASK]}))
    (tmp_path / "notes.txt").write_text("ignored")
    tasks = read_tasks(tmp_path)
    assert [t.id for t in tasks] == ["a:0", "named", "b:0"]


def test_write_then_read_gives_the_same_tasks(tmp_path: Path) -> None:
    original = [TauTask.model_validate({**TASK, "id": "x"})]
    assert read_tasks(write_tasks(original, tmp_path / "out.json")) == original


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[{", "is not valid JSON"),
        ('{"user_id": "a"}', "must hold a JSON array"),
        (json.dumps([{**TASK, "instruction": ""}]), "task 0 in"),
        (json.dumps([{**TASK, "actions": [{"kwargs": {}}]}]), "actions.0.name"),
        ("[]", "holds no tasks"),
    ],
)
def test_a_bad_file_is_refused_with_the_place_and_the_fix(tmp_path: Path, content: str, message: str) -> None:
    file = tmp_path / "tasks.json"
    file.write_text(content)
    with pytest.raises(DataError, match=message):
        read_tasks(file)


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="tau-convert"):
        read_tasks(tmp_path / "nope.json")


async def test_tasks_sharing_an_id_are_refused_before_anything_runs(tmp_path: Path) -> None:
    twins = [TauTask.model_validate({**TASK, "id": "a:1"}), TauTask.model_validate({**TASK, "id": "a_1"})]
    config = EvalConfig(data_dir=tmp_path / "no-data", settings=Settings(), workdir=tmp_path / "work")
    with pytest.raises(DataError, match="share an id"):
        await run_eval(twins, config)
    assert not (tmp_path / "work").exists()
