"""A remote A2A agent as a team member: each step it is routed becomes one A2A message.

The agent is an :class:`~switchboard.agents.external.Agent`, so it is
governed like any agent you bring, at the handoff: the supervisor decides
what it receives, its step holds a lease and its card's time limit, and a
failure is reassigned to the card's fallbacks. A remote task that ends
``failed``, ``rejected`` or ``canceled`` raises :class:`RemoteTaskFailed`,
which the node records as a failed step. So does one that stops on
``input-required`` or ``auth-required``: Switchboard does not relay a remote
agent's questions, and a step waiting on an answer nobody will give is not
done; the question goes into the failure, where the supervisor's fallback or
the human it escalates to reads it.

Discovery (:func:`a2a_agent`) reads the card over the network and is async;
:func:`a2a_agent_from_card` builds from a card you already hold and does no
I/O, so ``build_graph``, which is sync, never waits on a remote server.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda

from switchboard.agents.a2a._sdk import require
from switchboard.agents.a2a.cards import discover_card, parse_card, to_switchboard_card
from switchboard.agents.card import AgentCard
from switchboard.agents.external import Agent
from switchboard.errors import ConfigError, SwitchboardError

if TYPE_CHECKING:
    from a2a.client import Client
    from a2a.types import AgentCard as RemoteCard
    from a2a.types import Message, Task

log = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("6f1c2a52-3f0e-4c59-9a7e-2b8d0c4a1e77")
"""Fixed namespace for the ids derived from a thread and step, so a re-run derives the same ones."""
_POLL_S = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Waits between reads of a task the server left running, growing to the last."""


class RemoteTaskFailed(SwitchboardError):
    """A remote A2A agent ended a step's task without a result.

    The brought-agent node records any exception as a failed step, so the
    step is reassigned to the card's fallbacks or goes to a human. Carries
    the typed outcome.
    """

    def __init__(self, outcome: RemoteOutcome) -> None:
        super().__init__(outcome.describe())
        self.outcome = outcome
        """How the remote task ended."""


@dataclass(frozen=True)
class RemoteOutcome:
    """How a remote A2A task (or a direct message answer) ended."""

    agent: str
    """The Switchboard name of the remote agent."""
    state: str
    """The A2A task state as the spec writes it (``completed``, ``input-required``); ``message`` for a direct answer."""
    text: str
    """The answer: the text of its artifacts, else of its last status or message."""
    task_id: str = ""
    """The remote task's id, empty for a direct message answer."""
    context_id: str = ""
    """The A2A context the step ran in."""

    @property
    def done(self) -> bool:
        """Whether the remote agent finished the work and gave an answer."""
        return self.state in ("completed", "message") and bool(self.text.strip())

    def describe(self) -> str:
        """The outcome as the trail shows a failed step: what the remote agent said, and what follows."""
        said = f": {self.text.strip()}" if self.text.strip() else ""
        where = f" (A2A task {self.task_id})" if self.task_id else ""
        if self.state in ("input-required", "auth-required"):
            asks = "input" if self.state == "input-required" else "authorization"
            return (
                f"{self.agent} asks for {asks}{said}{where}; Switchboard does not relay a remote agent's questions, "
                "so the step failed: give the step's instruction what it asks for, or answer the remote agent directly"
            )
        if self.state in ("completed", "message"):
            return f"{self.agent} finished{where} without an answer"
        return f"{self.agent} ended its task as {self.state}{said}{where}"


async def a2a_agent(url: str, *, name: str | None = None, description: str | None = None, **card_fields: Any) -> Agent:
    """A remote A2A agent as a team member, its card discovered from ``url``.

    Args:
        url: The agent's base URL.
        name: Its Switchboard name; else derived from the remote card's name.
        description: What it is for, for routing; else the remote card's.
        **card_fields: Other :class:`AgentCard` fields: ``fallbacks``,
            ``timeout_s``, ``max_concurrency``, ``cost_tier``, ``skills``.

    Raises:
        ConfigError: The card cannot be read, or makes no valid Switchboard card.
    """
    return a2a_agent_from_card(await discover_card(url), name=name, description=description, **card_fields)


def a2a_agent_from_card(
    remote: RemoteCard | Mapping[str, Any],
    *,
    name: str | None = None,
    description: str | None = None,
    card: AgentCard | None = None,
    **card_fields: Any,
) -> Agent:
    """A remote A2A agent as a team member, from a card you hold; no network I/O.

    Args:
        remote: The remote agent's A2A card: the SDK's ``AgentCard``, or its
            JSON as a mapping (as served at ``/.well-known/agent-card.json``).
        name: Its Switchboard name; else derived from the remote card's name.
        description: What it is for, for routing; else the remote card's.
        card: Its whole Switchboard card (from a team file, say), used as
            is instead of one made from ``remote``.
        **card_fields: Other :class:`AgentCard` fields (see :func:`a2a_agent`).

    Raises:
        ConfigError: The SDK is missing, the card has no interface to call,
            or it makes no valid Switchboard card.
    """
    require()
    parsed = parse_card(remote)
    if not parsed.supported_interfaces:
        raise ConfigError(f"the A2A card of {parsed.name!r} lists no interface (URL) to send messages to")
    if card is not None and (name or description or card_fields):
        raise ConfigError("give a2a_agent_from_card either a whole `card` or fields to make one, not both")
    local = card or to_switchboard_card(parsed, name=name, description=description, **card_fields)
    step = _RemoteStep(local.name, parsed, local.timeout_s)
    return Agent(RunnableLambda(step.run, name=local.name), card=local)


