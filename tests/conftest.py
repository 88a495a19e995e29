"""Shared fixtures: a real retail database, real checkpoints, no network.

The demo dataset is generated once per session; each test gets its own copy
of the database and its own checkpoint file, so tests never see each other's
writes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from switchboard.domains.retail import DEMO_PERSONAS, generate_dataset, load_directory
from switchboard.settings import Settings
from switchboard.testing import make_principals


@pytest.fixture(autouse=True)
def _no_model_requests(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may reach a real provider or LangSmith by accident, or write outside its tmp dir."""
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path / "home"))
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("LANGCHAIN_TRACING_V2", "false")
    for key in (
        "SWITCHBOARD_MODEL",
        "SWITCHBOARD_TEAM",
        "SWITCHBOARD_CHECKPOINT_DB",
        "SWITCHBOARD_MAX_HOPS",
        "SWITCHBOARD_HEALTH_DB",
        "SWITCHBOARD_RETAIL_DB",
    ):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def principals(tmp_path: Path) -> Path:
    """The test's data directory with principals and their keys.

    alice is a finance_manager, bob a support_agent, sam a store_manager.

    Approvals are signed; sign with ``switchboard.testing.signed_answer`` or ``resume --as alice``.
    """
    home = tmp_path / "home"
    make_principals(home)
    return home


@pytest.fixture(scope="session")
def pristine_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated demo data, loaded once."""
    root = tmp_path_factory.mktemp("retail")
    data = generate_dataset(root / "data", seed=7)
    db = root / "pristine.sqlite"
    load_directory(data, db)
    return db


@pytest.fixture
def retail_db(pristine_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the retail database, named by SWITCHBOARD_RETAIL_DB."""
    db = tmp_path / "retail.sqlite"
    shutil.copy(pristine_db, db)
    monkeypatch.setenv("SWITCHBOARD_RETAIL_DB", str(db))
    return db


@pytest.fixture
def settings(retail_db: Path, tmp_path: Path) -> Settings:
    """Settings for a run on the private database with private checkpoints."""
    return Settings(checkpoint_db=str(tmp_path / "checkpoints.sqlite"))


@pytest.fixture
def mia() -> object:
    return DEMO_PERSONAS["mia_chen"]


@pytest.fixture
def omar() -> object:
    return DEMO_PERSONAS["omar_haddad"]
