"""The SIGKILL crash matrix: the demo return, killed at every kind of boundary, then resumed.

Each trial runs the demo return (the refund above the policy limit, approved
by alice, then pickup, restock, refund, reason and notification) in a
subprocess, a small driver over ``start_run`` / ``resume_run``, with
``SWITCHBOARD_CRASH_AT=BOUNDARY:N`` set (see
:mod:`switchboard.checkpoints.crashpoints`): the process kills itself with
SIGKILL the N-th time it reaches the boundary, just before or after a side
effect, or just before or after a checkpoint write. No sleeping: the window
is hit exactly, every time.

The thread is then recovered as an operator would, with the CLI:
``switchboard resume THREAD`` (no answer needed when it stopped mid-run),
``switchboard resume THREAD --approve --as alice`` when it waits for the
approval, and ``switchboard run`` again only when it was killed before its
first checkpoint (nothing was recorded, and nothing had happened).

Each trial must end with the thread completed and resolved, the retail
database equal to a crash-free run's (so no effect is lost or duplicated:
one refund, one pickup, one notification), and the same writes in the trail.

A crash-free run first counts the windows of each kind; N is spread over
them. ``make bench`` runs 20 trials per boundary on SQLite and 3 on
Postgres; the test suite runs one per boundary (``tests/durability``).
Run it alone with ``python -m benchmarks.crash_matrix``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.report import Report, main
from switchboard.checkpoints.crashpoints import BOUNDARIES, CRASH_LOG_VARIABLE, CRASH_VARIABLE, Boundary

TASK = (
    "Hi, this is Mia Chen (mia.chen@example.com). The espresso machine and the headphones from my last "
    "delivered order arrived damaged. I want to return both and get my money back on the card I paid with."
)
SQLITE_TRIALS = 20
POSTGRES_TRIALS = 3
_TIMEOUT = 300
_SB = [sys.executable, "-m", "switchboard.cli"]

DRIVER = textwrap.dedent(
    """
    import asyncio, sys
    from switchboard.runs import resume_run, start_run

    async def main(thread_id, task):
        result = await start_run(task, thread_id=thread_id)
        if result.status == "paused":
            result = await resume_run(thread_id, approved=True, approver="alice", note="damage confirmed")
        print(result.status, result.outcome)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)
"""The operator's happy path in one process, so one crash counter covers the run and the approval."""


@dataclass(frozen=True)
class Trial:
    """One crash and its recovery."""

    boundary: Boundary | None
    """Where the process was killed; ``None`` for the crash-free run."""
    n: int
    killed: bool
    """Whether the driver really died by SIGKILL (the window was reached)."""
    recovery: tuple[str, ...]
    """The CLI commands that brought the thread to its end, in order."""
    status: str
    outcome: str | None
    business: str
    """The retail database, less timestamps: compared with the crash-free run."""
    writes: tuple[str, ...]
    """The trail's successful writes, in order."""
    notifications: int


@contextmanager
def _template(postgres: str | None) -> Iterator[tuple[Path, dict[str, str]]]:
    """A data directory with the demo retail database and alice's key, copied for each trial."""
    root = Path(tempfile.mkdtemp(prefix="switchboard-crash-"))
    home = root / "template"
    env = {**os.environ, "SWITCHBOARD_HOME": str(home), "LANGSMITH_TRACING": "false"}
    for key in ("SWITCHBOARD_CHECKPOINT_DB", "SWITCHBOARD_HEALTH_DB", "SWITCHBOARD_RETAIL_DB", "SWITCHBOARD_MODEL"):
        env.pop(key, None)
    if postgres:
        env["SWITCHBOARD_CHECKPOINT_DB"] = postgres
    try:
        subprocess.run([*_SB, "retail", "demo-db"], env=env, check=True, capture_output=True, timeout=_TIMEOUT)
        keygen = [*_SB, "principals", "keygen", "alice", "--role", "finance_manager", "--if-missing"]
        subprocess.run(keygen, env=env, check=True, capture_output=True, timeout=_TIMEOUT)
        yield home, env
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _cli(args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([*_SB, *args, "--json"], env=env, capture_output=True, text=True, timeout=_TIMEOUT)
    try:
        return dict(json.loads(done.stdout))
    except ValueError:
        pass
    try:
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        return {"status": "failed", "error": f"exit {done.returncode}: {done.stderr[-500:]}"}


def trial(template: Path, env: dict[str, str], boundary: Boundary | None, n: int, name: str) -> Trial:
    """Run the return with a crash at ``boundary:n``, recover it with the CLI, and read what it left."""
    home = template.with_name(name)
    shutil.copytree(template, home)
    env = {**env, "SWITCHBOARD_HOME": str(home)}
    thread = f"crash-{name}"
    hook = {CRASH_VARIABLE: f"{boundary}:{n}"} if boundary else {CRASH_LOG_VARIABLE: str(home / "windows")}
    crashing = {**env, **hook}
    driver = subprocess.run(
        [sys.executable, "-c", DRIVER, thread, TASK], env=crashing, capture_output=True, text=True, timeout=_TIMEOUT
    )
    killed = driver.returncode == -9
    recovery: list[str] = []
    state = _cli(["show", thread], env)
    for _ in range(4):  # run/resume until the thread ends: a crash can leave at most these in turn
        if state.get("status") == "completed":
            break
        if "no thread" in str(state.get("error")):
            recovery.append("run")
            state = _cli(["run", TASK, "--thread", thread], env)
        elif state.get("status") == "paused":
            recovery.append("resume --approve --as alice")
            state = _cli(["resume", thread, "--approve", "--as", "alice"], env)
        else:
            recovery.append("resume")
            state = _cli(["resume", thread], env)
    return Trial(
        boundary, n, killed, tuple(recovery), str(state.get("status")), state.get("outcome"),
        _business(home / "retail.sqlite"), _writes(thread, env), _notifications(home / "retail.sqlite"),
    )  # fmt: skip


def _business(db: Path) -> str:
    """Every business table, timestamps left out, as one comparable text."""
    with sqlite3.connect(db) as conn:
        tables = [
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if row[0] != "idempotency_keys"  # the server's own record; keys differ per thread
        ]
        dump = {}
        for table in tables:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] != "created_at"]
            dump[table] = sorted(conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall())
    return json.dumps(dump, default=str, sort_keys=True)


