"""Answering an agent's question to the customer, and continuing the thread.

The service behind ``switchboard reply THREAD "TEXT"``. A question is not an
approval: it is answered with the customer's text, needs no signature, and
its reply goes back to the agent that asked (see
:mod:`switchboard.agents.questions`). A thread paused for an approval or an
escalation is answered with :func:`switchboard.runs.resume_run` instead, and
each entry point refuses the other's pauses with a message naming the right one.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from switchboard.agents.questions import QUESTION_KIND, read_reply
from switchboard.errors import ReplyRefused, ThreadError
from switchboard.monitoring.tracer import delivered_traces
from switchboard.runs import EventSink, RunResult, drive, open_graph, thread_config, thread_lock, thread_settings
from switchboard.settings import Settings

__all__ = ["reply_run"]


async def reply_run(
    thread_id: str,
    text: str,
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    on_event: EventSink | None = None,
) -> RunResult:
    """Give the customer's reply to the question a paused thread waits on, and continue it.

    Args:
        thread_id: The thread paused on a customer question.
        text: The customer's reply, handed to the agent that asked.
        settings: Explicit settings; read from the environment when omitted.
        model: A ready chat model (tests pass a scripted one).
        on_event: Receives the run's progress.

    Raises:
        ThreadError: The thread does not exist, or is not waiting for the
            customer (it waits for an approval: ``switchboard resume``).
        ReplyRefused: The reply is empty or too long; the thread is still
            paused on the same question.
    """
    read_reply(text)  # refused here, before anything opens, as the graph would refuse it
    settings = settings or Settings()
    async with delivered_traces(), thread_lock(settings, thread_id):  # traces go after the lock (see start_run)
        settings = await thread_settings(settings, thread_id, model)
        async with open_graph(settings, model=model) as graph:
            return await _reply(graph, thread_id, text, on_event, None if model is not None else settings.model)


async def _reply(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    thread_id: str,
    text: str,
    on_event: EventSink | None,
    spec: str | None,
) -> RunResult:
    snapshot = await graph.aget_state(thread_config(thread_id))
    if not snapshot.values:
        raise ThreadError(f"no thread {thread_id!r}; `switchboard run` starts one")
    question = next((i for i in snapshot.interrupts if _kind(i.value) == QUESTION_KIND), None)
    if question is None:
        raise ThreadError(_not_a_question(thread_id, [i.value for i in snapshot.interrupts]))
    result = await drive(graph, Command(resume={question.id: {"reply": text}}), thread_id, on_event, model=spec)
    after = await graph.aget_state(thread_config(thread_id))
    for item in after.interrupts:
        value = item.value if isinstance(item.value, dict) else {}
        if value.get("interrupt_id") == question.value.get("interrupt_id") and value.get("error"):
            raise ReplyRefused(f"{value['error']}. The thread is still paused on the same question")
    return result


def _kind(value: Any) -> Any:
    return value.get("kind") if isinstance(value, dict) else None


def _not_a_question(thread_id: str, pending: list[Any]) -> str:
    if not pending:
        return f"thread {thread_id!r} is not waiting for anyone; nothing to reply to"
    first = pending[0] if isinstance(pending[0], dict) else {}
    # pinned to the question named here, so the command cannot answer another one asked in the meantime
    pin = f" --interrupt {first['interrupt_id']}" if first.get("interrupt_id") else ""
    return (
        f"thread {thread_id!r} waits for {'an approval' if first.get('kind') == 'approval' else 'a human decision'}"
        f" ({first.get('question')}), not for the customer's reply; answer it with "
        f"`switchboard resume {thread_id} --approve|--reject{pin} --as NAME`"
    )