class _RemoteStep:
    """One brought-agent step sent to a remote A2A agent.

    Its ids are derived from the thread and the step (the id of the opening
    message the node sends), not drawn at random: a re-run of the same step,
    after a crash, speaks in the same A2A context and sends the same message
    id. It first asks the server for a task already in that context and, if
    there is one, takes that task's outcome instead of sending again, so the
    remote agent does not act twice; a server that cannot list tasks gets the
    same message id, which a server that deduplicates by it recognises.
    """

    def __init__(self, name: str, card: RemoteCard, timeout_s: float) -> None:
        self.name = name
        self.card = card
        self.timeout_s = timeout_s

    async def run(self, state: Mapping[str, Any], config: RunnableConfig) -> dict[str, Any]:
        """Send the step's instruction; answer with the remote agent's text as the last AI message.

        Raises:
            RemoteTaskFailed: The remote task ended failed, rejected or
                canceled, asks for input or authorization, or gave no text.
        """
        import httpx
        from a2a.client import ClientConfig, ClientFactory
        from a2a.utils.constants import TransportProtocol

        messages = list(state.get("messages") or [])
        opening = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        if opening is None:
            raise RemoteTaskFailed(RemoteOutcome(self.name, "rejected", "the step had no instruction to send"))
        context_id, message_id = self._ids(opening, config)
        # The node's clock (the card's timeout_s) bounds the step; the HTTP read waits a little longer so that
        # clock, not the client's, decides when a slow agent is given up on.
        timeout = httpx.Timeout(self.timeout_s + 5.0, connect=10.0)
        async with httpx.AsyncClient(timeout=timeout) as http:
            bindings: list[str] = [TransportProtocol.JSONRPC, TransportProtocol.HTTP_JSON]
            factory = ClientFactory(
                ClientConfig(streaming=False, httpx_client=http, supported_protocol_bindings=bindings)
            )
            client = factory.create(self.card)
            outcome = await self._earlier(client, context_id)
            if outcome is None:
                outcome = await self._send(client, opening.text, context_id, message_id)
        if not outcome.done:
            raise RemoteTaskFailed(outcome)
        return {"messages": [*messages, AIMessage(outcome.text.strip(), name=self.name)]}

    def _ids(self, opening: BaseMessage, config: RunnableConfig) -> tuple[str, str]:
        """The step's A2A context id and message id, the same on every run of the step."""
        thread = (config.get("configurable") or {}).get("thread_id")
        step = opening.id or opening.text
        if thread is None:  # no checkpointed thread, so nothing to re-run: fresh ids
            thread = uuid.uuid4().hex
        key = f"{thread}/{step}/{self.name}"
        return str(uuid.uuid5(_NAMESPACE, f"context:{key}")), str(uuid.uuid5(_NAMESPACE, f"message:{key}"))

    async def _earlier(self, client: Client, context_id: str) -> RemoteOutcome | None:
        """The outcome of a task an earlier run of this step left in its context, waited for if still running."""
        from a2a.client import A2AClientError
        from a2a.types import ListTasksRequest
        from a2a.utils.errors import A2AError

        try:
            found = await client.list_tasks(ListTasksRequest(context_id=context_id, include_artifacts=True))
        except A2AClientError:  # the transport failed (no connection, no answer): the step fails as any call would
            raise
        except A2AError as exc:  # the server answered that it cannot list tasks: nothing to resume, send as usual
            log.debug("%s cannot list tasks (%s); sending the step", self.name, exc)
            return None
        ours = [t for t in found.tasks if t.context_id == context_id]  # a server may ignore the filter
        if not ours:
            return None
        task = max(ours, key=lambda t: t.status.timestamp.ToNanoseconds())
        log.info("%s: resuming A2A task %s left by an earlier run of this step", self.name, task.id)
        return await self._settled(client, task)

    async def _send(self, client: Client, text: str, context_id: str, message_id: str) -> RemoteOutcome:
        from a2a.helpers import get_message_text
        from a2a.types import Message, Part, Role, SendMessageRequest

        message = Message(message_id=message_id, context_id=context_id, role=Role.ROLE_USER, parts=[Part(text=text)])
        last: Any = None
        async for response in client.send_message(SendMessageRequest(message=message)):
            last = response
        if last is not None and last.HasField("message"):
            return RemoteOutcome(self.name, "message", get_message_text(last.message), "", context_id)
        if last is None or not last.HasField("task"):
            return RemoteOutcome(self.name, "failed", "the server answered with neither a task nor a message")
        return await self._settled(client, last.task)

    async def _settled(self, client: Client, task: Task) -> RemoteOutcome:
        """The task's outcome once it stops working: done, failed, or waiting on someone."""
        from a2a.types import GetTaskRequest

        waits = iter(_POLL_S)
        while _state(task) in ("submitted", "working", "unspecified"):
            await asyncio.sleep(next(waits, _POLL_S[-1]))
            task = await client.get_task(GetTaskRequest(id=task.id))
        return RemoteOutcome(self.name, _state(task), _task_text(task), task.id, task.context_id)


def _state(task: Task) -> str:
    """The task's state as the A2A spec writes it: ``TASK_STATE_INPUT_REQUIRED`` is ``input-required``."""
    from a2a.types import TaskState

    return TaskState.Name(task.status.state).removeprefix("TASK_STATE_").lower().replace("_", "-")


def _task_text(task: Task) -> str:
    """The task's answer: its artifacts' text, else its status message, else the agent's last message."""
    from a2a.helpers import get_artifact_text, get_message_text
    from a2a.types import Role

    text = "\n\n".join(t for t in (get_artifact_text(a) for a in task.artifacts) if t.strip())
    if text.strip():
        return text
    if task.status.HasField("message"):
        said = get_message_text(task.status.message)
        if said.strip():
            return said
    agents: list[Message] = [m for m in task.history if m.role == Role.ROLE_AGENT]
    return get_message_text(agents[-1]) if agents else ""
