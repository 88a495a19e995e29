"""Tasks in τ-bench's format, read from files the user points at.

A task is what τ-bench calls a ``Task``: the user it is about, the
instruction the simulated user plays from, the reference actions whose
replay gives the expected database, and the outputs the agent must tell the
user. Nothing of τ-bench ships with Switchboard; a τ-bench checkout is turned
into such a file by :func:`switchboard.evaluation.convert.convert_checkout`.

Accepted files: a JSON array of tasks, a JSON object ``{"tasks": [...]}``, or
JSON Lines (one task per line). A directory is read file by file, in name
order, for every ``*.json`` and ``*.jsonl`` in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchboard.errors import DataError


class TauAction(BaseModel):
    """One reference action: a retail operation and its arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    """The operation, as τ-bench names it (``cancel_pending_order``)."""
    kwargs: dict[str, Any] = Field(default_factory=dict)
    """Its arguments, by name."""


class TauTask(BaseModel):
    """One task in τ-bench's format."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    user_id: str = Field(min_length=1)
    """The user the task is about; the simulated user plays this person."""
    instruction: str = Field(min_length=1)
    """What the simulated user wants, written to the user (``You are ...``)."""
    actions: list[TauAction] = Field(default_factory=list)
    """The reference actions; replayed on a fresh database they give the expected state."""
    outputs: list[str] = Field(default_factory=list)
    """Strings the agent must tell the user (compared case-insensitively, commas removed)."""
    annotator: str | None = None
    """Who wrote the task, kept for reference."""
    id: str | None = None
    """A label for reports; the position in the file when absent."""


def read_tasks(path: str | Path) -> list[TauTask]:
    """Read and validate every task in a file or directory.

    Raises:
        DataError: The path is missing, a file is not JSON, or a task does not
            follow the format; the message names the file and the task.
    """
    source = Path(path)
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix in {".json", ".jsonl"})
        if not files:
            raise DataError(f"{source} holds no *.json or *.jsonl task files; convert a τ-bench checkout first")
    elif source.is_file():
        files = [source]
    else:
        raise DataError(
            f"task file {source} does not exist; convert a τ-bench checkout with "
            "`switchboard eval tau-convert PATH --out tasks.json`"
        )
    tasks: list[TauTask] = []
    for file in files:
        prefix = f"{file.stem}:" if len(files) > 1 else ""
        for position, raw in enumerate(_raw_tasks(file)):
            tasks.append(_validated(file, position, raw, prefix))
    if not tasks:
        raise DataError(f"{source} holds no tasks")
    return tasks


def write_tasks(tasks: Iterable[TauTask], path: str | Path) -> Path:
    """Write tasks as a JSON array that :func:`read_tasks` reads back."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = [task.model_dump(mode="json", exclude_none=True) for task in tasks]
    target.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def _raw_tasks(file: Path) -> list[Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read task file {file}: {exc}") from exc
    if file.suffix == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                rows.append(_loads(line, f"{file} line {number}"))
        return rows
    data = _loads(text, str(file))
    if isinstance(data, dict) and isinstance(data.get("tasks"), list):
        return list(data["tasks"])
    if not isinstance(data, list):
        raise DataError(f"{file} must hold a JSON array of tasks or an object with a `tasks` array")
    return data


def _loads(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where} is not valid JSON ({exc}); fix it or convert the tasks again") from exc


def _validated(file: Path, position: int, raw: Any, prefix: str) -> TauTask:
    try:
        task = TauTask.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'task'}: {err['msg']}" for err in exc.errors()[:3]
        )
        raise DataError(
            f"task {position} in {file} is not a τ-bench task ({problems}); each task needs "
            "user_id, instruction, actions [{name, kwargs}] and outputs [strings]"
        ) from exc
    return task if task.id else task.model_copy(update={"id": f"{prefix}{position}"})
