"""Principals: the people (or services) who may approve, with roles and keys.

A principals file sits beside the policy that names it. It says who exists,
which roles each holds and the Ed25519 *public* key their approvals are
checked against. Private keys never appear in it: each approver keeps their
own (``switchboard principals keygen`` writes it to the data directory with
mode 0600). So a person who can read the checkpoint database, or even edit
thread state, still cannot forge an approval: that needs the private key.

A policy may name several principals files (for example a reviewed file in
the repository and one in the data directory for the demo's keys). A name may
be defined in one file only, so a later file can never re-key or re-role a
principal an earlier, reviewed file defines.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from switchboard.errors import ConfigError

_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
"""A principal's name, matched with ``fullmatch``: ``$`` would accept a trailing newline, a second "alice"."""
_VAR = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


class Principal(BaseModel):
    """One person or service that may answer approval questions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Lower-case handle given to ``resume --as``."""
    roles: tuple[str, ...] = Field(min_length=1)
    """Roles held; a rule names the roles that may approve it."""
    public_key: str | None = None
    """Raw Ed25519 public key, base64. Without one the principal cannot approve."""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        problem = name_problem(name)
        if problem:
            raise ValueError(problem)
        return name

    @field_validator("public_key")
    @classmethod
    def _valid_key(cls, key: str | None) -> str | None:
        if key is not None:
            _public_key(key)
        return key

    def verifier(self) -> Ed25519PublicKey | None:
        """The key this principal's signatures are checked with, if any."""
        return None if self.public_key is None else _public_key(self.public_key)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a principal's name, or ``None`` when it can.

    Public so a command can check a name before it writes anything named
    after it (a key file), not only when the principals file is validated.
    """
    if _NAME.fullmatch(name):
        return None
    return f"principal name {name!r} must be 1-64 lower-case letters, digits, '_', '.', '-', starting with a letter"


class PrincipalsFile(BaseModel):
    """The content of one principals YAML file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    roles: dict[str, str] = Field(default_factory=dict)
    """Role name to what it is for; rules may only name declared roles."""
    principals: tuple[Principal, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> PrincipalsFile:
        seen: set[str] = set()
        for principal in self.principals:
            if principal.name in seen:
                raise ValueError(f"principal {principal.name!r} is listed twice; keep one entry")
            seen.add(principal.name)
        return self


@dataclass(frozen=True)
class Registry:
    """Every principal and role in force for a policy, merged from its files."""

    principals: Mapping[str, Principal]
    roles: Mapping[str, str]
    sources: tuple[Path, ...] = ()
    """Files that were read (missing optional files are left out)."""
    origin: Mapping[str, Path] | None = None
    """Which file defines each principal."""

    def get(self, name: str) -> Principal | None:
        """The principal called ``name``, or ``None``."""
        return self.principals.get(name)


EMPTY = Registry({}, {})


def expand_path(path: str, base: Path | None, env: Mapping[str, str] | None = None) -> Path:
    """Resolve a principals path named in a policy file.

    ``${SWITCHBOARD_HOME}`` (and any other ``${VAR}``) is expanded from the
    environment, with ``SWITCHBOARD_HOME`` defaulting to the data directory;
    a relative path is taken relative to the policy file's folder, never to
    the working directory.
    """
    from switchboard.settings import HOME_VARIABLE, data_home

    values = dict(os.environ if env is None else env)
    values.setdefault(HOME_VARIABLE, str(data_home(values)))

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise ConfigError(f"principals path {path!r} uses ${{{key}}}, but {key} is not set; set it")
        return values[key]

    file = Path(_VAR.sub(sub, path)).expanduser()
    if not file.is_absolute() and base is not None:
        file = base / file
    return file.resolve()


def read_principals_file(file: Path) -> PrincipalsFile:
    """Read and validate one principals file; errors give the file and line."""
    from switchboard.policies.yaml_source import validate_yaml

    return validate_yaml(PrincipalsFile, file, kind="principals file")


def load_registry(files: Sequence[Path], *, required: Iterable[Path] = ()) -> Registry:
    """Merge principals files into one registry.

    Args:
        files: In order; a file that does not exist adds nothing, unless it
            is in ``required``.
        required: Files that must exist.

    Raises:
        ConfigError: A file is invalid, a principal is defined in two files,
            or a principal holds a role no file declares.
    """
    must = {Path(f).resolve() for f in required}
    principals: dict[str, Principal] = {}
    origin: dict[str, Path] = {}
    roles: dict[str, str] = {}
    sources: list[Path] = []
    for file in files:
        if not file.exists():
            if file.resolve() in must:
                raise ConfigError(f"principals file {file} does not exist; create it or fix the policy's path")
            continue
        content = read_principals_file(file)
        sources.append(file)
        roles.update(content.roles)
        for principal in content.principals:
            if principal.name in principals:
                raise ConfigError(
                    f"principal {principal.name!r} is defined in both {origin[principal.name]} and {file}; "
                    "a principal lives in one file only: remove one entry"
                )
            principals[principal.name] = principal
            origin[principal.name] = file
    for principal in principals.values():
        unknown = [r for r in principal.roles if roles and r not in roles]
        if unknown:
            file = origin[principal.name]
            shared = "" if file.resolve() in must else (
                f". If {file} is shared with another team's policy, give each team its own file: name "
                "`${SWITCHBOARD_HOME}/<team>-principals.yaml` in the policy's `principals:` (keygen writes to "
                "the one the policy names)"
            )  # fmt: skip
            raise ConfigError(
                f"principal {principal.name!r} in {file} holds undeclared role(s) "
                f"{', '.join(unknown)}; declared roles: {', '.join(roles)}{shared}"
            )
    return Registry(principals, roles, tuple(sources), origin)


# Keys ---------------------------------------------------------------------------


def generate_key(key_path: Path) -> str:
    """Make a new Ed25519 key pair; write the private key (PEM, mode 0600).

    Returns:
        The public key, base64, for the principals file.

    Raises:
        ConfigError: The key file cannot be written.
    """
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        key_path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(key_path.parent, 0o700)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        os.chmod(key_path, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write key file {key_path}: {exc}") from exc
    return public_key_text(private.public_key())


def load_private_key(key_path: Path) -> Ed25519PrivateKey:
    """Read a PEM private key written by :func:`generate_key`.

    Raises:
        ConfigError: The file is missing, unreadable or not an Ed25519 key.
    """
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"cannot read private key {key_path}: {exc}; make one with `switchboard principals keygen`"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{key_path} is not an Ed25519 key; make one with `switchboard principals keygen`")
    return key


def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw public key, base64: the form a principals file holds."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def check_signature(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``key``'s signature of ``message``."""
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise ValueError("public_key must be a base64 raw Ed25519 public key (32 bytes)") from exc


def upsert_principal(file: Path, name: str, roles: Sequence[str], public_key: str) -> None:
    """Add or re-key a principal in a principals file, keeping everything else.

    The file is created if missing. Comments in an existing file are not
    preserved (it is rewritten from its data); keep hand-written files apart
    from the ones ``keygen`` maintains.
    """
    from switchboard.policies.yaml_source import load_yaml

    problem = name_problem(name)
    if problem:  # before the file is read, so a bad name never reaches it
        raise ConfigError(f"principal {name!r} is invalid: {problem}")
    try:
        raw = load_yaml(file.read_text(encoding="utf-8")) if file.exists() else None  # as the policy reads it
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read principals file {file}: {exc}") from exc
    data = raw if isinstance(raw, dict) else {}
    entries = [p for p in data.get("principals") or [] if isinstance(p, dict) and p.get("name") != name]
    entries.append({"name": name, "roles": list(roles), "public_key": public_key})
    data["principals"] = sorted(entries, key=lambda p: str(p.get("name")))
    try:
        PrincipalsFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"principal {name!r} is invalid:\n{exc}") from exc
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(
            "# Maintained by `switchboard principals keygen`; public keys only.\n"
            + yaml.safe_dump(data, sort_keys=False),
            encoding="utf-8",
        )
    except OSError as exc:
        raise ConfigError(f"cannot write principals file {file}: {exc}") from exc
