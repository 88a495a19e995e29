"""The intake node: take the task in, from ``task`` or from the chat.

Every run starts here, whatever its entry point (the CLI, Python,
``langgraph dev``, agent-chat-ui), so a malformed task is refused inside the
graph, with a :class:`~switchboard.errors.TaskError` that says what to send,
before any agent runs. It also starts a new turn: the hop budget and any stale
question are reset, so a thread can take one chat message after another. At a
thread's first step it gives the thread its audit ``epoch``, which no caller
can choose (see :func:`~switchboard.graph.oversight.thread_epoch`).
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage

from switchboard.errors import TaskError
from switchboard.graph.state import SupervisorState

MAX_TASK_CHARS = 8000
_LINE_BREAKS = str.maketrans({"\v": "\n", "\f": "\n"})
"""Vertical tabs and form feeds, as pasted from office documents and PDFs, are line breaks."""
_HOW = 'send {"task": "..."} or {"messages": [{"role": "user", "content": "..."}]}'


def validate_task(task: Any) -> str:
    """The task as text, or a clear refusal.

    Raises:
        TaskError: The task is missing, not text (or not valid UTF-8, or
            holding control characters), empty, or too long.
    """
    if task is None:
        raise TaskError(f"there is no task; {_HOW}")
    if not isinstance(task, str):
        raise TaskError(f"a task must be text, not {type(task).__name__}; {_HOW}")
    text = task.translate(_LINE_BREAKS).strip()
    if not text:
        raise TaskError("the task is empty; describe what the agents should do")
    if len(text) > MAX_TASK_CHARS:
        raise TaskError(f"the task has {len(text)} characters; keep it under {MAX_TASK_CHARS}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: bytes a shell or a file gave that were not UTF-8
        raise TaskError(f"the task holds bytes that are not text (at character {exc.start}); send it as UTF-8") from exc
    controls = sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t"})
    if controls:  # escape sequences would reach operators' terminals through show and the dashboard
        raise TaskError(f"the task holds control characters ({', '.join(controls[:5])}); send plain text")
    return text


def _last_human(messages: list[BaseMessage]) -> HumanMessage | None:
    return next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)


def first_message_epoch(state: SupervisorState) -> str:
    """The audit epoch of a thread checkpointed before threads had their own: its first message's id.

    Kept so a thread started by an older version keys its entries as it
    always did, and a re-run after its resume records nothing twice. New
    threads do not use it: a caller chooses its messages' ids.
    """
    messages = state.get("messages") or []
    return str(getattr(messages[0], "id", None) or "") if messages else ""


def _epoch(state: SupervisorState) -> dict[str, str]:
    """The thread's audit epoch, written once: at its first step, or at an older thread's next turn.

    A thread with no trail yet is new (a fresh checkpointer starts every
    thread id with none), and gets a random id no caller can choose or
    repeat. A thread with a trail but no epoch was started by an older
    version: its epoch stays the one its entries were keyed with, now fixed
    in the state so that later changes to its messages cannot move it.
    """
    if state.get("epoch"):
        return {}
    return {"epoch": first_message_epoch(state) if state.get("trail") else str(uuid.uuid4())}


async def intake(state: SupervisorState) -> dict[str, Any]:
    """Read the turn's task, validate it, and start the turn.

    A coroutine although it awaits nothing: LangGraph runs a plain function
    node on a worker thread, a hop per turn for microseconds of work.

    A human message that no turn has taken yet is the task (its text, so
    content blocks work too). Otherwise ``task`` is, and it is added to the
    conversation as the human's message, so the chat shows what was asked.

    Raises:
        TaskError: The task is missing or malformed; nothing has run.
    """
    human = _last_human(list(state.get("messages") or []))
    turn: dict[str, Any] = {"hops": 0, "pending": None, **_epoch(state)}
    if human is not None and human.id != state.get("asked"):
        return {**turn, "task": validate_task(human.text), "asked": human.id}
    task = validate_task(state.get("task"))
    message = HumanMessage(task, id=str(uuid.uuid4()))
    return {**turn, "task": task, "asked": message.id, "messages": [message]}
