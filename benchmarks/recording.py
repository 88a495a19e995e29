"""A chat model that records exactly what it is sent, and a shared token count.

Prompt size is measured at the model boundary, not reconstructed: whatever a
framework puts into the request (messages and bound tool schemas) is what
a provider would bill, so both sides of a comparison are captured by the same
recorder and counted by the same tokenizer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolCall
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from switchboard.testing import ScriptedChatModel

_TOKEN = re.compile(r"\w+|[^\w\s]")
TOKENIZER = (
    r"regex \w+|[^\w\s] over message text, the JSON of the tool calls in AI messages (name and arguments) "
    "and the JSON of the bound tool schemas"
)
"""How tokens are counted, for the printed notes.

Offline and deterministic; it counts words and punctuation marks, so it runs
roughly 1.2-1.5x a BPE tokenizer on JSON but treats both sides alike.
"""


def count_tokens(text: str) -> int:
    """Tokens in ``text`` by the shared offline tokenizer."""
    return len(_TOKEN.findall(text))


@dataclass(frozen=True)
class Request:
    """One request a model received: the messages and the tool schemas bound to it."""

    messages: list[BaseMessage]
    tools: list[dict[str, Any]]

    @property
    def text(self) -> str:
        """Everything the provider would read, as text: roles, contents, the tool calls made, tool JSON."""
        return "\n".join(map(message_text, self.messages)) + "\n" + json.dumps(self.tools, sort_keys=True)

    @property
    def tokens(self) -> int:
        """Size of the request by :func:`count_tokens`."""
        return count_tokens(self.text)


def message_text(message: BaseMessage) -> str:
    """One message as a provider reads it: its role and content, and the tool calls of an AI message.

    The calls an earlier turn made are sent back with every later request of
    the conversation (as ``tool_calls`` with JSON ``arguments``), so they are
    input tokens like the content; leaving them out would favour whichever
    stack replays more of its own calls.
    """
    content = message.content if isinstance(message.content, str) else json.dumps(message.content)
    calls = message.tool_calls if isinstance(message, AIMessage) else []
    return f"{message.type}: {content}" + "".join(f"\n{call_json(call)}" for call in calls)


def call_json(call: ToolCall) -> str:
    """A tool call in the form an OpenAI-style request carries it: the name and the arguments as a JSON string."""
    return json.dumps({"name": call["name"], "arguments": json.dumps(call["args"], default=str)})


class RecordingChatModel(BaseChatModel):
    """Answers every call with ``reply`` and keeps each request it was sent."""

    reply: AIMessage
    _requests: list[Request] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "switchboard-recording"

    @property
    def requests(self) -> list[Request]:
        """Every request received, in order."""
        return self._requests

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Runnable[Any, Any]:
        """Bind the tools as OpenAI-style schemas, the form a provider receives."""
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._requests.append(Request(list(messages), list(kwargs.get("tools") or [])))
        return ChatResult(generations=[ChatGeneration(message=self.reply)])


class ReplayChatModel(ScriptedChatModel):
    """The test kit's scripted model, also keeping each request as a provider would receive it.

    Every stack in a comparison replays its replies through this one class,
    so calls and tokens are counted the same way on every side.
    """

    _requests: list[Request] = PrivateAttr(default_factory=list)

    @property
    def requests(self) -> list[Request]:
        """Every request received, in order (aligned with ``calls``)."""
        return self._requests

    def rewind(self) -> None:
        """Start the script again and forget what was received, for the next run of a built graph."""
        self._requests.clear()
        self._calls.clear()
        self._cursors.clear()
        self._overruns.clear()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._requests.append(Request(list(messages), list(kwargs.get("tools") or [])))
        return super()._generate(messages, stop, run_manager, **kwargs)
