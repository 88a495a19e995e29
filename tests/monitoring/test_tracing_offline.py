"""LangSmith tracing on, its endpoint unreachable: runs go on as if it were off.

The client used to be flushed for up to ten seconds at the end of every run,
on the event loop and with the thread still locked: every other run of the
process stopped for ten seconds, and the thread stayed locked. Now the wait
is bounded (``FLUSH_TIMEOUT_S``), after the lock is released, for the
client the run traced with only, in a thread of its own (one per client,
shared by the runs that end meanwhile) rather than in the event loop's
default pool, which the checkpoints and the audit log need; and an endpoint
that does not take the traces is warned about once.

Two threads are started and resumed concurrently on one event loop, with the
real ``langsmith`` client pointed at a loopback port that either accepts
connections and never answers, or refuses them. A ticker on the same loop
measures the longest stall, a poller sees when each thread's lock is given
back, and ``on_event`` says when each run's last step ended. The model is
scripted; the graph, the retail MCP server, the checkpoints and the locks
are real.

The client's threads are daemon threads here (``LANGSMITH_USE_DAEMON``): a
client left trying to reach a silent port must not keep pytest from exiting.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from langchain_core.runnables import RunnableLambda
from langsmith import utils as ls_utils

from switchboard.checkpoints import held_threads
from switchboard.monitoring.tracer import WAITER_NAME, delivered_traces, langsmith_tracing, redacting_client
from switchboard.runs import resume_run, start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route
from tests.monitoring.collector import collector
from tests.monitoring.conftest import return_script

pytestmark = pytest.mark.usefixtures("principals")

API_KEY = "lsv2_pt_test"
TICK = 0.02
"""The ticker's period, seconds."""
RESPONSIVE = 1.0
"""Seconds: the longest the event loop may stall, and the lock may outlive the run's last step.

Measured at 0.3-0.4 s for the loop and under 0.1 s for the lock; the old
flush made each of them ten seconds.
"""


@contextmanager
def silent_port() -> Iterator[str]:
    """An endpoint that accepts connections (the kernel completes them) and never answers."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()  # the connections still queued are reset: the client gives up


@contextmanager
def refusing_port() -> Iterator[str]:
    """An endpoint that refuses every connection: bound (no one else takes the port), not listening."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def _forget_langsmith_env() -> None:
    """Clear LangSmith's cache of the environment (``get_env_var`` is an ``lru_cache``)."""
    cast(Any, ls_utils.get_env_var).cache_clear()


def _tracing_threads() -> set[threading.Thread]:
    """The ``langsmith`` client's sending threads (named after their function, ``tracing_*_thread_func``)."""
    return {t for t in threading.enumerate() if "tracing" in t.name}


@contextmanager
def traced_to(endpoint: str) -> Iterator[None]:
    """LangSmith tracing on, to ``endpoint``; the client is stopped afterwards, and none of its threads hang pytest.

    LangSmith caches the environment it reads: the cache is cleared once the
    variables are set, and again once they are restored.
    """
    before = _tracing_threads()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LANGSMITH_TRACING", "true")
        env.delenv("LANGCHAIN_TRACING_V2", raising=False)  # it would win over LANGSMITH_TRACING
        env.setenv("LANGSMITH_ENDPOINT", endpoint)
        env.setenv("LANGSMITH_API_KEY", API_KEY)
        env.setenv("LANGSMITH_PROJECT", "switchboard-tests")
        env.setenv("LANGSMITH_USE_DAEMON", "true")
        _forget_langsmith_env()
        try:
            yield
        finally:
            redacting_client(endpoint, API_KEY).cleanup(
                timeout=0
            )  # its threads stop (daemons: what they still try to send holds no one)
    _forget_langsmith_env()
    assert [t.name for t in _tracing_threads() - before if not t.daemon] == []


@pytest.fixture(params=["silent", "refusing"])
def unreachable(request: pytest.FixtureRequest) -> Iterator[str]:
    """The endpoint, unreachable one way or the other, with tracing to it on."""
    port = silent_port() if request.param == "silent" else refusing_port()
    with port as endpoint, traced_to(endpoint):
        yield endpoint


async def _longest_stall(stop: asyncio.Event) -> float:
    """Tick on the event loop until ``stop``; the longest a tick came late, seconds."""
    longest, last = 0.0, time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(TICK)
        now = time.monotonic()
        longest, last = max(longest, now - last - TICK), now
    return longest


async def _last_held(target: str | Path, thread_ids: list[str], stop: asyncio.Event) -> dict[str, float]:
    """Poll the thread locks until ``stop``; when each thread was last seen locked."""
    seen: dict[str, float] = {}
    while not stop.is_set():
        held = await held_threads(target, thread_ids)
        now = time.monotonic()
        seen.update(dict.fromkeys(held, now))
        await asyncio.sleep(0.05)
    return seen


