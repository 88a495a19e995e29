"""Mask secrets before a trace leaves the process.

A trace carries the run's inputs and outputs: a task may contain a pasted API
key, and a resume carries the approver's signature. The LangSmith client runs
every run's inputs, outputs and metadata through :func:`redact` (its
``hide_inputs`` / ``hide_outputs`` / ``hide_metadata`` hooks) before anything
is sent, so nothing downstream (a hosted backend, an OTel collector) ever
holds them. Values are masked by key name (``signature``, ``api_key``,
``password``...) and by shape (``sk-...`` keys, bearer tokens, PEM private
keys), wherever they are nested.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from pydantic import BaseModel

MASK = "[redacted]"

_SECRET_KEY = re.compile(
    r"signature|api[_-]?key|secret|password|passwd|authorization|private[_-]?key|access[_-]?token|refresh[_-]?token",
    re.IGNORECASE,
)
"""Keys whose values are secrets whatever they hold."""
_SECRET_TEXT = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----"
    r"|\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{16,}"  # OpenAI/Anthropic/Stripe-style keys
    r"|\blsv2_[A-Za-z0-9_]{16,}"  # LangSmith keys
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key ids
    r"|\bBearer\s+[A-Za-z0-9._~+/=\-]{8,}",
    re.DOTALL,
)
"""Secrets recognisable by their shape, inside any text."""
_DEPTH = 32


def redact_text(text: str) -> str:
    """``text`` with every secret-shaped substring masked."""
    return _SECRET_TEXT.sub(MASK, text)


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets masked; the shape is kept so the trace stays readable.

    Mappings, sequences, dataclasses (such as LangGraph's ``Command``, whose
    ``resume`` holds a signed answer) and Pydantic models are walked; strings
    are masked by shape; values under secret-looking keys are replaced.
    """
    return _walk(value, 0)


def _walk(value: Any, depth: int) -> Any:
    if depth > _DEPTH:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: MASK if isinstance(key, str) and _SECRET_KEY.search(key) and item else _walk(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_walk(item, depth + 1) for item in value]
    if isinstance(value, BaseModel):
        return _walk(value.model_dump(mode="json"), depth + 1)
    if value is None or isinstance(value, bool | int | float | bytes | datetime | date | UUID | Enum | type):
        return value
    if dataclasses.is_dataclass(value):
        return _walk({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, depth + 1)
    # Any other object (LangGraph's Send, say) would be sent as its repr, task and all: walk its attributes.
    slots = getattr(type(value), "__slots__", None)
    if isinstance(slots, tuple) and slots:
        return _walk({name: getattr(value, name) for name in slots if hasattr(value, name)}, depth + 1)
    if hasattr(value, "__dict__"):
        return _walk(vars(value), depth + 1)
    return redact_text(str(value))
