"""Worker processes that take runs from a queue in Postgres (procrastinate).

One machine runs threads in the process that started them. When that is not
enough, runs go on a queue and any number of worker processes, on any number
of machines, take them. The queue is procrastinate's, in the same Postgres
database as the checkpoints (``SWITCHBOARD_CHECKPOINT_DB=postgresql://…``), so
scaling out needs nothing but Postgres: no broker, no second store.

A job only names the thread and what to do with it; everything a run needs is
in the checkpoints. A job runs :func:`switchboard.runs.start_run` or
:func:`switchboard.runs.resume_run`, which take the thread's lock in the
checkpoint store: two jobs on one thread (a double submit, two workers racing)
cannot both drive it. One wins; the other fails with a
:class:`~switchboard.errors.ThreadError` and writes nothing to the thread.

A job that ends with the thread paused or failed has still done its work: the
thread says where it stands (``switchboard show``). A job fails only when the
run raised, and procrastinate records the failure; it does not retry, because
a run's steps are not repeated blindly (resume continues from the checkpoint).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from switchboard.agents.card import load_team
from switchboard.checkpoints import is_postgres
from switchboard.errors import ConfigError, ThreadError
from switchboard.graph.intake import validate_task
from switchboard.policies.answers import sign_answer
from switchboard.runs import (
    new_thread_id,
    principals_for,
    question_changed,
    read_thread,
    resume_run,
    start_run,
)
from switchboard.settings import Settings

QUEUE = "switchboard-runs"
"""The procrastinate queue runs are deferred to and workers listen on."""

RUN_TASK = "switchboard.run"
RESUME_TASK = "switchboard.resume"

_SCHEMA_LOCK = 0x5B_0009
"""Advisory lock id under which one worker at a time installs the queue's tables."""

_log = logging.getLogger(__name__)

if TYPE_CHECKING:  # procrastinate is an optional extra, imported when a worker is built
    import procrastinate


def queue_url(settings: Settings) -> str:
    """The Postgres database that holds the queue: the checkpoint database.

    Raises:
        ConfigError: Checkpoints are not on Postgres, so there is nothing a
            second process or machine could share.
    """
    target = settings.checkpoint_target
    if not is_postgres(target):
        raise ConfigError(
            "workers take runs from a queue in Postgres: set SWITCHBOARD_CHECKPOINT_DB=postgresql://… "
            "(the queue lives beside the checkpoints), and install `switchboard[workers]`"
        )
    return target


def build_app(settings: Settings | None = None) -> procrastinate.App:
    """A procrastinate app on the configured Postgres, with the run and resume tasks.

    Nothing connects until the app is opened (``async with app.open_async()``).

    Raises:
        ConfigError: Checkpoints are not on Postgres, or procrastinate is not installed.
    """
    url = queue_url(settings or Settings())
    try:
        import procrastinate
    except ImportError as exc:
        raise ConfigError("workers need `pip install 'switchboard[workers]'` (procrastinate)") from exc
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
    app.task(name=RUN_TASK, queue=QUEUE)(_run_job)
    app.task(name=RESUME_TASK, queue=QUEUE)(_resume_job)
    return app


async def _run_job(task: str, thread_id: str) -> None:
    """Run a task on a new thread, in this worker, with the worker's settings."""
    result = await start_run(task, thread_id=thread_id, settings=Settings())
    _log.info("thread %s: %s", thread_id, result.status)


async def _resume_job(thread_id: str, answer: dict[str, Any], interrupt_id: str | None = None) -> None:
    """Answer a paused thread (or continue one whose process ended) in this worker.

    The answer was signed by whoever queued it, with their own key, so a
    worker holds no principal's key and cannot approve for anyone. It is
    pinned to the question the submitter answered (``interrupt_id``; jobs
    queued before pinning carry none): a job taken after the thread moved
    on to another question answers nothing, not even with a rejection,
    which needs no signature to bind it.
    """
    approved, note = bool(answer.get("approved")), str(answer.get("note") or "")
    result = await resume_run(
        thread_id, approved=approved, note=note, answer=answer, interrupt_id=interrupt_id, settings=Settings()
    )
    _log.info("thread %s: %s", thread_id, result.status)


