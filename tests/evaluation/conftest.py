"""Generated retail data in τ-bench's schema, and generated tasks over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.domains.retail import generate_dataset
from switchboard.evaluation import GeneratedTask, generate_tasks


@pytest.fixture(scope="session")
def tau_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated shop; nothing of τ-bench is needed."""
    return generate_dataset(tmp_path_factory.mktemp("tau") / "data", seed=5, users=40, orders=80)


@pytest.fixture(scope="session")
def generated(tau_data: Path) -> list[GeneratedTask]:
    """One task per intent: cancel, return, tracking (a look-up with an output)."""
    return generate_tasks(tau_data, count=3, seed=3)
