"""One setting picks the model; a bad spec is a clear error, not a traceback."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from switchboard.agents.card import load_team
from switchboard.engine import EmbeddedChatModel
from switchboard.errors import ConfigError
from switchboard.models import (
    ModelOptions,
    SlotLimiter,
    _provider_kwargs,
    model_options,
    parse_spec,
    resolve_model,
    structured_method,
)
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


README = Path(__file__).parents[1] / "README.md"
DOCUMENTED = {
    # endpoint (the table's first column starts with it): provider, method, init_chat_model kwargs, concurrency
    "OpenAI": ("openai", "function_calling", {"max_tokens": 1024, "timeout": 60.0}, None),
    "Anthropic": ("anthropic", "function_calling", {"max_tokens": 1024, "timeout": 60.0}, None),
    "Ollama": ("ollama", "json_schema", {"num_predict": 512, "client_kwargs": {"timeout": 600.0}}, 1),
    "llama.cpp": ("openai", "json_schema", {"max_tokens": 512, "timeout": 600.0}, 1),
}


def _documented_specs() -> dict[str, str]:
    """The README's "tested settings" table: endpoint to spec."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| endpoint | spec |") :].split("\n\n", 1)[0]
    rows = [line.split("|")[1:3] for line in table.splitlines()[2:]]
    specs = {}
    for endpoint, spec in rows:
        name = next(key for key in DOCUMENTED if endpoint.strip().startswith(key))
        specs[name] = re.fullmatch(r"\s*`([^`]+)`\s*", spec).group(1)  # type: ignore[union-attr]
    return specs


def test_each_documented_provider_setting_parses_into_the_settings_it_promises() -> None:
    specs = _documented_specs()
    assert set(specs) == set(DOCUMENTED)  # every provider the issue names has a row, and no row is unchecked
    for endpoint, spec in specs.items():
        provider, method, kwargs, concurrency = DOCUMENTED[endpoint]
        bare, options = parse_spec(spec, ModelOptions())
        assert bare.partition(":")[0] == provider, endpoint
        assert options.method(provider) == method, endpoint
        assert _provider_kwargs(provider, options) == kwargs, endpoint
        assert options.concurrency == concurrency, endpoint


def test_a_documented_local_spec_limits_concurrency_on_the_model_it_builds() -> None:
    """The spec's options travel with the model: the same parse, on a model that needs no provider package."""
    local = _documented_specs()["llama.cpp"]
    model = resolve_model("embedded?" + local.partition("?")[2], load_team(), env=ModelOptions())
    assert model_options(model) == parse_spec(local, ModelOptions())[1]
    assert structured_method(model) == "json_schema"
    assert any(isinstance(c, SlotLimiter) and c.slots == 1 for c in model.callbacks or [])  # type: ignore[union-attr]
