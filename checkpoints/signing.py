"""Signed checkpoints: state at rest that the graph can trust.

The guard and the supervisor decide on what a thread's checkpoints hold: a
tool result read earlier, the customer the thread serves, what a step
handed on. Anyone who can write the checkpoint database could otherwise
plant a tool result (another customer's order shown as this customer's)
and have the next turn act on it, under the approval limit and past the
data scope. The audit log's HMAC chain does not cover those blobs.

:class:`SignedSerializer` wraps a saver's own serializer (LangGraph's
``serde`` seam, as its ``EncryptedSerializer`` does) and appends an
HMAC-SHA256 of the serialized type and bytes to every value it writes. A
value whose tag does not verify, or that carries none, is refused with
:class:`~switchboard.errors.CheckpointTampered` when it is read, before
anything is decoded from it.

What it proves, and what not:

- A signed value was written by a holder of the data directory's key. It
  does not say for which thread: a whole value copied from another thread's
  row still verifies. Planting chosen content is what it stops.
- It covers what goes through the serializer: SQLite's whole checkpoint and
  every pending write; on Postgres, the channel blobs and writes. Postgres
  keeps plain strings, numbers and booleans inline in the checkpoint's JSON,
  outside the serializer, so those are not signed.
- Checkpoint metadata is JSON outside the serializer on both; nothing the
  graph decides on is read from it.

The key is derived from the audit key (``keys/audit.key``), so one secret
guards both the audit trail and the checkpoints; processes that share one
store from different data directories share a key file instead
(``SWITCHBOARD_CHECKPOINT_KEY_FILE``).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from switchboard.checkpoints.audit import audit_key
from switchboard.errors import CheckpointTampered, ConfigError

SUFFIX = "+hmac-sha256"
"""Appended to the inner serializer's type name: marks a signed value (the stored ``type`` column)."""
_TAG_BYTES = 32
_CONTEXT = b"switchboard checkpoints v1"


MIN_KEY_BYTES = 32
"""The shortest key a key file may hold: HMAC-SHA256's own strength."""


def checkpoint_key(data_dir: Path, key_file: Path | None = None) -> bytes:
    """The key that signs the checkpoints.

    Args:
        data_dir: The data directory: by default the key is derived from its
            audit key (made on first use), so one secret guards both.
        key_file: A file holding the key in hex instead
            (``SWITCHBOARD_CHECKPOINT_KEY_FILE``): what processes with
            different data directories share when they share one store.

    Raises:
        ConfigError: The key file cannot be read, is not hex, or is too short.
    """
    if key_file is None:
        return hmac.new(audit_key(data_dir), _CONTEXT, hashlib.sha256).digest()
    try:
        key = bytes.fromhex(Path(key_file).expanduser().read_text().strip())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the checkpoint key file {key_file}: {exc}; it holds the key in hex") from exc
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"the checkpoint key in {key_file} is {len(key)} bytes; use at least {MIN_KEY_BYTES} "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return key


class SignedSerializer(SerializerProtocol):
    """A serializer that signs what it writes and refuses to read what it cannot verify.

    Args:
        key: The HMAC key (:func:`checkpoint_key`).
        serde: The serializer underneath: the saver's own, LangGraph's
            ``JsonPlusSerializer`` by default.
    """

    def __init__(self, key: bytes, serde: SerializerProtocol) -> None:
        if not key:
            raise ValueError("a signing key must not be empty")
        self._key = key
        self.serde = serde
        """The wrapped serializer, as LangGraph's ``EncryptedSerializer`` names it."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Serialize with the inner serializer, then append the tag over type and bytes."""
        kind, data = self.serde.dumps_typed(obj)
        return kind + SUFFIX, bytes(data) + self._tag(kind, bytes(data))

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Verify the tag, then deserialize with the inner serializer.

        Raises:
            CheckpointTampered: The value is unsigned, or its tag does not match.
        """
        kind, blob = data
        if not kind.endswith(SUFFIX):
            raise CheckpointTampered(
                f"a checkpoint value of type {kind!r} carries no signature: it was written without the data "
                "directory's key (by hand, by another tool, or by a Switchboard older than signed checkpoints). "
                "Refusing to run on it; a thread written before signing must be started afresh"
            )
        inner = kind[: -len(SUFFIX)]
        raw = bytes(blob)
        body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if len(raw) < _TAG_BYTES or not hmac.compare_digest(tag, self._tag(inner, body)):
            raise CheckpointTampered(
                "a checkpoint value does not match its signature: the checkpoint store was changed outside "
                "Switchboard, or is read with another data directory's key. Refusing to run on it"
            )
        return self.serde.loads_typed((inner, body))

    def _tag(self, kind: str, data: bytes) -> bytes:
        return hmac.new(self._key, kind.encode() + b"\x00" + data, hashlib.sha256).digest()


def sign(saver: BaseCheckpointSaver[Any], key: bytes) -> BaseCheckpointSaver[Any]:
    """Make ``saver`` sign what it writes and verify what it reads, with ``key``; returns it.

    Wraps the saver's current serializer, so its settings (an allowlist, a
    pickle fallback) carry over. Signing twice is a no-op.
    """
    if not isinstance(saver.serde, SignedSerializer):
        saver.serde = SignedSerializer(key, saver.serde)
    return saver


class UnkeyedSerializer(JsonPlusSerializer):
    """LangGraph's serializer, which names a signed store instead of failing on its type.

    A store Switchboard wrote is signed; opened without a key, LangGraph's
    serializer meets a type it does not know and raises
    ``NotImplementedError: Unknown serialization type``, which says nothing
    about the key. This reader raises a :class:`~switchboard.errors.ConfigError`
    that says how to open the store instead, and reads and writes everything
    else exactly as the serializer it copies. It is a ``JsonPlusSerializer``
    (not a wrapper) so LangGraph still merges a graph's msgpack allowlist
    into it, as it would into the saver's own.
    """

    @classmethod
    def like(cls, serde: JsonPlusSerializer) -> UnkeyedSerializer:
        """A reader with ``serde``'s settings (allowlists, pickle fallback, hooks)."""
        reader = cls.__new__(cls)
        reader.__dict__.update(vars(serde))
        return reader

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Deserialize as LangGraph does, once the value is known not to be signed.

        Raises:
            ConfigError: The value is signed: the store must be opened with its key.
        """
        kind = data[0]
        if kind.endswith(SUFFIX):
            raise ConfigError(
                f"this checkpoint store is signed (a value of type {kind!r}) and was opened without its key; "
                "open it with the data directory's key: `open_checkpointer(target, key=Settings().checkpoint_key())` "
                "(from switchboard.settings import Settings), with the same SWITCHBOARD_HOME or "
                "SWITCHBOARD_CHECKPOINT_KEY_FILE as the process that wrote it"
            )
        return super().loads_typed(data)


def refuse_signed(saver: BaseCheckpointSaver[Any]) -> BaseCheckpointSaver[Any]:
    """Make a saver opened without a key report a signed store as such; returns it.

    Only LangGraph's own serializer is replaced (by :class:`UnkeyedSerializer`,
    with the same settings); a saver with any other serializer is left as it is.
    """
    serde = saver.serde
    if isinstance(serde, JsonPlusSerializer) and not isinstance(serde, UnkeyedSerializer):
        saver.serde = UnkeyedSerializer.like(serde)
    return saver


def is_signed(saver: object) -> bool:
    """Whether a saver signs its checkpoints (:func:`sign`)."""
    return isinstance(getattr(saver, "serde", None), SignedSerializer)
