"""Tokens and cost: what a model call used, what it cost, and the budgets.

Tokens come from the provider's usage metadata (``AIMessage.usage_metadata``)
when it is given. When it is not (the embedded engine, the scripted test
model, some local servers), they are approximated as one token per four
characters of the text sent and received, rounded up, with tool-call
arguments counted as their JSON; the bound tool schemas are not counted. Such
events are marked ``tokens_estimated`` so a reader knows which numbers are
measured. A reported count is untrusted input: a report whose counts are
negative, not numbers, NaN or infinite, or past :data:`MAX_REPORTED_TOKENS`
is treated as no report (estimated); and a count far below what the call's
text implies (more than :data:`MAX_CHARS_PER_TOKEN` characters a token, as a
reported 0 on a long prompt) is implausible, so the estimate is used for that
count instead (see :func:`plausible_usage`). Prices live in a YAML file
(``prices.yaml`` beside this module by default), never in code.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import LLMResult
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchboard.errors import ConfigError
from switchboard.policies.budgets import Budgets
from switchboard.policies.yaml_source import load_yaml

CHARS_PER_TOKEN = 4
"""The approximation used when a provider reports no usage."""

MAX_CHARS_PER_TOKEN = 16
"""The most characters one reported token is believed to stand for: the floor under a reported count.

Real tokenizers give about three to four characters a token for English and
code, and fewer for other scripts (one or two for Chinese or Japanese), so a
report that makes each token stand for more than sixteen characters (a
quarter of the :data:`CHARS_PER_TOKEN` estimate) is not a real count: a model
reporting 0, or a handful of tokens, for a 40,000-character prompt would
otherwise bring its calls' tokens and cost to zero so no budget trips. Below
this floor the estimate is used for that count (input or output) instead; a
report at or above it is kept as reported."""

MAX_REPORTED_TOKENS = 100_000_000
"""The most input (or output) tokens one model call is believed to report.

A model's ``usage_metadata`` is untrusted input: a buggy provider, a proxy or
a hostile model can send anything. Today's largest context windows are about
ten million tokens, so a hundred million leaves ten times the headroom while
a count above it is not a real call: it is treated as unreported and the
call's tokens are estimated instead, and it cannot reach the monitoring
store's 64-bit integer columns."""


_PROVIDER = re.compile(r"^[a-z][a-z_-]*:(?=.)")
"""A LangChain provider id and its colon (``anthropic:``, ``google_genai:``).

Letters only, so an Ollama tag (``llama3.1:8b``) is not split into a
provider and a name."""

_DATED = re.compile(r"[-@](?:\d{8}|\d{4}-\d{2}-\d{2})$")
"""A pinned version's date: ``-20250929`` (Anthropic, ``@`` on Vertex) or ``-2025-04-14`` (OpenAI)."""


def _names_of(model: str) -> list[str]:
    """The names ``model`` may be keyed under, most specific first: as given, then without its provider."""
    bare = _PROVIDER.sub("", model, count=1)
    return [model] if bare == model else [model, bare]


