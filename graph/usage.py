"""Tokens and cost of a run, counted in the graph's own state.

The policy's ``budgets:`` limit a run's tokens and cost as well as its hops
and tool calls; to enforce that inside the graph (not in a monitor beside
it), every model call's usage is written into the trail, where checkpoints
keep it across pauses and resumes:

* an agent step's calls are read from the step's own messages (the
  subgraph's checkpointed state, so a step paused for a human and resumed
  is still counted once, whole) and travel in its handoff as ``usage``;
* the supervisor's routing calls are counted while it decides, by a
  callback on that call only, and travel in its decision as ``usage``.

Tokens are the provider's ``usage_metadata``; where a provider reports none
(the embedded engine, some local servers), or reports what cannot be true
(negative, not numbers, NaN, past a ceiling), they are estimated as
:mod:`switchboard.monitoring.costs` does, one token per four characters. A
count far below what the call's text implies (more than
:data:`~switchboard.monitoring.costs.MAX_CHARS_PER_TOKEN` characters a
token, as 0 for a long prompt) is implausible too, and that count is
estimated. So a model cannot hide what it used from the budgets by
reporting less than it used.
Cost uses the same price file as monitoring (``$SWITCHBOARD_PRICES``, else
the shipped ``prices.yaml``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import LLMResult
from typing_extensions import TypedDict

from switchboard.monitoring.config import PRICES_VARIABLE
from switchboard.monitoring.costs import (
    PriceTable,
    message_chars,
    plausible_usage,
    reported_tokens,
    sane_number,
    usage_of,
)

__all__ = ["ModelUsage", "UsageCounter", "add", "configured_name", "messages_usage", "prices", "run_usage"]


class ModelUsage(TypedDict):
    """Tokens and cost of some model calls, as kept in the trail."""

    tokens: int
    """Input and output tokens."""
    cost_usd: float
    calls: int
    estimated: bool
    """Whether any of the numbers was estimated (no usable, plausible ``usage_metadata``)."""


NONE = ModelUsage(tokens=0, cost_usd=0.0, calls=0, estimated=False)


@lru_cache(maxsize=4)
def _table(path: str | None) -> PriceTable:
    return PriceTable.load(path)


def prices() -> PriceTable:
    """The price table in force: ``$SWITCHBOARD_PRICES``, else the shipped one (read once per path)."""
    return _table(os.environ.get(PRICES_VARIABLE) or None)


def add(left: ModelUsage, right: ModelUsage) -> ModelUsage:
    """The usage of both."""
    return ModelUsage(
        tokens=left["tokens"] + right["tokens"],
        cost_usd=left["cost_usd"] + right["cost_usd"],
        calls=left["calls"] + right["calls"],
        estimated=left["estimated"] or right["estimated"],
    )


def _one(model: str | None, tokens_in: int, tokens_out: int, estimated: bool, table: PriceTable) -> ModelUsage:
    cost = table.cost(model, tokens_in, tokens_out)
    return ModelUsage(tokens=tokens_in + tokens_out, cost_usd=cost, calls=1, estimated=estimated)


def configured_name(model: BaseChatModel) -> str | None:
    """The name a model is priced by: ``provider:name`` as it was configured (``None``: it names none).

    The same name LangChain gives the model's calls in their callbacks and
    traces (``ls_provider``, ``ls_model_name``), so an agent's calls are
    priced as the supervisor's are, by what was configured, not by what a
    reply says it was.
    """
    try:
        params = model._get_ls_params()
    except Exception:  # a model class whose tracing parameters fail: priced by its replies, as before
        return None
    return _model_name(params, {})


def messages_usage(
    messages: Sequence[BaseMessage], table: PriceTable | None = None, *, model: str | None = None
) -> ModelUsage:
    """The usage of every model reply in an agent step's messages.

    Each ``AIMessage`` is one model call: its ``usage_metadata`` when the
    provider gave a usable one (see
    :func:`~switchboard.monitoring.costs.reported_tokens`), else estimated
    from the messages before it (the prompt) and its own text and tool-call
    arguments; a reported count below the floor those characters set is
    estimated too (:func:`~switchboard.monitoring.costs.plausible_usage`),
    as the supervisor's calls are by :func:`~switchboard.monitoring.costs.usage_of`.

    Args:
        messages: The step's messages, prompt and replies.
        table: The price table; :func:`prices` by default.
        model: The configured model's name (:func:`configured_name`). Each
            reply is priced by it; only a model that names none is priced by
            the name its replies report, which a model could set to a
            cheaper one.
    """
    table = table or prices()
    total = NONE
    for index, message in enumerate(messages):
        if not isinstance(message, AIMessage):
            continue
        named = model or message.response_metadata.get("model_name") or message.response_metadata.get("model")
        priced = named if isinstance(named, str) else None
        reported = reported_tokens(message.usage_metadata)
        used = plausible_usage(reported, message_chars(messages[:index]), message_chars([message]))
        total = add(total, _one(priced, used.tokens_in, used.tokens_out, used.estimated, table))
    return total


class UsageCounter(BaseCallbackHandler):
    """Counts the model calls made under one config (the supervisor's routing calls).

    ``run_inline``: its handlers only add numbers, so LangChain calls them on
    the event loop instead of handing each event to a worker thread (a sync
    handler's default), which cost a thread hop per callback event.
    """

    run_inline = True

    def __init__(self, table: PriceTable | None = None) -> None:
        self.table = table or prices()
        self.total = NONE
        self._open: dict[UUID, tuple[str | None, int]] = {}

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Remember the model and the prompt's size, for estimates."""
        chars = sum(message_chars(batch) for batch in messages)
        self._open[run_id] = (_model_name(metadata or {}, kwargs.get("invocation_params") or {}), chars)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Add the call's usage (reported, else estimated)."""
        model, chars = self._open.pop(run_id, (None, 0))
        usage = usage_of(response, chars)
        self.total = add(self.total, _one(model, usage.tokens_in, usage.tokens_out, usage.estimated, self.table))


def _model_name(meta: Mapping[str, Any], params: Mapping[str, Any]) -> str | None:
    name = meta.get("ls_model_name") or params.get("model") or params.get("model_name")
    provider = meta.get("ls_provider")
    return f"{provider}:{name}" if name and provider else (str(name) if name else None)


def run_usage(events: Sequence[Mapping[str, Any]]) -> ModelUsage:
    """The usage recorded in trail events (handoffs and decisions that carry ``usage``).

    The numbers were checked when counted; read back from a checkpoint they
    are checked again (:func:`_figure`), so a negative, NaN or non-numeric
    figure cannot lower the total or make it NaN (which no limit trips).
    """
    total = NONE
    for event in events:
        used = event.get("usage")
        if isinstance(used, Mapping):
            total = add(total, ModelUsage(
                tokens=int(_figure(used.get("tokens"))), cost_usd=_figure(used.get("cost_usd")),
                calls=int(_figure(used.get("calls"))), estimated=bool(used.get("estimated", False)),
            ))  # fmt: skip
    return total


def _figure(value: object) -> float:
    """A recorded usage figure, as 0 when negative or not a finite number.

    No ceiling here: a step sums many calls, and a large total only trips
    the budget sooner.
    """
    return sane_number(value, ceiling=math.inf) or 0.0
