"""Asking the customer: the ``ask_customer`` tool and the pause it makes.

Real tasks often lack a detail only the requester knows (which order, which
item). An agent may then call the built-in ``ask_customer`` tool. The thread
pauses with LangGraph's ``interrupt()``, with a :class:`CustomerQuestion`:
a pause of its own kind (``"question"``), not an approval. Nothing is signed,
because a reply moves nothing by itself: every write it leads to still goes
through the guard. The reply (:class:`CustomerReply`) comes back to the agent
that asked, as the tool's result, and its step goes on from there.

The reply is checked here, in the graph, whatever the entry point
(``switchboard reply``, :func:`switchboard.replies.reply_run`, a raw
``Command(resume=...)`` from a LangGraph server client): an empty reply, or an
approval sent to a question, is refused, recorded, and the same question is
asked again with the reason in ``error``. Question, replies and refusals go to
the audit trail under ids derived from the thread, the node's namespace and
the tool call, so a node re-run after a resume records nothing twice.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from switchboard.agents.card import ASK_TOOL
from switchboard.agents.interrupts import Governance, thread_of
from switchboard.agents.records import ToolCallRecord
from switchboard.errors import ReplyRefused
from switchboard.policies.answers import request_id

REPLY_FIELD = "customer_reply"
"""The tool result is ``{"customer_reply": TEXT}``: the customer's words, as data."""
QUESTION_KIND = "question"
"""The ``kind`` of a customer question's interrupt payload."""
MAX_REPLY_CHARS = 4000
HOW_TO_REPLY = (
    'answer with `switchboard reply THREAD "TEXT"`, switchboard.replies.reply_run(THREAD, TEXT), '
    'or Command(resume={INTERRUPT_ID: {"reply": "TEXT"}}), keyed by this interrupt\'s id (a plain string '
    "works as the reply too)"
)


class AskCustomerArgs(BaseModel):
    """The arguments of ``ask_customer``, as validated when a model calls it.

    The model is shown :func:`ask_customer_tool_schema`; the tool's result is
    ``{"customer_reply": TEXT}``.
    """

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=1000, description="One short question, in the customer's words.")


ASK_DESCRIPTION = "Ask the customer one question, only for what they alone know (which order, which item)."
"""The tool's description: the whole of what a model is told about ``ask_customer``.

Bound to every agent's every model call, so it is said once, here, and not
again in the parameters (see :func:`ask_customer_tool_schema`)."""


def ask_customer_tool_schema() -> dict[str, Any]:
    """The OpenAI-style tool schema of ``ask_customer``, for ``bind_tools``.

    Written out rather than derived from :class:`AskCustomerArgs`: the derived
    schema repeats the docstring as the parameters' description and adds
    titles, about four times the tokens on every agent call. The reply is
    still validated against ``AskCustomerArgs``.
    """
    return {
        "type": "function",
        "function": {
            "name": ASK_TOOL,
            "description": ASK_DESCRIPTION,
            "parameters": {
                "type": "object",
                "properties": {"question": {"type": "string"}},
                "required": ["question"],
            },
        },
    }


class CustomerReply(BaseModel):
    """The customer's answer to a question: the resume value a question accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reply: StrictStr
    """What the customer says; handed to the agent that asked, as is."""


class ReplyShape(BaseModel):
    """How to answer a question: ``Command(resume=VALUE)`` with a value of this shape."""

    model_config = ConfigDict(frozen=True)

    json_schema: dict[str, Any] = Field(default_factory=CustomerReply.model_json_schema)
    example: dict[str, Any] = Field(default_factory=lambda: {"reply": "TEXT: the customer's answer, in their words"})
    how: str = HOW_TO_REPLY


class CustomerQuestion(BaseModel):
    """What a paused thread shows when an agent asks the customer (the ``interrupt()`` value)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["question"] = "question"
    question: str
    """The agent's question, for the customer."""
    agent: str
    """The agent that asked; the reply goes back to it."""
    interrupt_id: str
    """The question's id, the same every time the node re-runs."""
    asked_at: float
    """When the question was first asked (Unix seconds, from the audit trail)."""
    resume: ReplyShape = Field(default_factory=ReplyShape)
    error: str | None = None
    """Why the previous reply was refused, when it was; the question is unchanged."""