class ModelPrice(BaseModel):
    """What a million tokens cost, in and out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0.0)
    output: float = Field(ge=0.0)


class PriceTable(BaseModel):
    """Prices by model name, loaded from YAML."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str = "USD"
    default: ModelPrice = ModelPrice(input=0.0, output=0.0)
    models: dict[str, ModelPrice] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriceTable:
        """Read a price file; the shipped ``prices.yaml`` when ``path`` is None.

        Raises:
            ConfigError: The file is missing or does not match the schema.
        """
        try:
            if path is None:
                text = resources.files("switchboard.monitoring").joinpath("prices.yaml").read_text("utf-8")
            else:
                text = Path(path).read_text("utf-8")
            return cls.model_validate(load_yaml(text) or {})
        except OSError as exc:
            raise ConfigError(f"cannot read the price file {path}: {exc}; fix the path or unset it") from exc
        except (yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"price file {path or 'prices.yaml'} is invalid: {exc}") from exc

    def price(self, model: str | None) -> ModelPrice:
        """The price of ``model``, or the default when no key matches.

        Telemetry names a model ``provider:name`` and a provider's response
        names it bare, often pinned to a dated version
        (``anthropic:claude-sonnet-4-5-20250929``), while the table keys
        families. So the provider-qualified name is tried first, then the
        bare name; each as an exact key, then without its date, then against
        the longest ``prefix*`` key. The provider's own keys win, so
        ``ollama:*`` still prices a local model that borrowed a hosted name.
        """
        if not model:
            return self.default
        for name in _names_of(model):
            found = self._match(name)
            if found is not None:
                return found
        return self.default

    def _match(self, name: str) -> ModelPrice | None:
        """The price keyed for ``name`` exactly, or undated, or by its longest ``prefix*`` key."""
        for exact in (name, _DATED.sub("", name)):
            if exact in self.models:
                return self.models[exact]
        prefixes = [k for k in self.models if k.endswith("*") and name.startswith(k[:-1])]
        return self.models[max(prefixes, key=len)] if prefixes else None

    def cost(self, model: str | None, tokens_in: int, tokens_out: int) -> float:
        """What a call with these tokens cost."""
        price = self.price(model)
        return (tokens_in * price.input + tokens_out * price.output) / 1_000_000


@dataclass(frozen=True)
class Usage:
    """Tokens of one model call."""

    tokens_in: int
    tokens_out: int
    estimated: bool
    """True when approximated from characters (see module doc)."""


def sane_number(value: object, ceiling: float = MAX_REPORTED_TOKENS) -> float | None:
    """``value`` as a plain number; None when it is not usable.

    Not usable: not a real number (a string, None, a bool, which Python
    counts as an int), NaN or infinite, negative, or above ``ceiling``. For a
    model's report, None means "not reported" and the call is estimated, so a
    model cannot lower (or crash) the count of what it used by what it claims.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except (OverflowError, TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 0 or number > ceiling:
        return None
    return number


def reported_tokens(usage: object) -> tuple[int, int] | None:
    """The input and output tokens of one call's ``usage_metadata``; None when it is unreported or unusable.

    One missing count is 0; a report with neither count, or with a count
    :func:`sane_number` refuses (a negative one among them), is unreported,
    so the caller falls back to the estimate. Whether the counts are
    plausible for the call's text is :func:`plausible_usage`'s question.
    """
    if not isinstance(usage, Mapping) or not ("input_tokens" in usage or "output_tokens" in usage):
        return None
    counts = [sane_number(usage.get(key, 0)) for key in ("input_tokens", "output_tokens")]
    if counts[0] is None or counts[1] is None:
        return None
    return int(counts[0]), int(counts[1])


def _plausible(reported: int, chars: int) -> bool:
    """Whether ``reported`` tokens can be ``chars`` characters: at most :data:`MAX_CHARS_PER_TOKEN` a token."""
    return reported * MAX_CHARS_PER_TOKEN >= chars


def plausible_usage(reported: tuple[int, int] | None, prompt_chars: int, reply_chars: int) -> Usage:
    """One call's tokens: as reported where the count is usable and plausible, else estimated.

    ``reported`` is what :func:`reported_tokens` made of the report (None:
    unreported or unusable, so both counts are estimated). Each count is then
    held to the floor :data:`MAX_CHARS_PER_TOKEN` sets against the characters
    it counts (the prompt's for input, the reply's for output); a count below
    it is replaced by the estimate, and the call is marked ``estimated``.

    Args:
        reported: The reported input and output tokens, or None.
        prompt_chars: Characters of the prompt (see :func:`message_chars`).
        reply_chars: Characters of the reply, tool-call arguments included.
    """
    estimate = (math.ceil(prompt_chars / CHARS_PER_TOKEN), math.ceil(reply_chars / CHARS_PER_TOKEN))
    if reported is None:
        return Usage(*estimate, estimated=True)
    tokens_in, tokens_out = reported
    in_ok, out_ok = _plausible(tokens_in, prompt_chars), _plausible(tokens_out, reply_chars)
    return Usage(
        tokens_in if in_ok else estimate[0], tokens_out if out_ok else estimate[1], estimated=not (in_ok and out_ok)
    )


def approx_tokens(text: str) -> int:
    """One token per four characters, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def message_chars(messages: Iterable[BaseMessage]) -> int:
    """Characters a model sees in ``messages``: text plus tool-call arguments as JSON."""
    total = 0
    for message in messages:
        content = message.content
        total += len(content) if isinstance(content, str) else len(json.dumps(content, default=str))
        if isinstance(message, AIMessage) and message.tool_calls:
            total += len(json.dumps([c["args"] for c in message.tool_calls], default=str))
    return total


