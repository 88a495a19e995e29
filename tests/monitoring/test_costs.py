"""Prices come from YAML; tokens from the provider when given, else four characters a token."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from switchboard.errors import ConfigError
from switchboard.monitoring import Budget, MonitoringConfig, PriceTable
from switchboard.monitoring.costs import approx_tokens, message_chars, usage_of


def test_the_shipped_price_table_prices_known_models_and_defaults_the_rest() -> None:
    prices = PriceTable.load()
    assert prices.cost("openai:gpt-4.1-mini", 1_000_000, 1_000_000) == pytest.approx(2.0)
    assert prices.price("gpt-4.1-mini-2025-04-14") == prices.models["gpt-4.1-mini*"]  # longest prefix wins
    assert prices.price("gpt-4.1-2025-04-14") == prices.models["gpt-4.1*"]
    assert prices.cost("switchboard-embedded", 10_000, 10_000) == 0.0
    assert prices.price("someone-elses-model") == prices.default


def test_a_price_file_can_be_given_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    good = tmp_path / "prices.yaml"
    good.write_text("currency: EUR\nmodels:\n  house-model: {input: 1.5, output: 3}\n")
    assert PriceTable.load(good).cost("house-model", 2_000_000, 0) == pytest.approx(3.0)
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  house-model: {input: -1, output: 3}\n")
    with pytest.raises(ConfigError, match="invalid"):
        PriceTable.load(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        PriceTable.load(tmp_path / "missing.yaml")


def result(message: AIMessage) -> LLMResult:
    return LLMResult(generations=[[ChatGeneration(message=message)]])


def test_provider_usage_is_used_when_given() -> None:
    reply = AIMessage("hello", usage_metadata={"input_tokens": 120, "output_tokens": 7, "total_tokens": 127})
    usage = usage_of(result(reply), prompt_chars=400)
    assert (usage.tokens_in, usage.tokens_out, usage.estimated) == (120, 7, False)


def test_without_usage_tokens_are_four_characters_each_rounded_up() -> None:
    reply = AIMessage("", tool_calls=[{"name": "handoff", "args": {"summary": "done"}, "id": "1"}])
    usage = usage_of(result(reply), prompt_chars=message_chars([HumanMessage("x" * 401)]))
    assert usage.estimated and usage.tokens_in == 101
    assert usage.tokens_out == approx_tokens('[{"summary": "done"}]') == 6


def test_budgets_read_the_documented_keys_and_refuse_unknown_ones() -> None:
    budget = Budget.from_mapping({"run_cost": 0.5, "agent_cost": {"finance": 0.1}, "pause_when_spent": True})
    assert budget.run_cost == 0.5 and budget.agent_cost == {"finance": 0.1} and budget.pause_when_spent
    with pytest.raises(ConfigError, match="budgets"):
        Budget.from_mapping({"run_dollars": 1})
    with pytest.raises(ConfigError, match="budgets"):
        Budget.from_mapping({"warn_at": 2})
    config = MonitoringConfig().with_budgets({"thread_tokens": 5000})
    assert config.budgets.thread_tokens == 5000 and MonitoringConfig().with_budgets(None).budgets == Budget()


def test_monitoring_config_reads_a_file_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file = tmp_path / "monitoring.yaml"
    config_file.write_text(
        "thresholds: {error_burst: 5}\nbudgets: {thread_tokens: 9000}\npause_on: [routing_loop]\n"
        "sinks: [{kind: webhook, url: 'http://127.0.0.1:9/x'}]\n"
    )
    monkeypatch.setenv("SWITCHBOARD_MONITORING", str(config_file))
    monkeypatch.setenv("SWITCHBOARD_TELEMETRY_DB", str(tmp_path / "t.sqlite"))
    config = MonitoringConfig.load()
    assert config.thresholds.error_burst == 5 and config.budgets.thread_tokens == 9000
    assert config.pause_on == {"routing_loop"} and config.sinks[0].kind == "webhook"
    assert config.database() == tmp_path / "t.sqlite"
    monkeypatch.setenv("SWITCHBOARD_TELEMETRY_DB", "off")
    assert not MonitoringConfig.load().enabled
    config_file.write_text("sinks: [{kind: webhook, url: 'ftp://nowhere'}]\n")
    with pytest.raises(ConfigError, match="invalid"):
        MonitoringConfig.load()


def test_the_default_database_is_in_the_data_dir(tmp_path: Path) -> None:
    assert MonitoringConfig.load().database() == tmp_path / "home" / "telemetry.sqlite"


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("anthropic:claude-sonnet-4-5-20250929", "claude-sonnet-4-5*"),  # what ChatAnthropic reports, pinned
        ("anthropic:claude-haiku-4-5-20251001", "claude-haiku-4-5*"),
        ("openai:gpt-4.1-mini-2025-04-14", "gpt-4.1-mini*"),
        ("openai:gpt-4.1-2025-04-14", "gpt-4.1*"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5*"),  # a bare name, as a response reports it
    ],
)
def test_a_pinned_model_costs_what_its_family_costs(model: str, key: str) -> None:
    prices = PriceTable.load()
    assert prices.price(model) == prices.models[key]


def test_a_provider_key_prices_its_pinned_versions_and_wins_over_a_bare_rule(tmp_path: Path) -> None:
    file = tmp_path / "prices.yaml"
    file.write_text(
        "models:\n"
        "  'openai:house': {input: 1, output: 1}\n"
        "  'ollama:*': {input: 0, output: 0}\n"
        "  'gpt-4.1*': {input: 2, output: 8}\n"
    )
    prices = PriceTable.load(file)
    assert prices.price("openai:house-2025-04-14") == prices.models["openai:house"]
    assert prices.price("openai:house-20250414") == prices.models["openai:house"]
    assert prices.price("ollama:gpt-4.1-local") == prices.models["ollama:*"]  # run locally, not OpenAI's


def test_unrelated_models_keep_the_default_price() -> None:
    prices = PriceTable.load()
    for model in ("anthropic:claude-opus-4-1-20250805", "openai:o3-2025-04-16", "llama3.1:8b", "mistral:7b"):
        assert prices.price(model) == prices.default, model
    assert prices.price("ollama:llama3.1:8b").input == 0.0
