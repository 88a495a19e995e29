"""Choosing a model: one setting by default, per agent when a card names one.

``SWITCHBOARD_MODEL`` (or ``--model``) picks the model for the supervisor and
every agent; an agent's card may name its own (``model:``), and
``build_graph(supervisor_model=...)`` sets the supervisor's apart.

A spec may carry per-model options as a query string, for example
``openai:qwen2.5-1.5b?structured=json_schema&max_tokens=512&timeout=600&concurrency=1``.
An option not in the spec comes from ``SWITCHBOARD_MODEL_<OPTION>`` (see
:class:`~switchboard.settings.Settings`), else its default (see
:class:`ModelOptions`). The options travel with the model object (in its
``metadata``), so the router and the agents read the same values.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any, Literal
from urllib.parse import parse_qsl
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchboard.agents.card import Team
from switchboard.errors import ConfigError

EMBEDDED = "embedded"
OPTIONS_KEY = "switchboard_model_options"
"""Where the options are kept in the model's ``metadata``."""

StructuredMethod = Literal["function_calling", "json_schema", "json_mode"]

_STRUCTURED_DEFAULTS: dict[str, StructuredMethod] = {
    "openai": "function_calling",
    "anthropic": "function_calling",
    "ollama": "json_schema",
}
"""Per provider, the structured-output method that works out of the box. An
OpenAI-compatible local server (llama.cpp's ``llama-server``) is reached as
``openai:`` and should set ``structured=json_schema``."""


class ModelOptions(BaseModel):
    """Per-model settings that decide whether a real model degrades safely."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int | None = Field(default=None, gt=0)
    """Cap on one answer's length; a model forced into a format can run on for thousands of tokens."""
    timeout: float | None = Field(default=None, gt=0)
    """Seconds one request may take; ``None`` keeps the provider's default."""
    concurrency: int | None = Field(default=None, gt=0)
    """Requests in flight at once, shared by every agent using this model
    (per event loop); more calls queue instead of timing out. Set 1 for a
    one-slot local server."""
    structured: StructuredMethod | None = None
    """How structured output (the routing decision) is asked for;
    ``None`` picks the provider's default."""
    retries: int = Field(default=2, ge=0)
    """Extra attempts of a failed supervisor call before the run escalates."""
    backoff: float = Field(default=1.0, ge=0)
    """Seconds before the first retry; doubled for each one after."""

    def method(self, provider: str) -> StructuredMethod:
        """The structured-output method to use with ``provider``."""
        return self.structured or _STRUCTURED_DEFAULTS.get(provider, "function_calling")


def model_options(model: BaseChatModel) -> ModelOptions:
    """The options a model was built with (defaults for a model built elsewhere)."""
    stored = (model.metadata or {}).get(OPTIONS_KEY)
    if not isinstance(stored, dict):
        return ModelOptions()
    return ModelOptions.model_validate({k: v for k, v in stored.items() if k != "provider"})


def request_timeout(model: BaseChatModel) -> float | None:
    """Seconds one request to ``model`` may take, if its spec or ``SWITCHBOARD_MODEL_TIMEOUT`` set it.

    The provider's client enforces it on each request. Whoever puts a clock
    of their own around a call (an agent step) reads it here, so a slow
    model given ``timeout=600`` is not cut off sooner by some other default.
    ``None`` for a model that names none (or was built elsewhere).
    """
    return model_options(model).timeout


def structured_method(model: BaseChatModel) -> StructuredMethod:
    """How to ask ``model`` for structured output."""
    stored = (model.metadata or {}).get(OPTIONS_KEY)
    provider = str(stored.get("provider", "")) if isinstance(stored, dict) else ""
    return model_options(model).method(provider)


_CUT_REASONS = frozenset({"length", "max_tokens"})
"""Why a provider stopped at the cap: OpenAI and Ollama say ``length``, Anthropic ``max_tokens``."""


def cut_off(message: BaseMessage) -> bool:
    """Whether the provider stopped ``message`` at the token cap rather than at its end.

    A model forced into a format can run on until ``max_tokens``; what comes
    back is a fragment (half a JSON object, no tool call), to be answered
    with "be shorter", never taken as an answer.
    """
    meta = message.response_metadata or {}
    reason = meta.get("finish_reason") or meta.get("stop_reason") or meta.get("done_reason")
    return reason in _CUT_REASONS


