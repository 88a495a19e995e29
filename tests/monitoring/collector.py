"""A LangSmith endpoint on loopback that records what the real client posts, and reads it back.

The client sends runs to ``/runs/multipart`` as ``multipart/form-data``:
one part per run (``post.<id>`` or ``patch.<id>``) and one per large field
(``post.<id>.inputs``, ``patch.<id>.outputs``...). :func:`runs_of` merges
the parts into one dict per run, a patch over its post, as the server does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    content_type: str
    body: bytes


@dataclass
class Collector:
    url: str
    requests: list[Request] = field(default_factory=list)

    def raw(self) -> bytes:
        """Every body received, concatenated: for "this never left the process" checks."""
        return b"".join(r.body for r in self.requests)

    def runs(self) -> dict[str, dict[str, Any]]:
        """Every run posted, by id."""
        return runs_of(self.requests)


@contextmanager
def collector() -> Iterator[Collector]:
    """Serve on 127.0.0.1 (a free port) until the block ends."""
    received: list[Request] = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            received.append(Request(self.command, self.path, self.headers.get("content-type") or "", body))
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
    try:
        yield Collector(f"http://127.0.0.1:{server.server_port}", received)
    finally:
        server.shutdown()
        server.server_close()


def runs_of(requests: list[Request]) -> dict[str, dict[str, Any]]:
    runs: dict[str, dict[str, Any]] = {}
    for request in requests:
        if request.method != "POST" or not request.path.startswith("/runs"):
            continue
        if request.path.startswith("/runs/multipart"):
            parts = _multipart(request)
        else:  # /runs/batch: {"post": [...], "patch": [...]}
            batch = json.loads(request.body or b"{}")
            parts = [(f"{op}.{run['id']}", run) for op in ("post", "patch") for run in batch.get(op) or []]
        for name, data in parts:
            _, run_id, *rest = name.split(".")
            run = runs.setdefault(run_id, {"id": run_id})
            if rest:
                run[rest[0]] = data
            else:
                run.update({k: v for k, v in data.items() if v is not None or k not in run})
    return runs


def _multipart(request: Request) -> list[tuple[str, Any]]:
    head = f"Content-Type: {request.content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts.append((name, json.loads(payload)))
    return parts
