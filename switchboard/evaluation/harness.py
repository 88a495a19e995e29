"""Run τ-bench tasks through the supervisor and score them.

For each task the reference actions are replayed once on a fresh copy of the
database to get the expected state. Each trial then gets its own copy, its
own data directory (checkpoints, health) and its own simulated customer,
whose opening message is the task the run starts with. The harness stands in
for the humans a run may wait on:

* approvals and the supervisor's escalations are answered as
  :class:`PausePolicy` says (approved by default, as in the published
  baseline);
* a question an agent asks the *customer* (``ask_customer``) goes to the
  user simulator through a :class:`QuestionChannel`, by default
  :data:`CUSTOMER_QUESTIONS`, and its answer back to the agent that asked.
  With no channel (``questions=None``) such a pause ends the trial and is
  recorded as unanswered.

Everything the customer was told (questions, notifications, the final
report) is kept, and τ-bench's reward is computed against the expected state.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from langchain_core.language_models import BaseChatModel

from switchboard.domains.retail import RetailStore
from switchboard.domains.retail.demo import DB_VARIABLE
from switchboard.errors import ConfigError, DataError
from switchboard.evaluation.results import EvalReport, Trial, Utterance
from switchboard.evaluation.reward import reward
from switchboard.evaluation.state import (
    ReplayStep,
    State,
    diff_states,
    fresh_copy,
    load_pristine,
    read_state,
    replay,
)
from switchboard.evaluation.tasks import TauTask
from switchboard.evaluation.users import InstructionUser, UserFactory, UserSimulator
from switchboard.policies.principals import generate_key, upsert_principal
from switchboard.replies import reply_run
from switchboard.runs import RunResult, resume_run, start_run
from switchboard.settings import Settings

Verdict = Literal["approve", "reject"]


@dataclass(frozen=True)
class PausePolicy:
    """How the harness answers the pauses meant for a human operator."""

    approvals: Verdict = "approve"
    """Answer to a policy approval (a refund above the limit)."""
    escalations: Verdict = "approve"
    """Answer to the supervisor's own escalation ("how should we proceed?")."""
    max_pauses: int = 8
    """Pauses answered in one trial before it is stopped as stuck."""
    approver: str = "tau-eval"
    """The principal the harness approves as: made (role ``approver_role``, key
    in the run's data directory) on first use, since approvals are signed."""
    approver_role: str = "finance_manager"


class QuestionChannel(Protocol):
    """Carries a question for the customer to the user simulator and back.

    ``is_question`` recognises the pause, ``answer`` resumes the thread with
    the customer's reply. :data:`CUSTOMER_QUESTIONS` is the one for the
    graph's own customer questions (``switchboard reply`` in Python).
    """

    def is_question(self, pending: Mapping[str, Any]) -> bool:
        """Whether a paused run's ``pending`` payload is a question for the customer."""
        ...

    async def answer(self, thread_id: str, text: str, *, settings: Settings, model: BaseChatModel | None) -> RunResult:
        """Resume ``thread_id`` with the customer's ``text`` and run it on."""
        ...


Reply = Callable[..., Awaitable[RunResult]]
"""``reply(thread_id, text, *, settings, model) -> RunResult``: resume a thread with the customer's answer."""


@dataclass(frozen=True)
class QuestionsByKind:
    """A :class:`QuestionChannel` for pauses whose payload has ``kind == kind``.

    The graph asks the customer with a ``"question"`` pause, which
    :func:`~switchboard.replies.reply_run` answers, so
    ``QuestionsByKind("question", reply=reply_run)`` is the whole channel
    (:data:`CUSTOMER_QUESTIONS`).
    """

    kind: str
    """The ``kind`` of the pending payload that marks a question for the customer."""
    reply: Reply
    """Resumes the thread with the customer's answer."""

    def is_question(self, pending: Mapping[str, Any]) -> bool:
        """Whether the pause is of this channel's kind."""
        return pending.get("kind") == self.kind

    async def answer(self, thread_id: str, text: str, *, settings: Settings, model: BaseChatModel | None) -> RunResult:
        """Resume ``thread_id`` with ``text`` through :attr:`reply`."""
        return await self.reply(thread_id, text, settings=settings, model=model)


