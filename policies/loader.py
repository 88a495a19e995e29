"""Reading policy files from disk."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from policies.model import PolicyFile
from switchboard.errors import ConfigError

POLICIES_DIR = Path(__file__).parent


def load_policy(path: str | Path | None) -> PolicyFile:
    """Load a policy file; a bare name is looked up in ``policies/``.

    ``None`` means no rules at all: every call is allowed.

    Raises:
        ConfigError: The file is missing or invalid; the message names it.
    """
    if path is None:
        return PolicyFile(name="none")
    file = Path(path)
    if not file.exists() and not file.is_absolute():
        file = POLICIES_DIR / file
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        return PolicyFile.model_validate({**(raw or {}), "source": file})
    except OSError as exc:
        raise ConfigError(f"cannot read policy file {file}: {exc}") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"policy file {file} is invalid:\n{exc}") from exc
