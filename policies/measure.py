"""How to price an action before it happens."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Measure(BaseModel):
    """How to price an action before it happens.

    The value comes from a read-only tool (``tool``), called with arguments
    taken from the guarded call (``args`` maps the measure tool's argument
    name to the call's argument name), and read from ``field`` of its JSON
    result. Without ``tool``, ``field`` is read from the call's own arguments.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: str | None = None
    args: dict[str, str] = Field(default_factory=dict)
    field: str = "amount"
