"""Settings: explicit argument, then environment variable, then default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from switchboard.models import ModelOptions

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
    model_max_tokens: int | None = Field(default=None, gt=0)
    """Default answer-length cap of every model (a spec's ``?max_tokens=`` wins)."""
    model_timeout: float | None = Field(default=None, gt=0)
    """Default seconds per model request (a spec's ``?timeout=`` wins)."""
    model_concurrency: int | None = Field(default=None, gt=0)
    """Default requests in flight per model (a spec's ``?concurrency=`` wins)."""
    model_structured: Literal["function_calling", "json_schema", "json_mode"] | None = None
    """Default structured-output method (a spec's ``?structured=`` wins); ``None``: per provider."""
    model_retries: int | None = Field(default=None, ge=0)
    """Extra attempts of a failed supervisor call before escalating (default 2)."""
    model_backoff: float | None = Field(default=None, ge=0)
    """Seconds before the first retry of a supervisor call, doubled each time (default 1)."""
    team: str = "retail"
    """A shipped team name or a path to a team YAML file."""
    home: Path | None = None
    """The data directory (``SWITCHBOARD_HOME``); default ``./.switchboard``."""
    checkpoint_db: str | None = None
    """A SQLite file path, or a ``postgresql://`` URL; default ``checkpoints.sqlite`` in ``home``."""
    checkpoint_key_file: Path | None = None
    """A file holding the hex key that signs the checkpoints (at least 32
    bytes). Processes sharing one checkpoint store from different data
    directories (workers on several hosts over Postgres) must share it;
    default: a key derived from the data directory's audit key."""
    health_db: str | None = None
    """SQLite file of live agent load and health, shared by every process
    that uses it; default ``health.sqlite`` beside a SQLite checkpoint file,
    or in ``home``."""
    max_hops: int = Field(default=12, ge=1)
    """Agent steps in a run before the supervisor must ask a human."""
    lock_ttl: float = Field(default=30.0, gt=0)
    """Seconds after which a SQLite thread lock whose holder stopped
    refreshing it (hung, or on another machine) may be taken over; a holder
    whose process is gone on this machine loses it at once."""

    mcp_keepalive: float = Field(default=60.0, ge=0)
    """Seconds a team's MCP servers stay up after the last run using them
    ends, so that the next run in this process (on the same event loop)
    reuses them instead of starting them again; ``0`` stops them with every
    run. ``asyncio.run`` ends them when it returns."""

    def model_options(self) -> ModelOptions:
        """The ``SWITCHBOARD_MODEL_*`` options, as defaults for every model spec."""
        from switchboard.models import ModelOptions

        given: dict[str, object] = {
            "max_tokens": self.model_max_tokens,
            "timeout": self.model_timeout,
            "concurrency": self.model_concurrency,
            "structured": self.model_structured,
            "retries": self.model_retries,
            "backoff": self.model_backoff,
        }
        return ModelOptions.model_validate({k: v for k, v in given.items() if v is not None})

    @property
    def data_dir(self) -> Path:
        """The data directory, absolute."""
        return self.home.expanduser().resolve() if self.home else data_home()

    def checkpoint_key(self) -> bytes:
        """The key that signs the checkpoints (see :mod:`switchboard.checkpoints.signing`)."""
        from switchboard.checkpoints.signing import checkpoint_key

        return checkpoint_key(self.data_dir, self.checkpoint_key_file)

    @property
    def checkpoint_target(self) -> str:
        """Where thread state is saved: the configured target or the default file."""
        return self.checkpoint_db or str(self.data_dir / "checkpoints.sqlite")


def invalid_settings(exc: BaseException) -> str | None:
    """What is wrong with the settings, naming each one's variable, if ``exc`` is their validation error.

    Settings come from ``SWITCHBOARD_*`` variables, so the variable is what
    a user has to fix; pydantic's own message names the field only.
    """
    if not isinstance(exc, ValidationError) or exc.title != Settings.__name__:
        return None
    prefix = Settings.model_config.get("env_prefix", "")
    bad = [
        f"{prefix}{str(e['loc'][0]).upper()}={e.get('input')!r}: {e['msg']}" if e["loc"] else e["msg"]
        for e in exc.errors()
    ]
    return "invalid setting: " + "; ".join(bad)
