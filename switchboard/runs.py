"""Running, resuming and reading threads: the service behind the CLI.

Everything a user does to a thread goes through here, from the command line,
a notebook or their own code, so that all three see the same behaviour: the
same checks on input, the same statuses, and the same trail.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from switchboard.agents.card import Team, load_team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.interrupts import CONTINUE_KEY, answer_on_record
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import hold_thread, is_postgres, open_checkpointer
from switchboard.checkpoints.audit import AuditLog, open_audit
from switchboard.errors import ApprovalError, ConfigError, ThreadError
from switchboard.graph import trail as query
from switchboard.graph.builder import build_graph
from switchboard.graph.intake import validate_task
from switchboard.graph_cache import Recipe, shared_graph
from switchboard.models import resolve_model
from switchboard.monitoring import Monitor, TelemetryHandler, current_monitor, langsmith_tracing, root_config
from switchboard.monitoring.tracer import delivered_traces
from switchboard.policies import Registry, load_principals
from switchboard.policies.answers import sign_answer
from switchboard.run_telemetry import run_telemetry
from switchboard.settings import HOME_VARIABLE, Settings

Status = Literal["completed", "paused", "failed"]
EventSink = Callable[[tuple[str, ...], dict[str, Any]], None]

MODEL_METADATA_KEY = "switchboard_model"
"""Checkpoint (and trace) metadata: the model spec a run used, so a resume that names none continues with it."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """Where a thread stands after a run or a resume."""

    thread_id: str
    status: Status
    """completed, paused for a human, or failed (see :attr:`exit_code`)."""
    summary: str = ""
    outcome: str | None = None
    """For completed runs: resolved (every step done), handed_over (a step
    did not finish and was left to a human), or rejected by a human."""
    agents: list[str] = field(default_factory=list)
    """Agents involved, in order of first involvement."""
    pending: dict[str, Any] | None = None
    """For paused runs: the question and what it is about."""
    error: str | None = None
    answered: dict[str, Any] | None = None
    """For a resume that answered a question: which one (``interrupt_id``,
    ``question``), ``approved`` or not, and by whom (``approver``). Without a
    pinned ``interrupt_id`` the answer goes to the question pending when the
    resume starts, so this is how the approver learns what they signed."""

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 0 completed, 4 ended with work left to a human, 3 paused, 1 failed."""
        if self.status == "completed":
            return 4 if self.outcome in ("handed_over", "escalated") else 0
        return 3 if self.status == "paused" else 1

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` object."""
        return {k: v for k, v in asdict(self).items() if v is not None or k in {"thread_id", "status"}}


@asynccontextmanager
async def thread_lock(settings: Settings, thread_id: str) -> AsyncIterator[None]:
    """Hold a thread exclusively: two processes must never drive it at once.

    Two resumes of the same paused thread would both run its next steps, and
    every write in them twice. The lock lives in the checkpoint store (see
    ``switchboard.checkpoints.locks``), so it covers every process, on any
    machine, that can reach the thread.

    Raises:
        ThreadError: Another process is running or resuming the thread.
    """
    async with hold_thread(settings.checkpoint_target, thread_id, ttl=settings.lock_ttl):
        yield


def new_thread_id() -> str:
    """A fresh, readable thread id."""
    return f"run-{uuid.uuid4().hex[:10]}"


def prepare_team(team: Team) -> dict[str, str]:
    """Run the team's ``setup`` hook and return the environment it provides."""
    if not team.setup:
        return {}
    module_name, _, attr = team.setup.partition(":")
    try:
        hook = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"team setup {team.setup!r} cannot be imported: {exc}") from exc
    env = hook(dict(os.environ))
    return {str(k): str(v) for k, v in (env or {}).items()}


@asynccontextmanager
async def open_graph(
    settings: Settings | None = None,
    *,
    model: BaseChatModel | None = None,
    connect: bool = True,
    clock: Callable[[], float] | None = None,
) -> AsyncIterator[CompiledStateGraph[Any, Any, Any, Any]]:
    """Open everything a run needs, with the graph, for the length of a block.

    The graph is compiled once per process for the same team, model, policy,
    principals and settings, and runs in the block at the same time share
    its MCP servers, checkpointer and store; the last to leave closes them
    (see :mod:`switchboard.graph_cache`).

    Args:
        settings: Explicit settings; read from the environment when omitted.
        model: A ready chat model (tests pass a scripted one); otherwise
            ``settings.model`` is resolved.
        connect: Start the MCP servers. Reading a thread does not need them.
        clock: The graph's clock (Unix seconds), kept by the audit log; tests
            inject one to expire escalation timeouts without sleeping.
    """
    settings = settings or Settings()
    team = load_team(settings.team)
    env = prepare_team(team) if connect else {}
    recipe = Recipe(settings, team, env, model, principals_for(settings, team), connect, clock)

    def build(toolbox: Toolbox, health: HealthRegistry, audit: AuditLog) -> CompiledStateGraph[Any, Any, Any, Any]:
        return build_graph(
            team=team,
            model=model or resolve_model(settings.model, team),
            toolbox=toolbox,
            health=health,
            max_hops=settings.max_hops,
            principals=recipe.principals,
            audit=audit,
        )

    # Compiled once per recipe in this process, and shared with the runs
    # going on at the same time, checkpointer included (see switchboard.graph_cache).
    async with shared_graph(recipe, build, health_path(settings)) as graph:
        yield graph


def principals_for(settings: Settings, team: Team) -> Registry:
    """The principals in force for ``team``, with ``${SWITCHBOARD_HOME}`` the settings' data directory."""
    return load_principals(team.load_policy(), {**os.environ, HOME_VARIABLE: str(settings.data_dir)})


def health_path(settings: Settings) -> Path:
    """Where live load and health are shared, next to the checkpoints."""
    if settings.health_db:
        return Path(settings.health_db)
    if settings.checkpoint_db and not is_postgres(settings.checkpoint_db):
        return Path(settings.checkpoint_db).with_name("health.sqlite")
    return settings.data_dir / "health.sqlite"


async def start_run(
    task: str,
    *,
    thread_id: str | None = None,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    on_event: EventSink | None = None,
) -> RunResult:
    """Run a task on a new thread until it completes or pauses.

    Raises:
        TaskError: The task is malformed (checked here before any server
            starts, and again by the graph itself).
    """
    text = validate_task(task)
    thread_id = thread_id or new_thread_id()
    settings = settings or Settings()
    # Traces are handed to LangSmith after the lock is released (delivered_traces is left last).
    async with delivered_traces(), thread_lock(settings, thread_id), open_graph(settings, model=model) as graph:
        config = thread_config(thread_id)
        if await _exists(graph, config):
            raise ThreadError(f"thread {thread_id!r} already exists; pick a new id or `switchboard show` it")
        return await drive(graph, {"task": text}, thread_id, on_event, model=_spec(settings, model))


async def resume_run(
    thread_id: str,
    *,
    approved: bool | None = None,
    note: str = "",
    approver: str | None = None,
    role: str | None = None,
    answer: Mapping[str, Any] | None = None,
    interrupt_id: str | None = None,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    on_event: EventSink | None = None,
) -> RunResult:
    """Move an unfinished thread on: answer its question if it is paused, else continue it.

    Every checkpointed thread that has not finished can be continued: one
    whose process ended mid-run (even just after its first checkpoint) goes
    on from its last checkpoint, needing no answer; steps that finished are
    not run again, and a step that was in flight re-sends its calls with the
    same idempotency keys, so the business systems do not act twice.

    With ``approver``, the answer is signed with that principal's private key
    (``$SWITCHBOARD_HOME/keys/NAME.pem``), bound to the exact question and
    call. The graph itself checks the answer (see
    :mod:`switchboard.agents.interrupts`); an answer it refuses leaves the
    thread paused and is raised here.

    Args:
        thread_id: The thread: paused, or stopped mid-run.
        approved: Approve (sign) or reject the pending question; ``None``
            (no answer) continues a thread that is not waiting for one.
        note: For the trail and the agents.
        approver: The principal answering (``--as``); needed to approve.
        role: Which of the approver's roles to act in (``--role``).
        answer: An answer signed elsewhere (``sign_answer`` where the key
            lives, e.g. by whoever queued it for a worker); sent as it is,
            and checked by the graph like any other.
        interrupt_id: The question the answer is for (``--interrupt``; its
            ``interrupt_id``, as ``switchboard escalations`` lists it). A
            thread goes on between the moment an approver reads a question
            and the moment they answer (another approver answers it, the
            agent asks the next one): pinned, an answer is given to that
            question or to none, and nothing is signed for another.
            Unpinned, it goes to the question pending now, and
            :attr:`RunResult.answered` says which that was.
        settings: Explicit settings; read from the environment when omitted.
        model: A ready chat model (tests pass a scripted one).
        on_event: Receives the run's progress.

    Raises:
        ThreadError: The thread does not exist or has finished, or it waits
            for an answer and none was given (or one was given to a thread
            that asks nothing).
        QuestionChanged: ``interrupt_id`` is not pending on the thread (any
            more); nothing was signed or sent.
        ApprovalError: The answer was refused (unknown principal, a role the
            rule does not allow, no key...); the thread is still paused.
    """
    settings = settings or Settings()
    signed = dict(answer) if answer else None
    answerer = _Answerer(settings, approved, note, approver, role, signed, interrupt_id)
    async with delivered_traces(), thread_lock(settings, thread_id):  # traces go after the lock, as in start_run
        settings = await thread_settings(settings, thread_id, model)
        async with open_graph(settings, model=model) as graph:
            return await _resume(graph, thread_id, answerer, on_event, _spec(settings, model))


async def thread_settings(settings: Settings, thread_id: str, model: BaseChatModel | None) -> Settings:
    """The settings to continue a thread with: its own model, unless the caller names one.

    A thread started with ``--model openai:…`` and resumed without it would
    otherwise go on with whatever model this process defaults to (the
    embedded engine), which would then decide, and make, the thread's next
    writes. A model the caller names (``--model``, ``SWITCHBOARD_MODEL``, a
    model object) wins, and a switch from the thread's own is logged.
    """
    if model is not None:
        return settings
    recorded = await recorded_model(settings, thread_id)
    if recorded is None or recorded == settings.model:
        return settings
    if "model" in settings.model_fields_set:
        _log.warning(
            "thread %s started with the model %r; continuing with %r as asked", thread_id, recorded, settings.model
        )
        return settings
    return settings.model_copy(update={"model": recorded})


async def recorded_model(settings: Settings, thread_id: str) -> str | None:
    """The model spec the thread's last run used, as its latest checkpoint records it (``None``: not recorded)."""
    async with open_checkpointer(settings.checkpoint_target, key=settings.checkpoint_key()) as saver:
        found = await saver.aget_tuple(thread_config(thread_id))
    value = (found.metadata or {}).get(MODEL_METADATA_KEY) if found is not None else None
    return value if isinstance(value, str) else None


def _spec(settings: Settings, model: BaseChatModel | None) -> str | None:
    """The model spec to record for a run: none for a model object, which no later process can rebuild."""
    return None if model is not None else settings.model


@dataclass(frozen=True)
class _Answerer:
    """Turns ``--approve --as NAME [--role R]`` into the resume value for a pending question."""

    settings: Settings
    approved: bool | None
    note: str
    approver: str | None
    role: str | None
    signed: dict[str, Any] | None = None
    """An answer already signed by its principal, sent unchanged."""
    pinned: str | None = None
    """The question the answer is for (``--interrupt``), or ``None``: the one pending now."""

    @property
    def verb(self) -> str:
        """What the answer does, for messages: approved or rejected."""
        approved = self.signed.get("approved") if self.signed is not None else self.approved
        return "approved" if approved else "rejected"

    def value(self, thread_id: str, pending: dict[str, Any]) -> dict[str, Any]:
        if self.signed is not None:
            return self.signed
        if not self.approved or self.approver is None:
            # A rejection moves nothing and needs no signature; an unsigned approval is refused by the graph.
            return {"approved": bool(self.approved), "note": self.note, "approver": self.approver}
        registry = principals_for(self.settings, load_team(self.settings.team))
        return sign_answer(
            registry, self.settings.data_dir / "keys", self.approver, pending, thread_id=thread_id,
            role=self.role, approved=self.approved, note=self.note, now=time.time(),
        )  # fmt: skip


async def _resume(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    thread_id: str,
    answer: _Answerer,
    on_event: EventSink | None,
    spec: str | None,
) -> RunResult:
    approved = answer.approved
    snapshot = await graph.aget_state(thread_config(thread_id))
    if not snapshot.values and not unfinished(snapshot):
        raise ThreadError(f"no thread {thread_id!r}; `switchboard run` starts one")
    if answer.pinned is not None:
        check_pinned(thread_id, answer, snapshot.interrupts)
    orphans = query.orphaned_steps(snapshot.values, set(graph.nodes))
    if orphans:
        # The agent a paused step belonged to is gone: LangGraph would drop
        # the step silently, so hand it back to the supervisor as failed.
        command = (
            Command(goto="finalize", update={"trail": orphans, "outcome": "rejected"})
            if approved is False
            else Command(goto="supervisor", update={"trail": orphans})
        )
        return await drive(graph, command, thread_id, on_event, model=spec)
    answered = await answered_question(graph, thread_id, answer.settings) if snapshot.interrupts else None
    if answered is not None:
        # Answered, then the process died before the answer's step ended: the step goes on with that answer.
        if approved is not None or answer.signed is not None:
            raise ThreadError(
                f"thread {thread_id!r} was already {answered[1]} before its process ended, and that answer "
                f"stands; `switchboard resume {thread_id}` continues it without a new one"
            )
        wake: Command[Any] = Command(resume={answered[0]: {CONTINUE_KEY: True}})
        return await drive(graph, wake, thread_id, on_event, model=spec)
    if not snapshot.interrupts and unfinished(snapshot):
        # The process running the thread died mid-run: continue from the last
        # checkpoint. Steps that finished are not run again.
        if approved is False:
            raise ThreadError(
                f"thread {thread_id!r} stopped mid-run (its process ended) and asks nothing to reject; "
                f"`switchboard resume {thread_id}` continues it from its last checkpoint"
            )
        return await drive(graph, None, thread_id, on_event, model=spec)
    if not snapshot.interrupts:
        raise ThreadError(f"thread {thread_id!r} has finished ({snapshot.values.get('outcome')}); nothing to resume")
    # one question at a time, even with parallel branches paused; a customer's question is `reply`'s
    pending = next((i for i in _asks(snapshot.interrupts) if answer.pinned in (None, question_id(i))), None)
    if pending is None:
        raise ThreadError(
            f"thread {thread_id!r} waits for the customer's reply to: {snapshot.interrupts[0].value.get('question')}; "
            f'answer with `switchboard reply {thread_id} "TEXT"` (resume answers approvals and escalations)'
        )
    if approved is None and answer.signed is None:
        asked = pending.value if isinstance(pending.value, dict) else {}
        raise ThreadError(
            f"thread {thread_id!r} is waiting for a human: {asked.get('question', '')} "
            f"Answer with `switchboard resume {thread_id} --approve --as NAME` or `--reject`; "
            f"add `--interrupt {question_id(pending)}` to answer this question and no other"
        )
    value = answer.value(thread_id, pending.value if isinstance(pending.value, dict) else {})
    result = await drive(graph, Command(resume={pending.id: value}), thread_id, on_event, model=spec)
    refusal = await _refusal(graph, thread_id, pending.value)
    if refusal:
        raise ApprovalError(f"{refusal}. The thread is still paused; resume it with --as NAME (a principal)")
    return replace(result, answered=_answered(pending, answer))


class QuestionChanged(ThreadError):
    """The question an answer was pinned to is not the one the thread waits on now; nothing was signed or sent."""


def question_id(item: Any) -> str:
    """A pending interrupt's question id: the ``interrupt_id`` a signed approval names, as the listings show it."""
    return str(_asked(item).get("interrupt_id") or item.id)


def _asked(item: Any) -> dict[str, Any]:
    """A pending interrupt's question (its value), or nothing for a value of another shape."""
    return item.value if isinstance(item.value, dict) else {}


def answer_command(thread_id: str, interrupt_id: str) -> str:
    """The command that answers one question and no other, as the listings print it for approvers to copy."""
    return f"switchboard resume {thread_id} --approve|--reject --interrupt {interrupt_id}"


def _asks(interrupts: Any) -> list[Any]:
    """The pending interrupts ``resume`` answers: approvals and escalations, not the customer's questions."""
    return [i for i in interrupts if _asked(i).get("kind") != "question"]


def check_pinned(thread_id: str, answer: _Answerer, interrupts: Any) -> None:
    """Refuse an answer pinned to a question the thread is not waiting on, before anything is signed.

    The approver read one question and means to answer that one; the
    thread may have gone on since (another approver answered it, the agent
    asked the next). Signing whatever is pending now would put their name
    under a call they never saw, so the message says what is pending now.

    Raises:
        QuestionChanged: The pinned question is not among the pending ones.
        ThreadError: An interrupt id was given with no answer to pin.
    """
    if answer.approved is None and answer.signed is None:
        raise ThreadError("an interrupt id pins the answer to a question: give --approve or --reject with it")
    asks = _asks(interrupts)
    if any(question_id(i) == answer.pinned for i in asks):
        return
    now = [(question_id(i), str(_asked(i).get("question", ""))) for i in asks]
    raise question_changed(thread_id, answer.pinned or "", answer.verb == "approved", now)


def question_changed(thread_id: str, pinned: str, approved: bool, now: list[tuple[str, str]]) -> QuestionChanged:
    """The refusal of an answer pinned to ``pinned`` while the thread waits on ``now`` (``(id, question)`` pairs).

    It names what is pending instead, so the approver can read that question
    and decide on it, rather than rerun the same command blind.
    """
    listed = "; ".join(f"{rid}: {question}" for rid, question in now)
    if not now:
        pending = f"no question for an approver is pending on {thread_id} now"
    elif len(now) == 1:
        pending = f"the question pending on {thread_id} is now {listed}"
    else:
        pending = f"the questions pending on {thread_id} are now {listed}"
    verb, done = ("approved", "nothing was signed") if approved else ("rejected", "nothing was sent")
    return QuestionChanged(
        f"{pending}; you {verb} {pinned}; {done}. Read it (`switchboard show {thread_id}`) and answer it with "
        f"`{answer_command(thread_id, 'ID')} --as NAME` if you mean to"
    )


def _answered(pending: Any, answer: _Answerer) -> dict[str, Any]:
    """Which question an answer went to, and how: what :attr:`RunResult.answered` reports."""
    approver = answer.signed.get("approver") if answer.signed is not None else answer.approver
    return {
        "interrupt_id": question_id(pending),
        "question": _asked(pending).get("question", ""),
        "approved": answer.verb == "approved",
        "approver": approver,
    }


async def _refusal(graph: CompiledStateGraph[Any, Any, Any, Any], thread_id: str, asked: Any) -> str | None:
    """Why the graph refused the answer just given, if it did: it asks the same question again with an error."""
    snapshot = await graph.aget_state(thread_config(thread_id))
    for item in snapshot.interrupts:
        value = item.value if isinstance(item.value, dict) else {}
        same = value.get("interrupt_id") == asked.get("interrupt_id")
        if same and value.get("error"):
            return str(value["error"])
    return None


async def read_thread(thread_id: str, *, settings: Settings | None = None) -> dict[str, Any]:
    """The whole state of a thread, for ``switchboard show``.

    Raises:
        ThreadError: The thread does not exist.
    """
    async with open_graph(settings, connect=False) as graph:
        snapshot = await graph.aget_state(thread_config(thread_id))
        if not snapshot.values:
            raise ThreadError(f"no thread {thread_id!r}; `switchboard run` starts one")
        result = result_of(thread_id, snapshot)
        answered = await answered_question(graph, thread_id, settings or Settings()) if snapshot.interrupts else None
        if answered is not None:
            error = (
                f"the question was {answered[1]} before its process ended; "
                f"`switchboard resume {thread_id}` continues it"
            )
            result = RunResult(thread_id, "failed", "", None, result.agents, error=error)
        thread = {**result.to_json(), "task": snapshot.values.get("task"), "trail": snapshot.values.get("trail", [])}
        if snapshot.interrupts:
            thread["in_progress"] = await _in_progress(graph, thread_id)
        return thread


async def answered_question(
    graph: CompiledStateGraph[Any, Any, Any, Any], thread_id: str, settings: Settings
) -> tuple[str, str] | None:
    """The question a thread still lists though it was answered, and how: ``(interrupt id, "approved by alice")``.

    An accepted answer (an approval's or an escalation's verdict) is on the
    audit record before anything runs under it, and the thread lists the
    question until its step ends. A process killed in between leaves a
    thread that looks paused on a question already answered: a second
    answer would be taken, then overruled by the first as the step goes on.
    The audit record is the only witness trusted here: a customer's reply
    or a timeout records no verdict, and a step's checkpoints alone cannot
    say which answer, if any, it was given.
    """
    snapshot = await graph.aget_state(thread_config(thread_id))
    if not snapshot.interrupts:
        return None
    own = getattr(getattr(graph, "governance", None), "audit", None)  # the log the graph itself writes
    if isinstance(own, AuditLog):
        entries = await asyncio.to_thread(own.trusted_entries, thread_id)
    else:
        audit = open_audit(settings.data_dir)
        try:
            entries = await asyncio.to_thread(audit.trusted_entries, thread_id)
        finally:
            audit.close()
    found = answer_on_record(snapshot.interrupts, entries)
    return (found[0].id, found[1]) if found is not None else None


async def _in_progress(graph: CompiledStateGraph[Any, Any, Any, Any], thread_id: str) -> list[dict[str, Any]]:
    """Tool calls of agent steps that are paused mid-way (not in the trail yet)."""
    snapshot = await graph.aget_state(thread_config(thread_id), subgraphs=True)
    steps = []
    for task in snapshot.tasks:
        state = task.state
        values = getattr(state, "values", None) or {}
        if task.name in graph.nodes and values.get("calls") is not None:
            steps.append({"agent": task.name, "tool_calls": list(values.get("calls") or [])})
    return steps


def thread_config(thread_id: str) -> RunnableConfig:
    """The run config of a thread: its id, a recursion limit, and the thread id in the metadata.

    The trace's root run is named and tagged per run in ``drive`` (see ``switchboard.monitoring.labels``).
    """
    return RunnableConfig(configurable={"thread_id": thread_id}, recursion_limit=200, metadata={"thread_id": thread_id})


async def drive(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    payload: Any,
    thread_id: str,
    on_event: EventSink | None,
    *,
    model: str | None = None,
) -> RunResult:
    """Stream ``payload`` (an input or a ``Command``) through a thread's graph, recorded, and report where it ended.

    The one place runs go through: telemetry is recorded, the LangSmith trace
    is labelled, and every step is checkpointed before the next starts.
    Callers hold the thread's lock; nothing here waits for LangSmith (a
    caller that wants the trace sent waits after releasing the lock, with
    ``delivered_traces``). ``model``, the spec the graph's model was
    resolved from, goes into every checkpoint's metadata (and the trace's),
    where :func:`thread_settings` finds it for the next resume.
    """
    config = thread_config(thread_id)
    # Local telemetry, always on (the process's monitor, or the CLI's own); LangSmith when it is on.
    async with run_telemetry() as callbacks:
        with langsmith_tracing():
            monitor = current_monitor() or next((c.monitor for c in callbacks if isinstance(c, TelemetryHandler)), None)
            # The root run is named after the task and linked to the run it continues (see monitoring.labels).
            resume = not isinstance(payload, dict)
            task = payload.get("task") if not resume else (await graph.aget_state(config)).values.get("task")
            previous = (
                await asyncio.to_thread(_continuing, monitor, thread_id) if monitor is not None and resume else None
            )
            root = root_config(thread_id, task, resume=resume, continues=previous)
            if model is not None:
                root["metadata"][MODEL_METADATA_KEY] = model
            labelled = cast(RunnableConfig, {**config, **root, "callbacks": callbacks})
            # durability="sync": each step's checkpoint is on disk before the next
            # step starts, so a killed process never re-runs a step that finished.
            # Agents' own steps are streamed only to a listener: relaying them costs every superstep.
            stream: Any = graph.astream(
                payload, labelled, stream_mode="updates", subgraphs=on_event is not None, durability="sync"
            )
            async for item in stream:
                if on_event is not None:
                    namespace, update = item
                    on_event(tuple(namespace), update)
    return result_of(thread_id, await graph.aget_state(config))


def _continuing(monitor: Monitor, thread_id: str) -> str | None:
    """Ready ``monitor`` for a resume of ``thread_id``: its budgets count what earlier runs spent; its last run.

    Telemetry never stops a run: a telemetry file that cannot be read (gone,
    corrupt) leaves the resume without the budget history and the link to
    the run it continues, with a warning.
    """
    try:
        monitor.prime(thread_id)
        return monitor.last_run(thread_id)
    except sqlite3.Error as exc:
        _log.warning("telemetry of thread %s cannot be read (%s); the resume goes on without it", thread_id, exc)
        return None


async def _exists(graph: CompiledStateGraph[Any, Any, Any, Any], config: RunnableConfig) -> bool:
    """Whether the thread has any checkpoint, even only its input's (a run killed as it started).

    One read of the saver, where ``aget_state`` would also work out the
    thread's next tasks.
    """
    saver = graph.checkpointer
    if isinstance(saver, BaseCheckpointSaver):
        return await saver.aget_tuple(config) is not None
    return bool((await graph.aget_state(config)).values)


def result_of(thread_id: str, snapshot: Any) -> RunResult:
    """Where a thread stands, from its latest state snapshot."""
    values = snapshot.values or {}
    agents = query.agents_involved(values.get("trail") or [])
    if snapshot.interrupts:
        pending = dict(snapshot.interrupts[0].value)
        waiting = [i.value.get("agent") for i in snapshot.interrupts if i.value.get("agent")]
        agents += [name for name in waiting if name not in agents]  # agents mid-step count too
        return RunResult(thread_id, "paused", values.get("summary", ""), None, agents, pending)
    if not unfinished(snapshot) and values.get("outcome"):
        return RunResult(thread_id, "completed", values.get("summary", ""), values.get("outcome"), agents)
    if not unfinished(snapshot):
        error = f"a step's agent is no longer in the team; `switchboard resume {thread_id}` reassigns it"
    else:
        stopped = ", ".join(snapshot.next) or "its next step"
        error = f"the run stopped before {stopped} (its process ended); `switchboard resume {thread_id}` continues it"
    return RunResult(thread_id, "failed", "", None, agents, error=error)


def unfinished(snapshot: Any) -> bool:
    """Whether a thread's latest checkpoint still has work to run.

    ``next`` alone is not enough: a process killed just after a step's
    writes were saved, before the checkpoint that follows them, leaves a
    checkpoint whose ``next`` is empty while its task's writes wait to be
    applied. Running the graph on with no input applies them and goes on.
    """
    return bool(snapshot.next) or bool(snapshot.tasks)
