"""LangSmith traces every step: the real client, sending to a collector on loopback.

The run happens in a subprocess so that LangSmith reads its settings fresh;
the collector is a plain HTTP server on 127.0.0.1 that records what arrives.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

RUN = textwrap.dedent(
    """
    import asyncio, sys
    from langchain_core.tracers.langchain import wait_for_all_tracers
    from switchboard.runs import start_run
    from switchboard.settings import Settings
    from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

    model = ScriptedChatModel(
        steps=[route("customer_service", "look her up", skill="identify_customer"), finish("found")],
        agents={"customer_service": [call("find_user_id_by_email", email="mia.chen@example.com"), handoff("found")]},
    )
    result = asyncio.run(start_run("who is mia?", thread_id="traced-1", settings=Settings(), model=model))
    wait_for_all_tracers()
    print(result.status)
    """
)


@pytest.fixture
def collector() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            received.append(self.rfile.read(length) if length else b"")
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PATCH = _record

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


def test_a_run_is_traced_step_by_step(collector: tuple[str, list[bytes]], retail_db: Path, tmp_path: Path) -> None:
    endpoint, received = collector
    env = {
        **os.environ,
        "LANGSMITH_TRACING": "true",
        "LANGCHAIN_TRACING_V2": "true",
        "LANGSMITH_ENDPOINT": endpoint,
        "LANGSMITH_API_KEY": "local-test-key",
        "LANGSMITH_PROJECT": "switchboard-tests",
        "SWITCHBOARD_CHECKPOINT_DB": str(tmp_path / "cp.sqlite"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", RUN], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("completed"), proc.stderr[-2000:]
    payload = b"".join(received).decode("utf-8", "replace")
    names = set(re.findall(r'"name":\s*"([^"]+)"', payload))
    assert {"switchboard", "supervisor", "customer_service", "think", "act", "finalize"} <= names
    assert "find_user_id_by_email" in payload and "RoutingDecision" in payload
    assert "traced-1" in payload  # the thread id is in the trace's metadata
