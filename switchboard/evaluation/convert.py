"""Turn a τ-bench checkout's retail tasks into a task file, without running its code.

τ-bench keeps its tasks as Python source (``tau_bench/envs/retail/tasks_test.py``):
a list of ``Task(...)`` calls whose arguments are literals. Importing that
module would pull in τ-bench's own dependencies, so the file is parsed
instead, and only literals are accepted. Nothing of τ-bench is copied into
Switchboard; the converted file lives wherever the user writes it.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from switchboard.errors import DataError
from switchboard.evaluation.tasks import TauTask, write_tasks

SPLITS = ("test", "train", "dev")
"""The retail task modules a τ-bench checkout may hold (``tasks_SPLIT.py``)."""

RETAIL_DIR = Path("tau_bench") / "envs" / "retail"


def tasks_module(checkout: str | Path, split: str = "test") -> Path:
    """The task module of ``split`` in a τ-bench checkout.

    Raises:
        DataError: The checkout has no such module.
    """
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    module = Path(checkout) / RETAIL_DIR / f"tasks_{split}.py"
    if not module.is_file():
        raise DataError(f"{module} does not exist; point at the root of a sierra-research/tau-bench checkout")
    return module


def data_directory(checkout: str | Path) -> Path:
    """Where a τ-bench checkout keeps its retail data (users, orders, products)."""
    return Path(checkout) / RETAIL_DIR / "data"


def parse_tasks(source: str, where: str = "<tasks>") -> list[TauTask]:
    """The tasks of a τ-bench task module, read from its source text.

    Raises:
        DataError: The module holds no ``Task(...)`` calls, or one of them has
            an argument that is not a literal.
    """
    try:
        tree = ast.parse(source, filename=where)
    except SyntaxError as exc:
        raise DataError(f"{where} is not Python source ({exc})") from exc
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _called(node) == "Task"]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    tasks = [_task(node, where, position) for position, node in enumerate(calls)]
    if not tasks:
        raise DataError(f"{where} holds no Task(...) entries; is it a τ-bench tasks_*.py module?")
    return tasks


def convert_checkout(checkout: str | Path, out: str | Path, split: str = "test") -> tuple[Path, int]:
    """Write the retail tasks of a τ-bench checkout to a JSON task file.

    Returns:
        The file written and the number of tasks in it.
    """
    module = tasks_module(checkout, split)
    tasks = parse_tasks(module.read_text(encoding="utf-8"), str(module))
    return write_tasks(tasks, out), len(tasks)


def _called(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _task(node: ast.Call, where: str, position: int) -> TauTask:
    fields = {kw.arg: _literal(kw.value, where) for kw in node.keywords if kw.arg}
    fields.setdefault("id", str(position))
    try:
        return TauTask.model_validate(fields)
    except ValidationError as exc:
        raise DataError(f"{where} line {node.lineno}: not a τ-bench task ({exc.errors()[0]['msg']})") from exc


def _literal(node: ast.expr, where: str) -> Any:
    """A literal, with ``Action(name=..., kwargs=...)`` calls turned into dicts."""
    if isinstance(node, ast.Call) and _called(node) == "Action":
        return {kw.arg: _literal(kw.value, where) for kw in node.keywords if kw.arg}
    if isinstance(node, ast.List):
        return [_literal(item, where) for item in node.elts]
    try:
        return ast.literal_eval(node)
    except ValueError as exc:
        raise DataError(
            f"{where} line {node.lineno}: only literal task fields can be converted, found {ast.unparse(node)[:80]!r}"
        ) from exc
