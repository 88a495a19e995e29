"""Fixtures for the embedded engine tests (helpers live in ``engine_kit``)."""

from __future__ import annotations

from typing import Any

import pytest

from domains.retail.playbook import PLAYBOOK
from switchboard.engine import EmbeddedChatModel
from tests.engine.engine_kit import FakeStore, load_cards


@pytest.fixture(scope="session")
def cards() -> list[dict[str, Any]]:
    """The prompt views of the real retail agent cards."""
    return load_cards()


@pytest.fixture(scope="session")
def model() -> EmbeddedChatModel:
    """The embedded model with the retail playbook."""
    return EmbeddedChatModel(playbook=PLAYBOOK)


@pytest.fixture
def store() -> FakeStore:
    """A fresh fake retail store."""
    return FakeStore()