CUSTOMER_QUESTIONS = QuestionsByKind("question", reply=reply_run)
"""The agents' questions to the customer (``ask_customer``), answered by the user simulator."""


@dataclass(frozen=True)
class EvalConfig:
    """Everything an evaluation needs besides the tasks."""

    data_dir: Path
    """A τ-bench-schema directory (users, orders, products JSON); each trial starts from it."""
    settings: Settings
    """Team, model and hop budget of the runs; ``home`` is set per trial."""
    trials: int = 1
    """n: runs of each task, for pass^k with k ≤ n."""
    model: BaseChatModel | None = None
    """A ready chat model (tests pass a scripted one); else ``settings.model`` is resolved."""
    users: UserFactory = InstructionUser
    """Makes the customer of each trial."""
    user_label: str = "instruction"
    """How the customer is described in the report."""
    pauses: PausePolicy = field(default_factory=PausePolicy)
    """How approvals and escalations are answered."""
    questions: QuestionChannel | None = CUSTOMER_QUESTIONS
    """How questions for the customer reach the user simulator; ``None``: single-shot, a question ends the trial."""
    workdir: Path | None = None
    """Where databases and checkpoints go (kept); a temporary directory when omitted."""


TrialSink = Callable[[Trial], None]


async def run_eval(tasks: Sequence[TauTask], config: EvalConfig, on_trial: TrialSink | None = None) -> EvalReport:
    """Run every task ``config.trials`` times and score each trial by τ-bench's reward."""
    if config.trials < 1:
        raise ConfigError(f"--trials must be at least 1, not {config.trials}")
    _check_ids(tasks)
    with _workdir(config.workdir) as root:
        pristine = load_pristine(config.data_dir, root)
        trials: list[Trial] = []
        replays: dict[str, tuple[ReplayStep, ...]] = {}
        for position, task in enumerate(tasks):
            task_id = task.id or str(position)
            task_dir = root / f"task-{_slug(task_id)}"
            shutil.rmtree(task_dir, ignore_errors=True)  # a kept work directory is reused from scratch
            expected_db = fresh_copy(pristine, task_dir / "expected.sqlite")
            replays[task_id] = tuple(replay(expected_db, task.actions))
            expected = read_state(expected_db)
            for number in range(config.trials):
                trial_dir = task_dir / f"trial-{number}"
                db = fresh_copy(pristine, trial_dir / "retail.sqlite")
                trial = await run_trial(task, task_id, number, expected, db, config)
                trials.append(trial)
                if on_trial is not None:
                    on_trial(trial)
    return EvalReport(
        trials=tuple(trials),
        trials_per_task=config.trials,
        team=config.settings.team,
        model=config.settings.model,
        user=config.user_label,
        question_channel=config.questions is not None,
        replays=replays,
    )


async def run_trial(task: TauTask, task_id: str, number: int, expected: State, db: Path, config: EvalConfig) -> Trial:
    """Run one trial on ``db`` (a fresh copy) and score it against ``expected``."""
    # Checkpoints and health live beside the trial's database, whatever the
    # environment names: a trial must not see another one's threads or load.
    settings = config.settings.model_copy(update={"home": db.parent, "checkpoint_db": None, "health_db": None})
    thread_id = f"tau-{_slug(task_id)}-{number}"
    conversation = _Conversation(config.users(task))
    status, unanswered, error = "error", None, None
    with _retail_db(db):
        try:
            result = await conversation.drive(thread_id, settings, config)
            status, unanswered = result.status, conversation.unanswered
            error = result.error
        except AssertionError:
            raise  # a scripted test double ran out: the test must fail, not score 0
        except Exception as exc:  # one trial's crash must not lose the others; it is reported, not hidden
            error = f"{type(exc).__name__}: {exc}"
    told = [*conversation.asked, *_notifications(db), *conversation.reports]
    score = reward(diff_states(expected, read_state(db)), task.outputs, told)
    return Trial(
        task_id, number, thread_id, status, score, tuple(told), tuple(conversation.transcript), unanswered, error
    )


