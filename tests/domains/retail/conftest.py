"""Fixtures for the retail domain: every test builds its own shop in tmp_path.

The data comes from the generator (small sizes keep a test's setup near
30 ms), is loaded by the loader, and is operated on with a fixed clock so
dates in the return process are predictable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from switchboard.domains.retail import RetailOperations, RetailStore, generate_dataset
from switchboard.domains.retail import load_directory as load
from tests.domains.retail.helpers import NOW


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A small generated dataset: the personas plus a few random customers."""
    return generate_dataset(tmp_path / "data", seed=7, users=30, orders=60)


@pytest.fixture
def db_path(data_dir: Path, tmp_path: Path) -> Path:
    """The dataset loaded into this test's own database."""
    return load(data_dir, tmp_path / "retail.sqlite").db_path


@pytest.fixture
def store(db_path: Path) -> Iterator[RetailStore]:
    with RetailStore.open(db_path) as opened:
        yield opened


@pytest.fixture
def ops(store: RetailStore) -> RetailOperations:
    return RetailOperations(store, clock=lambda: NOW)


@pytest.fixture
def dump(db_path: Path) -> Callable[[], list[str]]:
    """Every row of every table, as SQL, read through a separate connection.

    Comparing two dumps proves that a refused operation wrote nothing at all,
    not only that the record under test is unchanged.
    """

    def read() -> list[str]:
        conn = sqlite3.connect(db_path)
        try:
            return list(conn.iterdump())
        finally:
            conn.close()

    return read