def _notifications(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM notifications").fetchone()[0])


def _writes(thread: str, env: dict[str, str]) -> tuple[str, ...]:
    done = subprocess.run([*_SB, "show", thread, "--json"], env=env, capture_output=True, text=True, timeout=_TIMEOUT)
    try:
        trail = json.loads(done.stdout).get("trail") or []
    except ValueError:
        return ()
    calls = [c for e in trail if e.get("kind") == "handoff" for c in e.get("tool_calls") or []]
    return tuple(c["tool"] for c in calls if c.get("outcome") == "ok" and not c["tool"].startswith(("find_", "get_")))


def windows(template: Path, env: dict[str, str]) -> tuple[Trial, Counter[str]]:
    """The crash-free run, and how many windows of each boundary it passed."""
    clean = trial(template, env, None, 0, "clean")
    log = template.with_name("clean") / "windows"
    return clean, Counter(log.read_text().split()) if log.exists() else Counter()


def spread(count: int, trials: int) -> list[int]:
    """``trials`` window numbers spread evenly over ``1..count`` (each at most once)."""
    if count <= 0 or trials <= 0:
        return []
    if trials >= count:
        return list(range(1, count + 1))
    if trials == 1:
        return [(count + 1) // 2]
    return sorted({1 + round(i * (count - 1) / (trials - 1)) for i in range(trials)})


def matrix(
    trials: int, *, postgres: str | None = None, workers: int = 2, windows_at: Sequence[tuple[Boundary, int]] = ()
) -> tuple[Trial, list[Trial]]:
    """The crash-free run and ``trials`` crashes per boundary (or exactly ``windows_at``), recovered."""
    with _template(postgres) as (template, env):
        clean, counts = windows(template, env)
        plan = list(windows_at) or [(b, n) for b in BOUNDARIES for n in spread(counts[b], trials)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(trial, template, env, b, n, f"{b}-{n}") for b, n in plan]
            return clean, [f.result() for f in futures]


def failures(clean: Trial, trials: Sequence[Trial]) -> list[str]:
    """What went wrong, one line per bad trial; empty when every crash was harmless."""
    bad = []
    for t in trials:
        where = f"{t.boundary}:{t.n}"
        if not t.killed:
            bad.append(f"{where}: the window was never reached")
        elif t.status != "completed" or t.outcome != "resolved":
            bad.append(f"{where}: lost: ended {t.status}/{t.outcome} after {list(t.recovery)}")
        elif t.business != clean.business or t.writes != clean.writes:
            bad.append(f"{where}: state differs (notifications {t.notifications} vs {clean.notifications})")
    return bad


def run(sqlite_trials: int = SQLITE_TRIALS, postgres_trials: int = POSTGRES_TRIALS) -> Report:
    """The matrix on SQLite, and a smaller one on Postgres, as one report."""
    started = time.perf_counter()
    results = [("SQLite", *matrix(sqlite_trials))]
    if postgres_trials:
        from benchmarks.postgres_server import throwaway_postgres

        with throwaway_postgres() as url:
            results.append(("Postgres", *matrix(postgres_trials, postgres=url)))
    rows, checks, notes = [], {}, []
    for store, clean, trials in results:
        bad = failures(clean, trials)
        for boundary in BOUNDARIES:
            mine = [t for t in trials if t.boundary == boundary]
            lost = sum(1 for t in mine if t.status != "completed" or t.outcome != "resolved")
            dup = sum(1 for t in mine if t.notifications > clean.notifications or t.business != clean.business)
            rows.append((store, boundary, str(len(mine)), str(lost), str(dup)))
        checks[f"{store}: crash-free run resolved"] = clean.status == "completed" and clean.outcome == "resolved"
        checks[f"{store}: 0 lost, 0 duplicated, final state as crash-free"] = not bad and bool(trials)
        notes += [f"{store}: {line}" for line in bad]
    return Report(
        title="Crash matrix: the demo return killed by SIGKILL at each boundary, then resumed with the CLI",
        columns=("store", "boundary", "trials", "lost", "duplicated / differing"),
        rows=tuple(rows),
        notes=(
            "Each trial: a subprocess runs the return and its approval with SWITCHBOARD_CRASH_AT=BOUNDARY:N; "
            "`switchboard resume` (and `--approve --as alice` when it waits) brings it to its end.",
            "Compared with a crash-free run: thread completed/resolved, every business table equal, same writes.",
            *notes,
        ),
        checks=checks,
        seconds=time.perf_counter() - started,
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