async def ensure_schema(app: procrastinate.App, url: str) -> None:
    """Install the queue's tables in ``url`` once; safe when many workers start together."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", [_SCHEMA_LOCK])
        try:
            row = await (await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).fetchone()
            if not (row and row[0]):
                await conn.execute(app.schema_manager.get_schema())
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", [_SCHEMA_LOCK])


async def submit(task: str, *, thread_id: str | None = None, settings: Settings | None = None) -> tuple[str, int]:
    """Put a run on the queue; a worker will start it. Returns the thread id and job id.

    A thread takes one queued job at a time (procrastinate's queueing lock,
    keyed by the thread id), and a run only for a thread that does not exist
    yet: either would fail in the worker, where only its log would say so.

    Raises:
        TaskError: The task is malformed (checked here, before it is queued).
        ConfigError: Checkpoints are not on Postgres.
        ThreadError: ``thread_id`` exists already, or has a job queued.
    """
    text = validate_task(task)
    settings = settings or Settings()
    app = build_app(settings)
    if thread_id is None:
        thread_id = new_thread_id()
    elif await _exists(thread_id, settings):
        raise ThreadError(f"thread {thread_id!r} exists already: give a new --thread, or answer it with --resume")
    async with app.open_async():
        await ensure_schema(app, queue_url(settings))
        job_id = await _defer(app, RUN_TASK, thread_id, task=text)
    return thread_id, job_id


@dataclass(frozen=True)
class QueuedAnswer:
    """An answer on the queue, and the question it answers (what ``submit --resume`` reports)."""

    job_id: int
    interrupt_id: str
    """The question answered; the job answers it or nothing."""
    question: str


async def submit_resume(
    thread_id: str,
    *,
    approved: bool,
    note: str = "",
    approver: str | None = None,
    role: str | None = None,
    interrupt_id: str | None = None,
    settings: Settings | None = None,
) -> int:
    """Put the answer to a paused thread on the queue; a worker will resume it. Returns the job id.

    The same as :func:`queue_answer`, for callers that need only the job id.
    """
    queued = await queue_answer(
        thread_id, approved=approved, note=note, approver=approver, role=role, interrupt_id=interrupt_id,
        settings=settings,
    )  # fmt: skip
    return queued.job_id


async def queue_answer(
    thread_id: str,
    *,
    approved: bool,
    note: str = "",
    approver: str | None = None,
    role: str | None = None,
    interrupt_id: str | None = None,
    settings: Settings | None = None,
) -> QueuedAnswer:
    """Put the answer to a paused thread on the queue; a worker will resume it.

    An approval is signed here, with the approver's key from this machine's
    data directory, bound to the question the thread is waiting on; the job
    is pinned to that question, so a worker that takes it after the thread
    moved on answers nothing.

    Args:
        thread_id: The paused thread.
        approved: Approve (sign) or reject its question.
        note: For the trail and the agents.
        approver: Who answers (``--as``); an approval is signed with their key.
        role: Which of the approver's roles to act in.
        interrupt_id: The question the submitter read (``--interrupt``):
            when the thread waits on another one now, nothing is signed or
            queued.
        settings: Explicit settings; read from the environment when omitted.

    Raises:
        ThreadError: The thread is not waiting for an answer.
        QuestionChanged: It waits on another question than ``interrupt_id``.
        ApprovalRefused: The approver is unknown or has no key here.
    """
    settings = settings or Settings()
    pending = await _pending(thread_id, settings, interrupt_id, approved)
    answer = _answer(settings, thread_id, pending, approved=approved, note=note, approver=approver, role=role)
    asked = _question_id(pending)
    app = build_app(settings)
    async with app.open_async():
        await ensure_schema(app, queue_url(settings))
        job_id = await _defer(app, RESUME_TASK, thread_id, answer=answer, interrupt_id=asked)
    return QueuedAnswer(job_id, asked or "", str(pending.get("question") or ""))


def _question_id(pending: dict[str, Any]) -> str | None:
    """The id a queued answer is pinned to: the question's ``interrupt_id``.

    ``None`` for a question without one (an ``interrupt()`` of a brought
    agent): its answer is not pinned, as before pins existed, rather than
    pinned to an id nothing has, which no worker could ever apply.
    """
    asked = pending.get("interrupt_id")
    return str(asked) if asked else None


async def _pending(thread_id: str, settings: Settings, pinned: str | None, approved: bool) -> dict[str, Any]:
    """The question a queued answer is for: the thread's, checked against the one the submitter read.

    Raises:
        ThreadError: The thread is not waiting for an answer.
        QuestionChanged: It waits on another question than ``pinned``.
    """
    thread = await read_thread(thread_id, settings=settings)  # a rejection too: a job that cannot work is refused now
    pending = thread.get("pending")
    if thread["status"] != "paused" or not pending:
        raise ThreadError(f"thread {thread_id!r} is not waiting for an answer ({thread['status']})")
    asked = _question_id(pending)
    if pinned is not None and asked is None:
        raise ThreadError(
            f"thread {thread_id!r} waits on a question with no interrupt_id to pin an answer to (an agent's own "
            "interrupt()); submit without --interrupt"
        )
    if pinned is not None and pinned != asked:
        raise question_changed(thread_id, pinned, approved, [(str(asked), str(pending.get("question") or ""))])
    return dict(pending)


def _answer(
    settings: Settings, thread_id: str, pending: dict[str, Any], *, approved: bool, note: str,
    approver: str | None, role: str | None,
) -> dict[str, Any]:  # fmt: skip
    """The resume value to queue: an approval signed here with the approver's key, or a plain rejection."""
    if not (approved and approver):
        return {"approved": approved, "note": note, "approver": approver}
    registry = principals_for(settings, load_team(settings.team))
    return sign_answer(
        registry, settings.data_dir / "keys", approver, pending, thread_id=thread_id,
        role=role, approved=True, note=note, now=time.time(),
    )  # fmt: skip


