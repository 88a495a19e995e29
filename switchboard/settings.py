"""Settings: explicit argument, then environment variable, then default."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a run, read from ``SWITCHBOARD_*`` environment variables.

    Domain settings (such as ``SWITCHBOARD_RETAIL_DB``) are not here: they are
    read by the domain's own ``setup`` hook named in its team file.
    """

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    model: str = "embedded"
    """``embedded`` (the offline engine) or ``provider:model``, for example
    ``openai:gpt-4.1-mini``, ``anthropic:claude-sonnet-4-5``, ``ollama:qwen2.5:7b``."""
    team: str = "retail"
    """A shipped team name or a path to a team YAML file."""
    checkpoint_db: str | None = None
    """A SQLite file path, or a ``postgresql://`` URL; default ``checkpoints/switchboard.sqlite``."""
    health_db: str | None = None
    """SQLite file of live agent load and health, shared by every process
    that uses it; default ``health.sqlite`` beside a SQLite checkpoint file,
    or in ``checkpoints/``."""
    max_hops: int = 12
    """Agent steps in a run before the supervisor must ask a human."""
