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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import BaseOutputParser
from langchain_core.outputs import ChatGeneration, Generation
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig, RunnableSequence
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from switchboard.models import StructuredMethod

__all__ = ["StructuredAnswer", "StructuredCall"]


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