def read_reply(value: Any) -> str:
    """The customer's text from a resume value, or why it is refused.

    Raises:
        ReplyRefused: The value is an approval, empty, too long, or of another shape.
    """
    if isinstance(value, Mapping) and ({"approved", "approval"} & set(value)):
        raise ReplyRefused(
            "this thread waits for the customer's reply to a question, not for an approval; " + HOW_TO_REPLY
        )
    if isinstance(value, str):
        value = {"reply": value}
    try:
        text = CustomerReply.model_validate(value).reply.strip()
    except ValidationError as exc:
        raise ReplyRefused(f"refused reply {value!r}: it is not text; {HOW_TO_REPLY}") from exc
    if not text:
        raise ReplyRefused(f"the reply is empty; {HOW_TO_REPLY}")
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyRefused(f"the reply has {len(text)} characters; keep it under {MAX_REPLY_CHARS}")
    controls = sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t"})
    if controls:  # as for a task: escape sequences would reach agents' prompts and operators' terminals
        raise ReplyRefused(f"the reply holds control characters ({', '.join(controls[:5])}); send plain text")
    return text


async def put_questions(
    reply: AIMessage, *, agent: str, gov: Governance, config: RunnableConfig
) -> tuple[list[ToolMessage], list[ToolCallRecord]]:
    """Ask each ``ask_customer`` call of ``reply``, in order; the answers as tool results.

    Other tool calls of the same reply are not run: the model is told to
    call them after the answer, which may change them.

    Returns:
        One tool message per call of ``reply``, and a record per question
        answered (the trail shows questions among the agent's tool calls).
    """
    messages: list[ToolMessage] = []
    records: list[ToolCallRecord] = []
    for call in reply.tool_calls:
        if call["name"] != ASK_TOOL:
            messages.append(_error(call, "Not run: ask the customer on its own, then call your tools with the answer."))
            continue
        try:
            question = AskCustomerArgs.model_validate(call["args"]).question.strip()
        except ValidationError as exc:
            messages.append(_error(call, f"Invalid question, call {ASK_TOOL} again with one `question`: {exc}"))
            continue
        text = await _ask(gov, config, str(call["id"]), question, agent)
        answer = json.dumps({REPLY_FIELD: text}, ensure_ascii=False)
        messages.append(ToolMessage(answer, tool_call_id=call["id"] or "", name=ASK_TOOL))
        records.append(
            ToolCallRecord(tool=ASK_TOOL, args={"question": question}, outcome="ok", result=text, policy=None)
        )
    return messages, records


async def _ask(gov: Governance, config: RunnableConfig, key: str, question: str, agent: str) -> str:
    """Pause until an accepted reply arrives; refused ones are recorded and the question asked again."""
    thread, namespace = thread_of(config)
    rid = request_id(thread, namespace, key)
    payload = {"kind": QUESTION_KIND, "interrupt_id": rid, "agent": agent, "question": question}
    asked = await gov.record(("customer-question", rid), thread, "escalation", payload)
    request = CustomerQuestion(question=question, agent=agent, interrupt_id=rid, asked_at=asked)
    error: str | None = None
    attempt = 0
    while True:
        value = interrupt(request.model_copy(update={"error": error}).model_dump(mode="json"))
        attempt += 1
        try:
            text = read_reply(value)
        except ReplyRefused as exc:
            error = str(exc)
            refused = {"kind": "reply_refused", "interrupt_id": rid, "attempt": attempt, "message": error}
            await gov.record(("customer-reply-refused", rid, attempt), thread, "escalation", refused)
            continue
        answered = {"kind": "reply", "interrupt_id": rid, "attempt": attempt, "reply": text[:2000]}
        await gov.record(("customer-reply", rid, attempt), thread, "escalation", answered)
        return text


def _error(call: ToolCall, text: str) -> ToolMessage:
    return ToolMessage(text, tool_call_id=call["id"] or "", name=call["name"], status="error")
