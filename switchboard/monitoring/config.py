"""Monitoring configuration: where telemetry goes, thresholds, budgets, sinks.

Explicit argument, then environment variable, then default: a
:class:`MonitoringConfig` can be built in code, read from a YAML file named
by ``SWITCHBOARD_MONITORING`` (or ``monitoring.yaml`` in the data directory),
or left at its defaults. Example file::

    telemetry_db: /var/lib/switchboard/telemetry.sqlite   # default: DATA_DIR/telemetry.sqlite
    prices: ./prices.yaml                                  # default: the shipped table
    thresholds: {error_burst: 3, error_window_s: 60, latency_factor: 5}
    budgets: {run_cost: 0.50, thread_tokens: 200000, pause_when_spent: true}
    pause_on: [routing_loop, ping_pong]
    sinks:
      - {kind: log}
      - {kind: command, command: ["notify-send", "switchboard"]}
      - {kind: webhook, url: "http://127.0.0.1:9000/alerts"}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from switchboard.errors import ConfigError
from switchboard.monitoring.costs import Budget
from switchboard.policies.budgets import Budgets
from switchboard.policies.yaml_source import validate_yaml
from switchboard.settings import Settings

CONFIG_VARIABLE = "SWITCHBOARD_MONITORING"
"""Path of a monitoring YAML file."""
TELEMETRY_VARIABLE = "SWITCHBOARD_TELEMETRY_DB"
"""Path of the telemetry database, or ``off`` to record nothing."""
PRICES_VARIABLE = "SWITCHBOARD_PRICES"
DETECTORS = ("routing_loop", "ping_pong", "error_burst", "latency", "denial_burst", "budget", "escalation_wait")
"""The names alerts are raised with (``Alert.detector``): what ``pause_on`` may list."""


class Thresholds(BaseModel):
    """When each detector fires."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    loop_repeats: int = Field(default=4, ge=2)
    """Routing loop: the supervisor routes to the same agent this many times in a row in one thread."""
    ping_pong_cycles: int = Field(default=3, ge=2)
    """Ping-pong: routing alternates between the same two agents this many round trips."""
    error_burst: int = Field(default=3, ge=1)
    """Error burst: failed steps of one agent (one each, whatever failed inside) within ``error_window_s``."""
    error_window_s: float = Field(default=60.0, gt=0)
    latency_factor: float = Field(default=5.0, gt=1.0)
    """Latency: a step slower than this multiple of the agent's recent median for steps like it
    (calling a model, or not)..."""
    latency_floor_ms: float = Field(default=1000.0, ge=0)
    """...and slower than this, so fast agents' jitter is not an anomaly."""
    latency_min_samples: int = Field(default=5, ge=1)
    """Steps of an agent needed before its norm is trusted."""
    latency_history: int = Field(default=20, ge=1)
    denial_burst: int = Field(default=3, ge=1)
    """Denial burst: tool calls refused by policy within ``denial_window_s`` in one thread."""
    denial_window_s: float = Field(default=60.0, gt=0)
    escalation_wait_s: float = Field(default=3600.0, gt=0)
    """An escalation unanswered for longer than this raises an alert."""


class LogSinkConfig(BaseModel):
    """Write alerts to the ``switchboard.monitoring.alerts`` logger (always on by default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["log"] = "log"


class CommandSinkConfig(BaseModel):
    """Run a command per alert, with the alert's JSON on its standard input."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["command"] = "command"
    command: tuple[str, ...] = Field(min_length=1)
    timeout_s: float = Field(default=10.0, gt=0)