async def test_an_unreachable_langsmith_stalls_neither_the_loop_nor_the_lock(
    unreachable: str, settings: Settings, retail_db: Path, mia: Any, caplog: pytest.LogCaptureFixture
) -> None:
    threads = ["offline-1", "offline-2"]
    last_step: dict[str, float] = {}

    async def return_and_approve(thread_id: str) -> tuple[str, str]:
        model = ScriptedChatModel(steps=return_script(retail_db, mia))

        def stepped(namespace: tuple[str, ...], update: Any) -> None:
            last_step[thread_id] = time.monotonic()

        paused = await start_run(
            "return everything", thread_id=thread_id, settings=settings, model=model, on_event=stepped
        )
        done = await resume_run(
            thread_id, approved=True, approver="alice", settings=settings, model=model, on_event=stepped
        )
        model.assert_complete()
        return paused.status, done.status

    stop = asyncio.Event()
    ticker = asyncio.create_task(_longest_stall(stop))
    poller = asyncio.create_task(_last_held(settings.checkpoint_target, threads, stop))
    with caplog.at_level(logging.DEBUG, logger="switchboard.monitoring.tracer"):
        try:
            results = await asyncio.gather(*(return_and_approve(t) for t in threads))
        finally:
            stop.set()
            stall, last_held = await ticker, await poller

    assert results == [("paused", "completed")] * 2
    assert stall < RESPONSIVE, f"the event loop stalled {stall:.1f} s"
    for thread_id in threads:
        kept = last_held[thread_id] - last_step[thread_id]
        assert kept < RESPONSIVE, f"{thread_id} stayed locked {kept:.1f} s after its last step"
    # Four runs ended with traces unsent: one warning for the endpoint, the rest at debug level.
    late = [r for r in caplog.records if r.name == "switchboard.monitoring.tracer" and unreachable in r.getMessage()]
    assert [r.levelno for r in late].count(logging.WARNING) == 1, [r.getMessage() for r in late]
    assert len(late) == 4


async def test_a_run_hands_its_traces_over_before_it_returns(settings: Settings, retail_db: Path) -> None:
    """What a CLI needs before it exits: the trace is at a live endpoint when ``start_run`` returns."""
    model = ScriptedChatModel(
        steps=[
            route("customer_service", "look her up", skill="identify_customer"),
            call("find_user_id_by_email", email="mia.chen@example.com"),
            handoff("found"),
            finish("found"),
        ]
    )
    with collector() as posted, traced_to(posted.url):
        result = await start_run("Who am I? mia.chen@example.com", thread_id="online-1", settings=settings, model=model)
        roots = [r for r in posted.runs().values() if not r.get("parent_run_id")]
    assert result.status == "completed"
    assert len(roots) == 1 and roots[0].get("end_time"), roots  # posted, and patched with its end


POOL_WAIT = 0.5
"""Seconds: the longest a call may wait for a thread of the event loop's default pool.

The checkpoints and the audit log do their I/O there (``asyncio.to_thread``);
measured at 0.01-0.05 s while runs wait for an unreachable LangSmith.
When those waits took threads of that pool, it waited the whole flush
timeout (two seconds) for one.
"""


def _who_am_i() -> list[Any]:
    return [
        route("customer_service", "look her up", skill="identify_customer"),
        call("find_user_id_by_email", email="mia.chen@example.com"),
        handoff("found"),
        finish("found"),
    ]


def _echo(text: str) -> str:
    return text


def _flush_waiters() -> int:
    """The threads waiting for a LangSmith client to send (the tracer's, not the client's own)."""
    return sum(1 for t in threading.enumerate() if t.name == WAITER_NAME)


async def test_waits_for_an_unreachable_langsmith_leave_the_default_thread_pool_free(
    unreachable: str, settings: Settings, retail_db: Path
) -> None:
    """Runs end one after another while LangSmith is unreachable; other runs' checkpoint I/O is not held up.

    The event loop's default pool is made two threads wide, as a busy
    process's is in effect: two flush waits in it would leave none for the
    checkpoints. A probe measures how long a trivial ``asyncio.to_thread``
    waits for a thread, and counts the threads waiting for LangSmith: one
    client, so never more than one, however many runs end while it waits.
    """
    threads = [f"pool-{i}" for i in range(4)]
    loop = asyncio.get_running_loop()
    small = ThreadPoolExecutor(max_workers=2, thread_name_prefix="default-pool")
    loop.set_default_executor(small)
    stop = asyncio.Event()

    async def probe() -> tuple[float, int]:
        longest, waiters = 0.0, 0
        while not stop.is_set():
            asked = time.monotonic()
            began = await asyncio.to_thread(time.monotonic)
            longest, waiters = max(longest, began - asked), max(waiters, _flush_waiters())
            await asyncio.sleep(TICK)
        return longest, waiters

    async def run(thread_id: str, delay: float) -> str:
        await asyncio.sleep(delay)  # the runs end at different times, each while earlier ones' waits are on
        model = ScriptedChatModel(steps=_who_am_i())
        result = await start_run("Who am I? mia.chen@example.com", thread_id=thread_id, settings=settings, model=model)
        model.assert_complete()
        return result.status

    prober = asyncio.create_task(probe())
    try:
        statuses = await asyncio.gather(*(run(t, 0.3 * i) for i, t in enumerate(threads)))
    finally:
        stop.set()
        longest, waiters = await prober
        loop.set_default_executor(ThreadPoolExecutor())  # the loop shuts it down when it closes
        small.shutdown(wait=True)
    assert statuses == ["completed"] * len(threads)
    assert longest < POOL_WAIT, f"a call waited {longest:.2f} s for a thread of the default pool"
    assert waiters <= 1, f"{waiters} threads waited for one LangSmith client at once"


async def test_a_run_waits_only_for_the_langsmith_client_it_traced_with() -> None:
    """An unreachable endpoint another run traced to does not hold up a run whose own endpoint is live."""
    with silent_port() as silent, traced_to(silent):
        with langsmith_tracing() as stuck:
            assert stuck is not None
            RunnableLambda(_echo, name="never taken").invoke("hello")  # queued in its client, never sent
        with collector() as posted, traced_to(posted.url):
            began = time.monotonic()
            async with delivered_traces():
                with langsmith_tracing() as tracer:
                    assert tracer is not None and tracer.client is not stuck.client
                    RunnableLambda(_echo, name="taken").invoke("hello")
            took = time.monotonic() - began
            names = [r.get("name") for r in posted.runs().values()]
    assert names == ["taken"]  # handed over before delivered_traces returned
    assert took < RESPONSIVE, f"the run waited {took:.1f} s, for a client it did not use"
