"""Worker tests: real worker processes on a throwaway Postgres, one database per test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from benchmarks.postgres_server import throwaway_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A ``postgresql://`` URL to the session's throwaway server (its ``postgres`` database)."""
    with throwaway_postgres(prefix="switchboard-workers-pg-") as url:
        yield url


@pytest.fixture
def queue_db(postgres_server: str, retail_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database for this test's checkpoints and queue, named by SWITCHBOARD_CHECKPOINT_DB.

    Worker processes inherit the environment: this database, the test's
    retail database (SWITCHBOARD_RETAIL_DB) and a shared health file.
    """
    name = f"workers_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = postgres_server.replace("/postgres?", f"/{name}?", 1)
    monkeypatch.setenv("SWITCHBOARD_CHECKPOINT_DB", url)
    monkeypatch.setenv("SWITCHBOARD_HEALTH_DB", str(tmp_path / "health.sqlite"))
    return url


class Workers:
    """Worker processes started with ``python -m switchboard.cli_workers worker``."""

    def __init__(self, count: int, logs: Path) -> None:
        self.logs = [logs / f"worker-{i}.log" for i in range(count)]
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-m", "switchboard.cli_workers", "worker"],
                stdout=subprocess.DEVNULL,
                stderr=log.open("w"),
                env=dict(os.environ),
            )
            for log in self.logs
        ]

    def stop(self) -> list[int]:
        """Ask every worker to finish its current job and exit; their exit codes."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=60))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        return codes

    def stderr(self) -> str:
        return "\n".join(log.read_text() for log in self.logs)


@pytest.fixture
def workers(queue_db: str, tmp_path: Path) -> Iterator[Callable[[int], Workers]]:
    """Start workers with ``workers(count)``; any still running are stopped afterwards."""
    started: list[Workers] = []

    def start(count: int) -> Workers:
        group = Workers(count, tmp_path)
        started.append(group)
        return group

    yield start
    for group in started:
        group.stop()