class _Conversation:
    """One trial's exchange between the run, the customer and the stand-in humans."""

    def __init__(self, user: UserSimulator) -> None:
        self.user = user
        self.transcript: list[Utterance] = []
        self.asked: list[str] = []
        self.reports: list[str] = []
        self.unanswered: str | None = None

    async def drive(self, thread_id: str, settings: Settings, config: EvalConfig) -> RunResult:
        opening = await self.user.opening()
        self.transcript.append(Utterance("user", opening))
        result = await start_run(opening, thread_id=thread_id, settings=settings, model=config.model)
        answered = 0
        while result.status == "paused" and answered < config.pauses.max_pauses:
            pending = result.pending or {}
            if config.questions is not None and config.questions.is_question(pending):
                question = str(pending.get("question") or "")
                self.asked.append(question)
                self.transcript.append(Utterance("agent", question))
                reply = await self.user.reply(question)
                self.transcript.append(Utterance("user", reply))
                result = await config.questions.answer(thread_id, reply, settings=settings, model=config.model)
            elif pending.get("kind") in ("approval", "escalation"):
                result = await self._answer_operator(thread_id, pending, settings, config)
            else:
                self.unanswered = str(pending.get("question") or pending)
                self.transcript.append(Utterance("harness", f"no question channel for: {self.unanswered}"))
                break
            answered += 1
        if result.summary:
            self.reports.append(result.summary)
            self.transcript.append(Utterance("agent", result.summary))
        return result

    async def _answer_operator(
        self, thread_id: str, pending: Mapping[str, Any], settings: Settings, config: EvalConfig
    ) -> RunResult:
        policy = config.pauses
        verdict = policy.approvals if pending.get("kind") == "approval" else policy.escalations
        self.transcript.append(Utterance("harness", f"{verdict}: {pending.get('question')}"))
        key = settings.data_dir / "keys" / f"{policy.approver}.pem"
        if verdict == "approve" and not key.exists():
            public = generate_key(key)
            upsert_principal(settings.data_dir / "principals.yaml", policy.approver, [policy.approver_role], public)
        return await resume_run(
            thread_id,
            approved=verdict == "approve",
            note="answered by the τ-bench harness in a human's place",
            approver=policy.approver,
            settings=settings,
            model=config.model,
        )


def _notifications(db: Path) -> list[str]:
    """Messages the agents sent the customer through ``notify_customer``."""
    with RetailStore.open(db) as store:
        return [str(n["message"]) for n in store.notifications()]


@contextmanager
def _retail_db(db: Path) -> Iterator[None]:
    """Point the retail team's setup hook at ``db`` for the duration of a trial.

    The hook reads the database from the environment (it is a domain setting,
    not a run setting), so trials run one after the other.
    """
    before = os.environ.get(DB_VARIABLE)
    os.environ[DB_VARIABLE] = str(db)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(DB_VARIABLE, None)
        else:
            os.environ[DB_VARIABLE] = before


@contextmanager
def _workdir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="switchboard-tau-") as tmp:
        yield Path(tmp)


def _check_ids(tasks: Sequence[TauTask]) -> None:
    """Task ids name folders, threads and report rows, so they must differ."""
    seen: dict[str, str] = {}
    for position, task in enumerate(tasks):
        task_id = task.id or str(position)
        slug = _slug(task_id)
        if slug in seen:
            raise DataError(f"tasks {seen[slug]!r} and {task_id!r} share an id; give every task its own id")
        seen[slug] = task_id


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)