class SlotLimiter(AsyncCallbackHandler):
    """Holds one of ``slots`` while a model call is in flight.

    A callback, not a wrapper, so that every way the model is used
    (``bind_tools``, ``with_structured_output``, plain calls) is covered and
    each provider keeps its own formatting. LangChain awaits an inline
    handler's ``on_chat_model_start`` before it sends the request.
    """

    run_inline = True
    raise_error = True

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._held: set[UUID] = set()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._semaphores:
            self._semaphores[loop] = asyncio.Semaphore(self.slots)
        return self._semaphores[loop]

    async def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Wait for a free slot before the request goes out."""
        if id(self) in _HOLDING.get():
            return  # the caller holds a slot already (model_slot)
        await self._semaphore().acquire()
        self._held.add(run_id)

    async def _release(self, run_id: UUID) -> None:
        if run_id in self._held:
            self._held.discard(run_id)
            self._semaphore().release()

    async def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Free the slot."""
        await self._release(run_id)

    async def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Free the slot of a failed call."""
        await self._release(run_id)


_LIMITERS: dict[str, SlotLimiter] = {}
_HOLDING: ContextVar[frozenset[int]] = ContextVar("switchboard_model_slots", default=frozenset())
"""Limiters whose slot the current task already holds (see :func:`model_slot`)."""


def _limiter(model: BaseChatModel) -> SlotLimiter | None:
    callbacks = model.callbacks if isinstance(model.callbacks, list) else []
    return next((c for c in callbacks if isinstance(c, SlotLimiter)), None)


@contextlib.asynccontextmanager
async def model_slot(model: BaseChatModel) -> AsyncIterator[None]:
    """Hold one of ``model``'s request slots around a block (a no-op for an unlimited model).

    For callers that time a call: take the slot first, then start the
    clock, so that waiting in the queue never counts as the model being
    slow. Calls made inside the block do not take a second slot.
    """
    limiter = _limiter(model)
    if limiter is None or id(limiter) in _HOLDING.get():
        yield
        return
    semaphore = limiter._semaphore()
    async with semaphore:
        token = _HOLDING.set(_HOLDING.get() | {id(limiter)})
        try:
            yield
        finally:
            _HOLDING.reset(token)


def limit_concurrency(model: BaseChatModel, key: str, slots: int) -> BaseChatModel:
    """Make ``model`` share ``slots`` request slots with every model limited under ``key``."""
    limiter = _LIMITERS.get(key)
    if limiter is None or limiter.slots != slots:
        limiter = _LIMITERS[key] = SlotLimiter(slots)
    callbacks = model.callbacks if isinstance(model.callbacks, list) else []
    model.callbacks = [*callbacks, limiter]
    return model


def parse_spec(spec: str, env: ModelOptions | None = None) -> tuple[str, ModelOptions]:
    """Split ``provider:model?option=value&...`` into the bare spec and its options.

    Raises:
        ConfigError: An option is unknown or its value is invalid.
    """
    bare, _, query = spec.partition("?")
    given: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    base = (env or ModelOptions()).model_dump(exclude_unset=True)
    try:
        return bare.strip(), ModelOptions.model_validate({**base, **given})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(
            f"model {spec!r} has invalid options ({problems}); known options: {', '.join(ModelOptions.model_fields)}"
        ) from exc


def _provider_kwargs(provider: str, options: ModelOptions) -> dict[str, Any]:
    """The options as ``init_chat_model`` keyword arguments for ``provider``."""
    kwargs: dict[str, Any] = {}
    if provider == "ollama":
        if options.max_tokens is not None:
            kwargs["num_predict"] = options.max_tokens
        if options.timeout is not None:
            kwargs["client_kwargs"] = {"timeout": options.timeout}
        return kwargs
    if options.max_tokens is not None:
        kwargs["max_tokens"] = options.max_tokens
    if options.timeout is not None:
        kwargs["timeout"] = options.timeout
    return kwargs


def resolve_model(spec: str | None, team: Team | None = None, *, env: ModelOptions | None = None) -> BaseChatModel:
    """Turn a model spec into a chat model.

    Args:
        spec: ``embedded`` (or ``None``) for the offline engine, else
            ``provider:model`` as LangChain's ``init_chat_model`` reads it
            (``openai:gpt-4.1-mini``, ``anthropic:claude-sonnet-4-5``,
            ``ollama:qwen2.5:7b``), optionally followed by ``?options``
            (see :class:`ModelOptions`). Providers are optional extras.
        team: The team, whose playbook the embedded engine uses. With no
            team or no playbook the engine routes by the agents' cards alone
            and cannot act for agents (see the README, "Models").
        env: Options from the environment (``SWITCHBOARD_MODEL_*``), which
            the spec's own options override; ``None`` reads the environment.

    Raises:
        ConfigError: The spec is malformed, or its provider is not installed.
    """
    if env is None:
        from switchboard.settings import Settings

        env = Settings().model_options()
    bare, options = parse_spec((spec or EMBEDDED).strip(), env)
    if bare == EMBEDDED:
        from switchboard.engine import EMPTY_PLAYBOOK, EmbeddedChatModel, load_playbook
        from switchboard.engine.model import card_views

        playbook = load_playbook(team.engine) if team and team.engine else EMPTY_PLAYBOOK
        cards = card_views(team.agents) if team else {}
        return _with_options(EmbeddedChatModel(playbook=playbook, cards=cards), EMBEDDED, bare, options)
    provider, _, name = bare.partition(":")
    if not provider or not name:
        raise ConfigError(f"model {spec!r} is not `embedded` or `provider:model` (e.g. openai:gpt-4.1-mini)")
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise ConfigError(
            f"model {spec!r} needs a provider integration; install it with `pip install 'switchboard[{provider}]'`"
        ) from exc
    try:
        model = init_chat_model(bare, **_provider_kwargs(provider, options))
    except ImportError as exc:
        raise ConfigError(f"provider {provider!r} is not installed: pip install 'switchboard[{provider}]'") from exc
    except ValueError as exc:
        raise ConfigError(f"model {spec!r} is not usable: {exc}") from exc
    return _with_options(model, provider, bare, options)


def _with_options(model: BaseChatModel, provider: str, bare: str, options: ModelOptions) -> BaseChatModel:
    stored = {**options.model_dump(), "provider": provider}
    model.metadata = {**(model.metadata or {}), OPTIONS_KEY: stored}
    if options.concurrency is not None:
        limit_concurrency(model, bare, options.concurrency)
    return model