def usage_of(result: LLMResult, prompt_chars: int) -> Usage:
    """The usage a provider reported for ``result``, or the approximation.

    The report is untrusted: if any generation's is unusable (see
    :func:`reported_tokens`), the whole call is approximated; a usable one is
    held to the floor of :func:`plausible_usage`, count by count.

    Args:
        result: What the model returned.
        prompt_chars: Characters of the prompt, counted when the call started.
    """
    reports = [
        message.usage_metadata
        for generations in result.generations
        for generation in generations
        if isinstance(message := getattr(generation, "message", None), AIMessage) and message.usage_metadata
    ]
    replies = [getattr(g, "message", None) for gens in result.generations for g in gens]
    messages = [m for m in replies if isinstance(m, BaseMessage)]
    text_chars = sum(len(g.text) for gens in result.generations for g in gens if not hasattr(g, "message"))
    out_chars = message_chars(messages) + text_chars
    reported = [reported_tokens(u) for u in reports]
    counts = [r for r in reported if r is not None]
    if reported and len(counts) == len(reported):
        total = (sum(r[0] for r in counts), sum(r[1] for r in counts))
        return plausible_usage(total, prompt_chars, out_chars)
    return plausible_usage(None, prompt_chars, out_chars)


class Budget(BaseModel):
    """Token and cost limits, per run, per thread and per agent.

    Read from the policy file's ``budgets`` mapping (see :meth:`from_mapping`);
    every limit is optional. A budget ``warn_at`` spent raises a warning; a
    budget fully spent raises a critical alert, which pauses the run for a
    human when ``pause_when_spent`` is set.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_tokens: int | None = Field(default=None, gt=0)
    run_cost: float | None = Field(default=None, gt=0)
    thread_tokens: int | None = Field(default=None, gt=0)
    thread_cost: float | None = Field(default=None, gt=0)
    agent_cost: dict[str, float] = Field(default_factory=dict)
    """Per agent, for the whole thread."""
    warn_at: float = Field(default=0.8, gt=0.0, le=1.0)
    """Share of a limit that raises a warning."""
    pause_when_spent: bool = False

    @classmethod
    def from_policy(cls, budgets: Budgets, overrides: Budget | None = None) -> Budget:
        """The run budgets of a policy file (``tokens``, ``cost_usd``), under the limits ``overrides`` sets.

        The policy's ``budgets`` are what the graph enforces per run; here
        they are watched, so an alert says a run is near its limit before the
        graph stops it. Thread and agent limits, ``warn_at`` and
        ``pause_when_spent`` come from the monitoring configuration
        (``overrides``), whose explicit values win.
        """
        policy = {"run_tokens": budgets.tokens, "run_cost": budgets.cost_usd}
        explicit = overrides.model_dump(exclude_unset=True) if overrides is not None else {}
        return cls.model_validate({**{k: v for k, v in policy.items() if v is not None}, **explicit})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Budget:
        """Read the ``budgets`` section of a policy file.

        Expected keys, all optional: ``run_tokens``, ``run_cost``,
        ``thread_tokens``, ``thread_cost``, ``agent_cost`` (agent name to a
        cost), ``warn_at`` (0-1, default 0.8), ``pause_when_spent`` (bool).

        Raises:
            ConfigError: A key is unknown or a value is out of range.
        """
        try:
            return cls.model_validate(dict(data or {}))
        except ValidationError as exc:
            raise ConfigError(f"the budgets section is invalid: {exc}") from exc
