"""One setting picks the model; a bad spec is a clear error, not a traceback."""

from __future__ import annotations

import importlib.util

import pytest

from switchboard.agents.card import load_team
from switchboard.engine import EmbeddedChatModel
from switchboard.errors import ConfigError
from switchboard.models import ModelOptions, _provider_kwargs, model_options, parse_spec, resolve_model
from switchboard.settings import Settings


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


# --- per-model options (issue 11, defect 5) -----------------------------------------------------


def test_spec_options_override_the_environment_defaults() -> None:
    env = Settings(model_max_tokens=256, model_timeout=60, model_structured="json_mode").model_options()
    bare, options = parse_spec("openai:qwen?max_tokens=512&concurrency=1&structured=json_schema", env)
    assert bare == "openai:qwen"
    assert (options.max_tokens, options.timeout, options.concurrency) == (512, 60, 1)
    assert options.method("openai") == "json_schema"


def test_environment_variables_set_every_models_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_MODEL_CONCURRENCY", "2")
    monkeypatch.setenv("SWITCHBOARD_MODEL_RETRIES", "0")
    model = resolve_model("embedded", load_team())
    assert model_options(model).concurrency == 2 and model_options(model).retries == 0


@pytest.mark.parametrize("query", ["max_tokens=0", "concurrency=none", "structured=xml", "temperature=0"])
def test_a_bad_option_is_a_clear_error(query: str) -> None:
    with pytest.raises(ConfigError, match="known options: max_tokens, timeout, concurrency"):
        resolve_model(f"embedded?{query}", load_team(), env=ModelOptions())


def test_structured_method_defaults_per_provider() -> None:
    options = ModelOptions()
    assert [options.method(p) for p in ("openai", "anthropic", "ollama", "embedded")] == [
        "function_calling",
        "function_calling",
        "json_schema",
        "function_calling",
    ]


def test_options_become_each_providers_own_arguments() -> None:
    options = ModelOptions(max_tokens=512, timeout=300)
    assert _provider_kwargs("openai", options) == {"max_tokens": 512, "timeout": 300}
    assert _provider_kwargs("anthropic", options) == {"max_tokens": 512, "timeout": 300}
    assert _provider_kwargs("ollama", options) == {"num_predict": 512, "client_kwargs": {"timeout": 300}}