class WebhookSinkConfig(BaseModel):
    """POST each alert as JSON to a URL."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["webhook"] = "webhook"
    url: str = Field(pattern=r"^https?://")
    timeout_s: float = Field(default=5.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)


SinkConfig = Annotated[LogSinkConfig | CommandSinkConfig | WebhookSinkConfig, Field(discriminator="kind")]


class MonitoringConfig(BaseModel):
    """Everything the monitoring layer needs; every field has a default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    telemetry_db: Path | None = None
    """Default: ``telemetry.sqlite`` in the data directory."""
    prices: Path | None = None
    """A price YAML file; default: the shipped ``prices.yaml``."""
    thresholds: Thresholds = Thresholds()
    budgets: Budget = Budget()
    pause_on: frozenset[str] = frozenset()
    """Detectors whose alerts pause the run for a human (budgets also pause
    when ``budgets.pause_when_spent`` is set)."""
    sinks: tuple[SinkConfig, ...] = (LogSinkConfig(),)

    @field_validator("pause_on")
    @classmethod
    def _known_detectors(cls, pause_on: frozenset[str]) -> frozenset[str]:
        """Refuse a name no detector raises alerts with: it would match no alert, and nothing would pause."""
        unknown = [_unknown_detector(name) for name in sorted(pause_on) if name not in DETECTORS]
        if unknown:
            raise ValueError(f"no detector is called {', '.join(unknown)}; the detectors are {', '.join(DETECTORS)}")
        return pause_on

    @classmethod
    def load(cls, path: str | Path | None = None, settings: Settings | None = None) -> MonitoringConfig:
        """Read the configuration: ``path``, then ``$SWITCHBOARD_MONITORING``, then ``DATA_DIR/monitoring.yaml``.

        ``$SWITCHBOARD_TELEMETRY_DB`` and ``$SWITCHBOARD_PRICES`` override the
        file's ``telemetry_db`` and ``prices``; ``SWITCHBOARD_TELEMETRY_DB=off``
        turns recording off.

        The file is read like a policy file: a key given twice is refused
        (YAML would keep the last one silently), and each problem is given
        as ``FILE:LINE: field: message``.

        Raises:
            ConfigError: The file cannot be read, gives a key twice, or does
                not match the schema (an unknown detector in ``pause_on``).
        """
        settings = settings or Settings()
        named = path or os.environ.get(CONFIG_VARIABLE)
        source = Path(named) if named else settings.data_dir / "monitoring.yaml"
        overrides = _environment_overrides()
        if named or source.exists():
            config = validate_yaml(cls, source, kind="monitoring file", extra=overrides)
        else:
            try:
                config = cls.model_validate(overrides)
            except ValidationError as exc:
                raise ConfigError(f"monitoring settings from the environment are invalid (no {source}): {exc}") from exc
        if config.telemetry_db is None:
            config = config.model_copy(update={"telemetry_db": settings.data_dir / "telemetry.sqlite"})
        return config

    @classmethod
    def for_runs(cls, settings: Settings | None = None) -> MonitoringConfig:
        """:meth:`load`, with the run budgets of the team's policy file watched by the budget detector.

        What ``recording()`` uses when given no configuration: the policy's
        ``budgets: {tokens, cost_usd}`` become ``run_tokens`` and
        ``run_cost``; limits set in the monitoring file win.

        Raises:
            ConfigError: The monitoring file, the team or its policy is invalid.
        """
        from switchboard.agents.card import load_team  # the team is only needed when a run is recorded

        settings = settings or Settings()
        config = cls.load(settings=settings)
        budgets = _policy_budgets(load_team(settings.team).policy_path)
        return config.model_copy(update={"budgets": Budget.from_policy(budgets, config.budgets)})

    def with_budgets(self, budgets: Mapping[str, Any] | None) -> MonitoringConfig:
        """This configuration with the budgets of a policy file's ``budgets`` mapping (see ``Budget.from_mapping``).

        Raises:
            ConfigError: The mapping has an unknown key or a value out of range.
        """
        return self if budgets is None else self.model_copy(update={"budgets": Budget.from_mapping(budgets)})

    def database(self) -> Path:
        """The telemetry database path (``load`` fills in the default)."""
        return self.telemetry_db or Settings().data_dir / "telemetry.sqlite"


def _unknown_detector(name: str) -> str:
    """``name`` quoted, with the detector it most likely meant when one is close."""
    close = get_close_matches(name, DETECTORS, n=1)
    return f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)


def _environment_overrides() -> dict[str, Any]:
    """The fields ``$SWITCHBOARD_TELEMETRY_DB`` and ``$SWITCHBOARD_PRICES`` set over the file's."""
    overrides: dict[str, Any] = {}
    telemetry = os.environ.get(TELEMETRY_VARIABLE)
    if telemetry and telemetry.lower() == "off":
        overrides["enabled"] = False
    elif telemetry:
        overrides["telemetry_db"] = telemetry
    if os.environ.get(PRICES_VARIABLE):
        overrides["prices"] = os.environ[PRICES_VARIABLE]
    return overrides


def _policy_budgets(path: Path | None) -> Budgets:
    """The run budgets of the policy file at ``path``, parsed once per version of the file.

    Every run asks (its monitor watches the budgets), and parsing the policy
    YAML costs tens of milliseconds of CPU that concurrent runs would queue
    behind; the file's modification time and size key the cache, so an
    edited policy is read again.
    """
    if path is None or not path.is_file():
        return _parsed_budgets(path, 0, 0)  # no policy (no budgets), or a missing file (its error)
    stat = path.stat()
    return _parsed_budgets(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _parsed_budgets(path: Path | None, mtime_ns: int, size: int) -> Budgets:
    from switchboard.policies import load_policy

    return load_policy(path).budgets
