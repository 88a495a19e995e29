"""One setting picks the model; a bad spec is a clear error, not a traceback."""

from __future__ import annotations

import importlib.util

import pytest

from switchboard.agents.card import load_team
from switchboard.engine import EmbeddedChatModel
from switchboard.errors import ConfigError
from switchboard.models import resolve_model


def test_default_is_the_embedded_engine_with_the_team_playbook() -> None:
    model = resolve_model(None, load_team())
    assert isinstance(model, EmbeddedChatModel)
    assert model._llm_type == "switchboard-embedded"


@pytest.mark.parametrize("spec", ["gpt-4", "openai:", ":gpt-4"])
def test_malformed_spec_says_what_a_spec_looks_like(spec: str) -> None:
    with pytest.raises(ConfigError, match="provider:model"):
        resolve_model(spec, load_team())


def test_missing_provider_integration_names_the_extra_to_install() -> None:
    spec = "anthropic:claude-sonnet-4-5"
    if importlib.util.find_spec("langchain_anthropic") is not None:
        pytest.fail("this test expects the anthropic extra not to be installed in the test environment")
    with pytest.raises(ConfigError, match=r"switchboard\[anthropic\]"):
        resolve_model(spec, load_team())


def test_team_without_a_playbook_gets_the_engine_routing_by_cards_alone() -> None:
    team = load_team().model_copy(update={"engine": None})
    model = resolve_model("embedded", team)
    assert isinstance(model, EmbeddedChatModel)
    assert model.playbook.name == "empty"  # no intents or recipes: it routes by the cards' skills
