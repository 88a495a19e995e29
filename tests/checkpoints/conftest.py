"""A throwaway PostgreSQL cluster for the checkpoint tests.

The fixture runs the machine's own PostgreSQL binaries (Debian's
``postgresql`` package) in a temporary directory, listening on a Unix socket
only, and removes it afterwards. ``.ci/run`` installs the package when it is
missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.insert(0, str(Path(found).resolve().parent))
    for path in candidates:
        if (Path(path) / "initdb").exists() and (Path(path) / "pg_ctl").exists():
            return Path(path)
    pytest.fail("PostgreSQL server binaries not found: install them (apt-get install postgresql)")


def _as_owner(owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--"] if owner else []


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A ``postgresql://`` URL to a fresh, empty cluster."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="switchboard-pg-"))
    data, socket = root / "data", root / "socket"
    socket.mkdir()
    owner = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
    if owner:
        uid = pwd.getpwnam(owner).pw_uid
        for path in (root, socket):
            os.chown(path, uid, -1)
    run = _as_owner(owner)
    subprocess.run(
        [*run, str(bindir / "initdb"), "-D", str(data), "-U", "switchboard", "--auth=trust"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-k {socket} -c listen_addresses='' -p 54329"
    # The server gets its own log file: a daemon holding our pipes open
    # would make this call wait forever.
    log = root / "server.log"
    subprocess.run(
        [*run, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )
    try:
        yield f"postgresql://switchboard@/postgres?host={socket}&port=54329"
    finally:
        subprocess.run(
            [*run, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
