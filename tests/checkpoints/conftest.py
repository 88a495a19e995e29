"""A throwaway PostgreSQL server for the checkpoint tests (see ``benchmarks.postgres_server``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.postgres_server import throwaway_postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A ``postgresql://`` URL to a fresh, empty server shared by the session."""
    with throwaway_postgres() as url:
        yield url
