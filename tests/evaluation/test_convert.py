"""Converting a τ-bench checkout's task module, which is parsed, never imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.errors import DataError
from switchboard.evaluation import convert_checkout, parse_tasks, read_tasks

# A made-up module in τ-bench's layout: Task(...) and Action(...) calls with literal arguments.
MODULE = """
from tau_bench.types import Task, Action

TASKS_TEST = [
    Task(
        annotator="0",
        user_id="ana_lopez_1",
        instruction="You are Ana Lopez in 10001. You want to cancel order #W0000001.",
        actions=[
            Action(name="find_user_id_by_name_zip", kwargs={"first_name": "Ana", "last_name": "Lopez", "zip": "10001"}),
            Action(name="cancel_pending_order", kwargs={"order_id": "#W0000001", "reason": "ordered by mistake"}),
        ],
        outputs=[],
    ),
    Task(annotator="1", user_id="bo_kim_2", instruction="You are Bo Kim. Ask how many lamps exist.",
         actions=[Action(name="list_all_product_types", kwargs={})], outputs=["7"]),
]
"""


def test_the_tasks_are_read_from_source_in_order() -> None:
    tasks = parse_tasks(MODULE)
    assert [t.user_id for t in tasks] == ["ana_lopez_1", "bo_kim_2"]
    assert [t.id for t in tasks] == ["0", "1"]
    assert tasks[0].actions[1].kwargs == {"order_id": "#W0000001", "reason": "ordered by mistake"}
    assert tasks[1].outputs == ["7"] and tasks[1].annotator == "1"


def test_a_checkout_is_converted_to_a_task_file(tmp_path: Path) -> None:
    retail = tmp_path / "tau-bench" / "tau_bench" / "envs" / "retail"
    retail.mkdir(parents=True)
    (retail / "tasks_test.py").write_text(MODULE)
    out, count = convert_checkout(tmp_path / "tau-bench", tmp_path / "tasks.json")
    assert count == 2
    assert read_tasks(out) == parse_tasks(MODULE)


def test_code_in_a_task_is_refused_not_run() -> None:
    with pytest.raises(DataError, match="only literal task fields"):
        parse_tasks('Task(user_id=__import__("os").getcwd(), instruction="x", actions=[], outputs=[])')


def test_a_wrong_checkout_or_split_says_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="tau-bench checkout"):
        convert_checkout(tmp_path, tmp_path / "out.json")
    with pytest.raises(DataError, match="unknown split"):
        convert_checkout(tmp_path, tmp_path / "out.json", split="valid")
    with pytest.raises(DataError, match="no Task"):
        parse_tasks("x = 1")
