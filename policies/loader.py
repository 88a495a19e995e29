"""Reading policy files from disk."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from switchboard.errors import ConfigError
from switchboard.policies.model import PolicyFile
from switchboard.policies.principals import Registry, expand_path, load_registry
from switchboard.policies.yaml_source import validate_yaml

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
    if not file.exists():
        raise ConfigError(f"cannot read policy file {file}: it does not exist; fix the team file's `policy`")
    return validate_yaml(PolicyFile, file, kind="policy file", extra={"source": file})


def principals_paths(policy: PolicyFile, env: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The principals files a policy names, resolved against the policy's folder."""
    base = policy.source.parent if policy.source else POLICIES_DIR
    return tuple(expand_path(p, base, env) for p in policy.principals)


def load_principals(policy: PolicyFile, env: Mapping[str, str] | None = None) -> Registry:
    """The principals in force for ``policy``, merged from the files it names.

    The first file is required (it is the reviewed one beside the policy);
    later ones may be missing (the data directory's, before any keygen).

    Raises:
        ConfigError: A file is invalid, or a rule names a role no principals
            file declares (a typo would otherwise make a rule unanswerable).
    """
    files = principals_paths(policy, env)
    registry = load_registry(files, required=files[:1])
    if files and registry.roles:
        unknown = sorted(policy.declared_roles() - set(registry.roles))
        if unknown:
            raise ConfigError(
                f"policy {policy.source or policy.name} names role(s) {', '.join(unknown)} that no principals file "
                f"declares ({', '.join(str(f) for f in registry.sources)}); declare them under `roles:`"
            )
    return registry
