"""Tool-call ids unique within a step, whatever the model sends.

A call's id is what the governance keys on: its question (and so the signed
approval that answers it), its audit entries and its tool message are all
named after it. Providers give each call a fresh id, but some model servers
(local OpenAI-compatible ones, tool parsers that number calls per turn)
repeat one, or send none. Two calls under one id would then share one
question, so one approval ran both, and the audit log, which records each
entry once by its id, kept the first call and silently dropped the second.

So before a model's calls are acted on, every id is made unique within the
step: a missing or repeated id is replaced by one derived from it. The
message is rewritten before it is saved, so the ids the model sees in its
history, the tool messages and the records all agree, and a step run again
from its checkpoint reads the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from langchain_core.messages import AIMessage, BaseMessage, InvalidToolCall, ToolCall

__all__ = ["distinct_call_ids"]

_Call = TypeVar("_Call", ToolCall, InvalidToolCall)


def distinct_call_ids(reply: AIMessage, earlier: Iterable[BaseMessage]) -> AIMessage:
    """``reply`` with each tool call's id unique among its calls and ``earlier`` messages' calls.

    Calls whose arguments did not parse (``invalid_tool_calls``) count too:
    each is answered under its own id, and a provider refuses a history in
    which a call id has no answer.

    Args:
        reply: The model's message, as it came.
        earlier: The step's messages before it.

    Returns:
        ``reply`` itself when every id is already unique and non-empty;
        otherwise a copy whose missing or repeated ids are replaced, in
        order, by ``<id or "call">_<n>`` with the smallest ``n`` not taken
        (letters, digits, ``_`` and ``-`` only, as providers require of ids).
    """
    taken = {
        str(c["id"])
        for m in earlier
        if isinstance(m, AIMessage)
        for c in [*m.tool_calls, *m.invalid_tool_calls]
        if c.get("id")
    }
    calls, renamed = _renamed(reply.tool_calls, taken)
    invalid, renamed_invalid = _renamed(reply.invalid_tool_calls, taken)
    if not (renamed or renamed_invalid):
        return reply
    return reply.model_copy(update={"tool_calls": calls, "invalid_tool_calls": invalid})


def _renamed(calls: Sequence[_Call], taken: set[str]) -> tuple[list[_Call], bool]:
    """``calls`` with missing or taken ids replaced, each id added to ``taken``; whether any was replaced."""
    out: list[_Call] = []
    changed = False
    for call in calls:
        ident = str(call.get("id") or "")
        if not ident or ident in taken:
            base, n = ident or "call", 2
            while f"{base}_{n}" in taken:
                n += 1
            ident, changed = f"{base}_{n}", True
            call = {**call, "id": ident}
        taken.add(ident)
        out.append(call)
    return out, changed