async def _defer(app: procrastinate.App, name: str, thread_id: str, **kwargs: Any) -> int:
    """Queue the task ``name`` for ``thread_id`` unless a job for the thread is queued already.

    Raises:
        ThreadError: A job for the thread is waiting in the queue.
    """
    from procrastinate.exceptions import AlreadyEnqueued

    try:
        return await app.tasks[name].configure(queueing_lock=thread_id).defer_async(thread_id=thread_id, **kwargs)
    except AlreadyEnqueued:
        raise ThreadError(
            f"a job for thread {thread_id!r} is already queued; `switchboard show {thread_id}` follows it"
        ) from None


async def _exists(thread_id: str, settings: Settings) -> bool:
    try:
        await read_thread(thread_id, settings=settings)
    except ThreadError:
        return False
    return True


async def work(*, concurrency: int = 1, until_idle: bool = False, settings: Settings | None = None) -> None:
    """Take runs from the queue until stopped (SIGINT/SIGTERM finish the current jobs first).

    Args:
        concurrency: Runs this process drives at once. Each run starts its
            team's MCP servers, so more workers scale better than a higher
            concurrency; mind the agents' ``max_concurrency`` too.
        until_idle: Stop once the queue is empty, instead of waiting for more.
        settings: Explicit settings; read from the environment when omitted.
    """
    if concurrency < 1:
        raise ConfigError(f"concurrency must be at least 1, not {concurrency}")
    settings = settings or Settings()
    app = build_app(settings)
    async with app.open_async():
        await ensure_schema(app, queue_url(settings))
        await app.run_worker_async(queues=[QUEUE], concurrency=concurrency, wait=not until_idle)
