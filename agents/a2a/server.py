"""A Switchboard graph served as an A2A agent: other orchestrators route work to the whole team.

Each A2A context is one Switchboard thread (``a2a-<context id>``), so a
follow-up message in a context continues that thread rather than starting
over. A run's report becomes the task's artifact. A thread that pauses for a
human maps to A2A ``input-required``, with the question as the status
message:

* a customer question (an agent asked who the customer is, or which order):
  the caller's next message in the task is the reply, as
  ``switchboard reply`` would give it;
* an approval or an escalation: it is answered in Switchboard, by a
  principal with a signed answer (``switchboard resume THREAD --approve --as
  NAME``), never by the caller, whose message cannot carry a principal's
  signature. The caller's next message in the task then reports where the
  thread stands: the finished run, or the same question.

Runs go through :func:`switchboard.runs.drive`, as the CLI's do, so they are
checkpointed step by step and recorded, each under the thread's lock in the
checkpoint store (:func:`switchboard.runs.thread_lock`): a ``switchboard
resume`` or ``reply`` of the same thread in another process, or another
replica of the server, waits its turn instead of running it at once. A task
is checked as the CLI checks it (``validate_task``) before anything is
saved, and a reply as ``switchboard reply`` checks it; a refusal says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import re
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langgraph.types import Command

from switchboard.agents.a2a._sdk import require_server
from switchboard.agents.a2a.cards import team_card
from switchboard.agents.card import AgentCard
from switchboard.agents.questions import QUESTION_KIND, read_reply
from switchboard.checkpoints.locks import hold_thread
from switchboard.errors import ConfigError, ReplyRefused, TaskError, ThreadError
from switchboard.graph.intake import validate_task
from switchboard.runs import RunResult, drive, result_of, thread_config, unfinished
from switchboard.settings import Settings

if TYPE_CHECKING:
    from a2a.server.agent_execution import RequestContext
    from a2a.server.events import EventQueue
    from a2a.server.tasks import TaskStore, TaskUpdater
    from langgraph.graph.state import CompiledStateGraph
    from starlette.applications import Starlette

THREAD_PREFIX = "a2a-"
"""Threads started over A2A are named after their context: ``a2a-<context id>``."""
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
"""A context id used as it is in a thread id; any other (control characters, paths, megabytes) is hashed."""


def thread_of(context_id: str) -> str:
    """The Switchboard thread of an A2A context: ``a2a-<context id>``, or of its hash when the id is not plain.

    A caller chooses its context ids, and thread ids reach operators' terminals
    (``switchboard threads``) and file names.
    """
    if _PLAIN_ID.fullmatch(context_id):
        return THREAD_PREFIX + context_id
    return THREAD_PREFIX + hashlib.sha256(context_id.encode("utf-8", "replace")).hexdigest()[:32]


def a2a_app(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    *,
    name: str,
    description: str,
    cards: Sequence[AgentCard],
    url: str,
    task_store: TaskStore | None = None,
    settings: Settings | None = None,
    model: str | None = None,
) -> Starlette:
    """An ASGI app that serves ``graph`` as an A2A agent (JSON-RPC at ``/``, its card at the well-known path).

    Args:
        graph: A graph from ``build_graph``, compiled with a checkpointer, so
            a context's thread outlives one message.
        name: The A2A agent's name.
        description: What the team does, for callers that route by it.
        cards: The team's cards; their skills become the A2A card's skills.
        url: Where the app is served, as callers reach it; the card names it.
        task_store: Where the A2A tasks are kept; in memory by default.
        settings: Where the graph's checkpoints are (``checkpoint_target``):
            each run holds its thread's lock there, as the CLI's runs do. By
            default the graph's own store (its SQLite file, or its Postgres
            pool's server); an in-memory checkpointer, which no other process
            can reach, needs no lock beyond the server's own.
        model: The spec the graph's model was resolved from (``embedded``,
            ``openai:gpt-4.1-mini``), recorded with every checkpoint so a
            ``switchboard resume`` of a served thread goes on with it.

    Raises:
        ConfigError: The SDK's server is not installed, or the graph has no checkpointer.
    """
    require_server()
    from a2a.server.request_handlers import DefaultRequestHandlerV2
    from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
    from a2a.server.tasks import InMemoryTaskStore
    from starlette.applications import Starlette

    card = team_card(name, description, cards, url)
    executor = _executor(graph, _lock_target(graph, settings), model)
    handler = DefaultRequestHandlerV2(
        agent_executor=executor, task_store=task_store or InMemoryTaskStore(), agent_card=card
    )
    return Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, "/")])


def _lock_target(graph: CompiledStateGraph[Any, Any, Any, Any], settings: Settings | None) -> str | None:
    """Where runs lock their thread: the settings' store, else the graph's own; ``None`` for one in memory."""
    if settings is not None:
        return str(settings.checkpoint_target)
    saver: Any = graph.checkpointer
    conn = getattr(saver, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        row = conn.execute("PRAGMA database_list").fetchone()
        return str(row[2]) if row and row[2] else None
    conninfo = getattr(conn, "conninfo", None)  # a psycopg pool: its server holds the advisory locks
    return str(conninfo) if conninfo else None


def _executor(graph: CompiledStateGraph[Any, Any, Any, Any], target: str | None, model: str | None) -> Any:
    """The A2A executor running ``graph``; its class needs the SDK, so it is made only once the SDK is there."""
    if graph.checkpointer is None:
        raise ConfigError(
            "a graph served over A2A keeps one thread per A2A context, so it needs a checkpointer: "
            "build_graph(..., checkpointer=saver)"
        )
    from a2a.server.agent_execution import AgentExecutor

    class GraphExecutor(AgentExecutor):
        """Runs the graph for A2A requests: one thread per context, one run at a time per thread."""

        def __init__(self) -> None:
            self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            updater = await _opened(context, event_queue)
            thread_id = thread_of(context.context_id or "")
            result: RunResult | str
            async with self.locks[thread_id]:
                try:
                    held = hold_thread(target, thread_id) if target else contextlib.nullcontext()
                    async with held:  # across processes and replicas
                        result = await _advance(
                            graph, thread_id, context.get_user_input(), context.current_task is not None, model
                        )
                except ThreadError as exc:
                    result = str(exc)
            await _report(updater, result)

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            from a2a.server.tasks import TaskUpdater

            await TaskUpdater(event_queue, context.task_id or "", context.context_id or "").cancel()

    return GraphExecutor()


async def _opened(context: RequestContext, event_queue: EventQueue) -> TaskUpdater:
    """The task's updater, once the task is announced (a new one) and marked working."""
    from a2a.helpers import new_task
    from a2a.server.tasks import TaskUpdater
    from a2a.types import TaskState

    task_id, context_id = context.task_id or "", context.context_id or ""
    if context.current_task is None:
        history = [context.message] if context.message is not None else []
        await event_queue.enqueue_event(new_task(task_id, context_id, TaskState.TASK_STATE_SUBMITTED, history=history))
    updater = TaskUpdater(event_queue, task_id, context_id)
    await updater.start_work()
    return updater


