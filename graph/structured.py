"""One structured-output call: the model's raw answer and its parse, without wrapper runs.

The supervisor needs both halves of a decision: the parse, and the raw
answer (to read a decision given as JSON text, and to explain a malformed
one back to the model). ``with_structured_output(include_raw=True)`` provides both by
wrapping the bound model in eight more runnables (a map, fallbacks, an
assign, a parallel map, a sequence, two lambdas and the parser), each a run
with its own callbacks. On a supervisor that decides every step, those runs
cost more CPU than the rest of the decision, and with concurrent threads
that CPU is what they queue for. This module uses the same two parts
directly: the model as bound by ``with_structured_output`` (one run in the
trace) and its output parser, applied to the answer without a run of its
own. A model whose structured output is not a model-then-parser sequence
keeps LangChain's ``include_raw`` chain, which gives the same result.

:func:`check_structured` binds once when the graph is built, so that a model
without structured output is refused then, with what would help, rather than
failing the first routing call of a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict, get_args

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import BaseOutputParser
from langchain_core.outputs import ChatGeneration, Generation
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig, RunnableSequence
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from switchboard.errors import ConfigError
from switchboard.models import StructuredMethod

__all__ = ["StructuredAnswer", "StructuredCall", "check_structured", "model_label"]


class StructuredAnswer(TypedDict):
    """What ``include_raw=True`` returns: the answer, its parse, and why it did not parse."""

    raw: Any
    parsed: Any
    parsing_error: BaseException | None


@dataclass(frozen=True)
class StructuredCall:
    """A chat model bound to one output schema, called for a raw answer and its parse.

    Attributes:
        model: The bound model; or, when ``parser`` is ``None``, LangChain's
            ``include_raw`` chain, which already returns a :class:`StructuredAnswer`.
        parser: The output parser ``with_structured_output`` chose for the
            schema and method.
    """

    model: Runnable[Any, Any]
    parser: BaseOutputParser[Any] | None

    @classmethod
    def bind(cls, model: BaseChatModel, schema: type[BaseModel], method: StructuredMethod) -> StructuredCall:
        """Bind ``schema`` the provider's way (tools, JSON schema or JSON mode), once."""
        chain = model.with_structured_output(schema, method=method)
        if isinstance(chain, RunnableSequence) and len(chain.steps) == 2 and isinstance(chain.last, BaseOutputParser):
            return cls(_schema_converted(chain.first), chain.last)
        return cls(model.with_structured_output(schema, include_raw=True, method=method), None)

    async def ainvoke(self, messages: Any, config: RunnableConfig | None = None) -> StructuredAnswer:
        """Call the model once; a parse that fails is returned as ``parsing_error``, not raised.

        Errors of the call itself (a provider error, LangGraph's control flow)
        propagate, as they do through the ``include_raw`` chain.
        """
        if self.parser is None:
            answer: StructuredAnswer = await self.model.ainvoke(messages, config)
            return answer
        raw = await self.model.ainvoke(messages, config)
        generation = ChatGeneration(message=raw) if isinstance(raw, BaseMessage) else Generation(text=str(raw))
        try:
            parsed = self.parser.parse_result([generation])
        except Exception as exc:  # what include_raw's fallback catches: any parse failure becomes data
            return {"raw": raw, "parsed": None, "parsing_error": exc}
        return {"raw": raw, "parsed": parsed, "parsing_error": None}


def _schema_converted(bound: Runnable[Any, Any]) -> Runnable[Any, Any]:
    """``bound`` with its LangSmith output-format schema converted once, not on every call.

    ``with_structured_output`` binds the schema class as trace metadata
    (``ls_structured_output_format``), and the chat model converts it to a
    JSON schema on every call, tracing on or off. The same conversion
    applied to the tool form is a lookup, and gives the same metadata.
    """
    if not isinstance(bound, RunnableBinding):
        return bound
    shown = bound.kwargs.get("ls_structured_output_format")
    if not isinstance(shown, dict) or isinstance(shown.get("schema"), dict):
        return bound
    try:
        tool = convert_to_openai_tool(shown["schema"])
    except (TypeError, ValueError, KeyError):  # not convertible: left for the model, as before
        return bound
    return bound.bind(ls_structured_output_format={**shown, "schema": tool})


_UNSUPPORTED = (NotImplementedError, ValueError)
"""What ``with_structured_output`` raises, without calling the model, for what a model cannot do:
LangChain's base class raises ``NotImplementedError`` for a model without
``bind_tools``; providers raise ``ValueError`` for a method they do not offer."""


def model_label(model: BaseChatModel) -> str:
    """A model as an error message names it: its class, and its model name when it has one."""
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    return f"{type(model).__name__} {name!r}" if isinstance(name, str) and name else type(model).__name__


def check_structured(model: BaseChatModel, schema: type[BaseModel], method: StructuredMethod, *, role: str) -> None:
    """Bind ``schema`` the way a run will, to refuse a model that cannot give structured output now.

    Binding makes no request. Without this check the first routing call
    raised a bare ``NotImplementedError`` after the thread was created, and
    the thread then looked like a run that could be resumed.

    Args:
        model: The model to check.
        schema: What it must answer with (the routing decision).
        method: How the run will ask for it (``?structured=``).
        role: What the model is for, as the message names it.

    Raises:
        ConfigError: Binding failed; the message names the model, the
            missing capability and the ``?structured=`` option that binds,
            if one does.
    """
    error = _bind_error(model, schema, method)
    if error is None:
        return
    others = [m for m in get_args(StructuredMethod) if m != method and _bind_error(model, schema, m) is None]
    missing = "tool calling (bind_tools)" if method == "function_calling" else f"structured output by {method}"
    if others:
        options = " or ".join(f"`?structured={m}`" for m in others)
        fix = (
            f"it does bind by {' or '.join(others)}: add {options} to the model spec "
            f"(or set SWITCHBOARD_MODEL_STRUCTURED={others[0]})"
        )
    else:
        fix = (
            "no `?structured=` option helps either (json_schema, json_mode and function_calling all fail); "
            "use a chat model with tool calling or structured output (e.g. openai:gpt-4.1-mini, "
            "ollama:qwen2.5:7b, or the offline `embedded` engine)"
        )
    raise ConfigError(
        f"{role} {model_label(model)} cannot give structured output by {method}: it lacks {missing} "
        f"({type(error).__name__}: {error or 'not implemented'}); {fix}"
    ) from error


def _bind_error(model: BaseChatModel, schema: type[BaseModel], method: StructuredMethod) -> BaseException | None:
    """Why ``model`` cannot bind ``schema`` by ``method``, or ``None`` when it can (no request is made)."""
    try:
        model.with_structured_output(schema, method=method)
    except _UNSUPPORTED as exc:
        return exc
    return None
