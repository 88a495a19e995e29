"""The database side of an evaluation: fresh copies, the expected state, the diff.

Every trial runs on its own copy of one pristine database, and the expected
state of a task is what replaying its reference actions on another copy
gives, through the same :class:`~switchboard.domains.retail.RetailOperations`
the MCP server serves. Comparing the two is τ-bench's test of the actions:
the tables must be equal, record for record.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from switchboard.domains.retail import RetailOperations, RetailStore, load_directory
from switchboard.errors import DataError, ToolError
from switchboard.evaluation.tasks import TauAction

COMPARED_TABLES = {"users": "user_id", "orders": "order_id", "products": "product_id"}
"""The benchmark's own tables, with their keys. τ-bench hashes all three; the
extension tables (notifications, pickups, return reasons) have no
counterpart there and are not compared."""

NOT_OPERATIONS = frozenset({"respond", "think"})
"""Reference actions that talk or think rather than operate; replay skips them."""

State = dict[str, dict[str, Any]]
"""Table name to ``{key: record}``."""


@dataclass(frozen=True)
class ReplayStep:
    """One reference action as replayed."""

    name: str
    """The operation."""
    ok: bool
    """False when the operation refused (τ-bench keeps going, so do we)."""
    error: str | None = None
    """Why it refused."""


@dataclass(frozen=True)
class StateDiff:
    """One record that differs between the expected and the final database."""

    table: str
    """``users``, ``orders`` or ``products``."""
    key: str
    """The record's id."""
    change: Literal["missing", "unexpected", "changed"]
    """Missing from the final state, only in the final state, or different."""
    fields: tuple[str, ...] = ()
    """For a changed record: the paths that differ (``status``, ``payment_history[1]``)."""

    def __str__(self) -> str:
        where = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.table}[{self.key}] {self.change}{where}"


def load_pristine(data_dir: str | Path, workdir: str | Path) -> Path:
    """Load a τ-bench-schema data directory once; every copy starts from it."""
    return load_directory(data_dir, Path(workdir) / "pristine.sqlite").db_path


def fresh_copy(pristine: Path, target: Path) -> Path:
    """A private copy of the pristine database, for one trial or one replay."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pristine, target)
    return target


def replay(db: Path, actions: Sequence[TauAction]) -> list[ReplayStep]:
    """Apply reference actions to ``db`` in order, as τ-bench does to compute its answer.

    Raises:
        DataError: An action names an operation the retail store does not
            have, or gives it arguments it does not take.
    """
    steps = []
    with RetailStore.open(db) as store:
        operations = RetailOperations(store)
        for action in actions:
            if action.name in NOT_OPERATIONS:
                continue
            method = getattr(operations, action.name, None) if not action.name.startswith("_") else None
            if method is None:
                raise DataError(f"reference action {action.name!r} is not a retail operation")
            try:
                method(**action.kwargs)
            except ToolError as exc:
                steps.append(ReplayStep(action.name, False, str(exc)))
                continue
            except TypeError as exc:
                raise DataError(f"reference action {action.name!r} has arguments it does not take: {exc}") from exc
            steps.append(ReplayStep(action.name, True))
    return steps


def read_state(db: Path) -> State:
    """The compared tables of a retail database, as whole records by key.

    Read straight from the store's files (each row keeps its record as JSON),
    read-only, so the comparison cannot change what it compares.
    """
    state: State = {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for table, key in COMPARED_TABLES.items():
            rows = conn.execute(f"SELECT {key}, data FROM {table}").fetchall()
            state[table] = {str(k): json.loads(data) for k, data in rows}
    conn.close()
    return state


def diff_states(expected: State, actual: State) -> list[StateDiff]:
    """Every record that differs, table by table, in key order; empty when equal."""
    diffs = []
    for table in COMPARED_TABLES:
        want, got = expected.get(table, {}), actual.get(table, {})
        for key in sorted(set(want) | set(got)):
            if key not in got:
                diffs.append(StateDiff(table, key, "missing"))
            elif key not in want:
                diffs.append(StateDiff(table, key, "unexpected"))
            elif want[key] != got[key]:
                diffs.append(StateDiff(table, key, "changed", tuple(_paths(want[key], got[key]))))
    return diffs


def _paths(want: Any, got: Any, prefix: str = "") -> list[str]:
    """Where two JSON values differ, as short paths; the value itself when not nested."""
    if isinstance(want, Mapping) and isinstance(got, Mapping):
        paths = []
        for key in sorted(set(want) | set(got), key=str):
            if want.get(key) != got.get(key):
                paths += _paths(want.get(key), got.get(key), f"{prefix}.{key}" if prefix else str(key))
        return paths
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        paths = []
        for index, (a, b) in enumerate(zip(want, got, strict=True)):
            if a != b:
                paths += _paths(a, b, f"{prefix}[{index}]")
        return paths
    return [prefix or "record"]
