"""Reading policy files from disk."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from switchboard.errors import ConfigError
from switchboard.policies.model import PolicyFile

POLICIES_DIR = Path(__file__).parent


def resolve_policy_path(path: str | Path, base: Path | None = None) -> Path:
    """Where a policy file named by a team file lives.

    A relative path is resolved against ``base`` (the team file's folder),
    then against the shipped ``policies/`` folder; never against the working
    directory, so a stray file where a command runs cannot replace the rules.
    """
    file = Path(path).expanduser()
    if file.is_absolute():
        return file
    candidates = [base / file] if base is not None else []
    candidates.append(POLICIES_DIR / file)
    return next((c for c in candidates if c.exists()), candidates[0]).resolve()


def load_policy(path: str | Path | None, *, base: Path | None = None) -> PolicyFile:
    """Load a policy file.

    Args:
        path: The file; ``None`` means no rules at all (every call allowed).
        base: The folder a relative ``path`` is resolved against (the team
            file's); the shipped ``policies/`` folder is the fallback.

    Raises:
        ConfigError: The file is missing or invalid; the message names it.
    """
    if path is None:
        return PolicyFile(name="none")
    file = resolve_policy_path(path, base)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        return PolicyFile.model_validate({**(raw or {}), "source": file})
    except OSError as exc:
        raise ConfigError(f"cannot read policy file {file}: {exc}") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"policy file {file} is invalid:\n{exc}") from exc