async def _advance(
    graph: CompiledStateGraph[Any, Any, Any, Any], thread_id: str, text: str, follow_up: bool, model: str | None
) -> RunResult | str:
    """Start the context's thread, give it the caller's reply, or report where it stands.

    A message in a context waiting for the customer is the reply, whether it
    names the task that asked or not (many A2A clients send by context).
    Returns a refusal (a string): a task refused by intake, before anything
    is saved, or a new task in a context whose thread ran one already, or is
    still running it.
    """
    snapshot = await graph.aget_state(thread_config(thread_id))
    if not snapshot.values:
        try:
            task = validate_task(text)
        except TaskError as exc:
            return f"the task was refused: {exc}"
        return await drive(graph, {"task": task}, thread_id, None, model=model)
    question = next((i for i in snapshot.interrupts if _kind(i.value) == QUESTION_KIND), None)
    if question is not None:
        try:
            reply = read_reply(text)
        except ReplyRefused as exc:
            return _asking_again(result_of(thread_id, snapshot), str(exc))
        return await drive(graph, Command(resume={question.id: {"reply": reply}}), thread_id, None, model=model)
    if not follow_up and not snapshot.interrupts:
        if unfinished(snapshot):
            return (
                f"this context's Switchboard thread ({thread_id}) stopped mid-run (cancelled, or its process "
                f"ended); `switchboard resume {thread_id}` continues it, or send a new task in a new context"
            )
        return (
            f"this context's Switchboard thread ({thread_id}) has already run its task; "
            "send a new task in a new context"
        )
    return result_of(thread_id, snapshot)


def _asking_again(result: RunResult, why: str) -> RunResult:
    """The same question, with why the last reply was refused in front of it."""
    pending = dict(result.pending or {})
    pending["question"] = f"{why}. {pending.get('question') or ''}".strip()
    return dataclasses.replace(result, pending=pending)


def _kind(value: Any) -> Any:
    return value.get("kind") if isinstance(value, dict) else None


async def _report(updater: TaskUpdater, result: RunResult | str) -> None:
    """End the A2A task as the run ended: its report, a question for the caller, or why it did not finish."""
    from a2a.types import Part

    if isinstance(result, str):
        await updater.reject(updater.new_agent_message([Part(text=result)]))
        return
    if result.status == "paused":
        pending = result.pending or {}
        question = str(pending.get("question") or "The run waits for a human.")
        if _kind(pending) != QUESTION_KIND:
            question += (
                f" (Switchboard thread {result.thread_id}: a principal answers this in Switchboard, "
                f"`switchboard resume {result.thread_id} --approve --as NAME`; "
                "message this task again to see the result.)"
            )
        await updater.requires_input(updater.new_agent_message([Part(text=question)]))
        return
    if result.status == "completed" and result.outcome == "resolved":
        await updater.add_artifact([Part(text=result.summary or "done")], name="report")
        await updater.complete()
        return
    if result.status == "completed" and result.outcome == "rejected":
        await updater.reject(updater.new_agent_message([Part(text=result.summary or "a human rejected the run")]))
        return
    why = result.error or result.summary or f"the run ended {result.outcome or result.status}"
    await updater.failed(updater.new_agent_message([Part(text=why)]))
