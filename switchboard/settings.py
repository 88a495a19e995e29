"""Settings: explicit argument, then environment variable, then default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

HOME_VARIABLE = "SWITCHBOARD_HOME"
DEFAULT_HOME = ".switchboard"


def data_home(env: Mapping[str, str] | None = None) -> Path:
    """The one directory Switchboard writes to: databases, locks, demo data.

    ``SWITCHBOARD_HOME``, else ``./.switchboard`` in the working directory,
    made absolute so that a child process (an MCP server) sees the same place.
    Nothing is ever written beside the installed package.
    """
    values = os.environ if env is None else env
    return Path(values.get(HOME_VARIABLE) or DEFAULT_HOME).expanduser().resolve()


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
    home: Path | None = None
    """The data directory (``SWITCHBOARD_HOME``); default ``./.switchboard``."""
    checkpoint_db: str | None = None
    """A SQLite file path, or a ``postgresql://`` URL; default ``checkpoints.sqlite`` in ``home``."""
    health_db: str | None = None
    """SQLite file of live agent load and health, shared by every process
    that uses it; default ``health.sqlite`` beside a SQLite checkpoint file,
    or in ``home``."""
    max_hops: int = 12
    """Agent steps in a run before the supervisor must ask a human."""
    lock_ttl: float = Field(default=30.0, gt=0)
    """Seconds after which a SQLite thread lock whose holder stopped
    refreshing it (hung, or on another machine) may be taken over; a holder
    whose process is gone on this machine loses it at once."""

    @property
    def data_dir(self) -> Path:
        """The data directory, absolute."""
        return self.home.expanduser().resolve() if self.home else data_home()

    @property
    def checkpoint_target(self) -> str:
        """Where thread state is saved: the configured target or the default file."""
        return self.checkpoint_db or str(self.data_dir / "checkpoints.sqlite")
