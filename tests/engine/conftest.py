"""Fixtures for the embedded engine tests (helpers live in ``engine_kit`` and ``retail_shop``).

Every test that touches the shop gets its own copy of the generated demo
database (``pristine_db``, built once per session in ``tests/conftest.py``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.domains.retail import RetailStore
from switchboard.domains.retail.playbook import PLAYBOOK
from switchboard.engine import EmbeddedChatModel
from tests.engine.engine_kit import RetailTeam, load_cards
from tests.engine.retail_shop import MIA, Shop, identified


@pytest.fixture(scope="session")
def cards() -> list[dict[str, Any]]:
    """The prompt views of the real retail agent cards."""
    return load_cards()


@pytest.fixture(scope="session")
def model() -> EmbeddedChatModel:
    """The embedded model with the retail playbook."""
    return EmbeddedChatModel(playbook=PLAYBOOK)


@pytest.fixture
def open_shop(pristine_db: Path, tmp_path: Path) -> Iterator[Callable[[], Shop]]:
    """Opens a new shop over a fresh copy of the demo data, each time it is called."""
    stores: list[RetailStore] = []

    def open_one() -> Shop:
        db = tmp_path / f"shop-{len(stores)}.sqlite"
        shutil.copy(pristine_db, db)
        stores.append(RetailStore.open(db))
        return Shop(stores[-1])

    yield open_one
    for store in stores:
        store.close()


@pytest.fixture
def shop(open_shop: Callable[[], Shop]) -> Shop:
    """The real retail shop over this test's own database."""
    return open_shop()


@pytest.fixture
def team(model: EmbeddedChatModel, cards: list[dict[str, Any]], shop: Shop) -> RetailTeam:
    """The engine as every retail agent, over this test's shop."""
    return RetailTeam(model, cards, shop)


@pytest.fixture
def headphones(shop: Shop) -> dict[str, Any]:
    """What identification found for Mia's delivered headphones (order over $500, paid by credit card)."""
    return identified(shop, MIA, "delivered_over_500", "Headphones")


@pytest.fixture
def bottle(shop: Shop) -> dict[str, Any]:
    """What identification found for Mia's delivered water bottle (order under $500, paid by gift card)."""
    return identified(shop, MIA, "delivered_under_500", "Water Bottle")
