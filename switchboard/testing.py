"""The test kit: a scripted chat model that plays back exact steps.

Tests script the *model*, never the parts around it. ``ScriptedChatModel``
answers each call with the next scripted message, records every call, fails
loudly when the script runs out, and ``assert_complete()`` fails when a step
was never used, so a test cannot pass while the graph silently skipped work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

from switchboard.graph.agent_node import AGENT_METADATA_KEY

Step = AIMessage | Callable[[Sequence[BaseMessage], list[str]], AIMessage]


@dataclass
class RecordedCall:
    """One call the model received."""

    messages: list[BaseMessage]
    tools: list[str] = field(default_factory=list)
    agent: str | None = None
    """The agent the call was made for (from the run's metadata); ``None`` for the supervisor."""

    @property
    def text(self) -> str:
        """All message contents joined, for assertions on prompts."""
        return "\n".join(str(m.content) for m in self.messages)


class ScriptExhaustedError(AssertionError):
    """The graph asked the model more often than the script allows."""


class ScriptedChatModel(BaseChatModel):
    """A chat model that returns scripted steps in order.

    A step is an ``AIMessage`` or a function of (messages, bound tool names)
    returning one (or raising, to play a failing provider). Use
    :func:`route`, :func:`call`, :func:`handoff`, :func:`finish` and
    :func:`escalate` to write steps.

    ``steps`` serve every call by default. Agents running in parallel call
    the model in no fixed order, so ``agents`` can give an agent its own
    script: a call made for agent NAME takes its next step from
    ``agents[NAME]``. Which agent a call works for is read from the run's
    metadata (the agent node sets ``AGENT_METADATA_KEY``), never from the
    prompt, so rewording a prompt cannot move a step to another script.
    """

    steps: list[Any]
    agents: dict[str, list[Any]] = Field(default_factory=dict)
    _calls: list[RecordedCall] = PrivateAttr(default_factory=list)
    _cursors: dict[str, int] = PrivateAttr(default_factory=dict)
    _overruns: list[str] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "switchboard-scripted"

    @property
    def calls(self) -> list[RecordedCall]:
        """Every call received, in order."""
        return self._calls

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Runnable[Any, Any]:
        """Record the tools; the script decides what to call."""
        schemas = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=schemas, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        names = [t["function"]["name"] for t in kwargs.get("tools") or []]
        agent = (run_manager.metadata if run_manager else {}).get(AGENT_METADATA_KEY)
        self._calls.append(RecordedCall(list(messages), names, agent))
        lane = agent if agent in self.agents else None
        script = self.agents[lane] if lane else self.steps
        cursor = self._cursors.get(lane or "", 0)
        if cursor >= len(script):
            # Remembered as well as raised: the graph turns an agent's model
            # error into a failed step, and assert_complete must still fail.
            self._overruns.append(lane or "supervisor")
            raise ScriptExhaustedError(
                f"the model was called {cursor + 1} times{f' as {lane}' if lane else ''} but only "
                f"{len(script)} steps are scripted; last prompt:\n{messages[-1].content}"
            )
        self._cursors[lane or ""] = cursor + 1
        step = script[cursor]
        reply = step(messages, names) if callable(step) else step
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def assert_complete(self) -> None:
        """Fail if any scripted step was never used, or a call found no step."""
        if self._overruns:
            raise AssertionError(f"the model was called past the end of the script by: {self._overruns}")
        unused = {
            lane or "steps": len(script) - self._cursors.get(lane, 0)
            for lane, script in [("", self.steps), *self.agents.items()]
            if len(script) > self._cursors.get(lane, 0)
        }
        if unused:
            raise AssertionError(f"scripted steps were never used: {unused}")


def _tool_message(name: str, args: dict[str, Any], text: str = "") -> AIMessage:
    call_id = f"call_{name}_{abs(hash(json.dumps(args, sort_keys=True, default=str))) % 10**8}"
    return AIMessage(text, tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


def route(
    agent: str,
    instruction: str,
    *,
    skill: str | None = None,
    reason: str = "scripted",
    confidence: float = 0.9,
    plan: Sequence[tuple[str, str | None, str]] = (),
) -> AIMessage:
    """A supervisor step that routes to ``agent``, with the ``(agent, skill, instruction)`` steps it expects next."""
    args: dict[str, Any] = {
        "action": "route",
        "agent": agent,
        "skill": skill,
        "instruction": instruction,
        "reason": reason,
        "confidence": confidence,
    }
    if plan:
        args["plan"] = [{"agent": a, "skill": s, "instruction": i} for a, s, i in plan]
    return _tool_message("RoutingDecision", args)


def finish(reason: str = "the task is done", confidence: float = 0.9) -> AIMessage:
    """A supervisor step that finishes the run."""
    return _tool_message("RoutingDecision", {"action": "finish", "reason": reason, "confidence": confidence})


def escalate(reason: str, confidence: float = 0.3) -> AIMessage:
    """A supervisor step that asks a human."""
    return _tool_message("RoutingDecision", {"action": "escalate", "reason": reason, "confidence": confidence})


def route_many(*steps: tuple[str, str], reason: str = "independent steps", confidence: float = 0.9) -> AIMessage:
    """A supervisor step that starts several ``(agent, instruction)`` steps at once."""
    (agent, instruction), *rest = steps
    args = {
        "action": "route",
        "agent": agent,
        "instruction": instruction,
        "reason": reason,
        "confidence": confidence,
        "also": [{"agent": a, "instruction": i} for a, i in rest],
    }
    return _tool_message("RoutingDecision", args)


def fail(message: str = "provider exploded") -> Callable[[Sequence[BaseMessage], list[str]], AIMessage]:
    """A step that raises, as a crashing provider or agent would."""

    def boom(messages: Sequence[BaseMessage], tools: list[str]) -> AIMessage:
        raise RuntimeError(message)

    return boom


def call(tool: str, **args: Any) -> AIMessage:
    """An agent step that calls ``tool``."""
    return _tool_message(tool, args)


def handoff(
    summary: str, *, status: str = "done", confidence: float = 0.9, reasoning: str = "scripted", **facts: Any
) -> AIMessage:
    """An agent step that hands its findings back."""
    args = {"status": status, "summary": summary, "facts": facts, "reasoning": reasoning, "confidence": confidence}
    return _tool_message("handoff", args)


def garbage(text: str = "I think finance should probably do it?") -> AIMessage:
    """A reply with no tool call at all, as a confused model might give."""
    return AIMessage(text)


DEMO_PRINCIPALS = {"alice": "finance_manager", "bob": "support_agent", "sam": "store_manager"}
"""The principals :func:`make_principals` creates by default: the demo's alice
and bob, and sam, a store manager (the escalation path's second step)."""


def make_principals(home: Path, principals: Mapping[str, str] = DEMO_PRINCIPALS) -> None:
    """Create principals and their keys in a data directory, as ``switchboard principals keygen`` does.

    Args:
        home: The data directory (``SWITCHBOARD_HOME``): keys go to
            ``home/keys/NAME.pem``, public keys to ``home/principals.yaml``.
        principals: Name to role.
    """
    from switchboard.policies.principals import generate_key, upsert_principal

    for name, role in principals.items():
        key = home / "keys" / f"{name}.pem"
        if not key.exists():
            upsert_principal(home / "principals.yaml", name, [role], generate_key(key))


def signed_answer(
    request: Mapping[str, Any],
    thread_id: str,
    name: str = "alice",
    *,
    approved: bool = True,
    note: str = "",
    role: str | None = None,
    home: Path | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The resume value a principal of ``home`` sends to answer ``request`` (an interrupt's value).

    What ``switchboard resume --as NAME`` sends; for raw ``Command(resume=...)`` in tests and clients.
    """
    import time

    from switchboard.policies.answers import sign_answer
    from switchboard.policies.principals import load_registry
    from switchboard.settings import Settings

    home = home or Settings().data_dir
    registry = load_registry([home / "principals.yaml"])
    return sign_answer(
        registry, home / "keys", name, request, thread_id=thread_id, role=role, approved=approved, note=note,
        now=time.time() if now is None else now,
    )  # fmt: skip
