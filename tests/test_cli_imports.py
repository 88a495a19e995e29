"""``switchboard --help`` builds the whole parser without loading the heavy libraries (issue 8).

Not a timed test: it checks what the parser imports, which is what makes the
command slow, in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("langgraph", "langchain", "langchain_core", "langsmith", "pydantic", "rich", "mcp", "yaml", "sqlite_utils")

PROBE = """
import contextlib, io, json, sys
from switchboard.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(json.dumps({"modules": sorted(sys.modules), "help": out.getvalue()}))
"""


def _probe(*argv: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True, timeout=120)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_help_lists_every_command_without_importing_heavy_libraries() -> None:
    probe = _probe("--help")
    loaded = {str(name).split(".")[0] for name in probe["modules"]}  # type: ignore[attr-defined]
    assert not loaded & set(HEAVY), f"`switchboard --help` imported {sorted(loaded & set(HEAVY))}"
    for command in ("run", "resume", "show", "route", "agents", "retail", "mcp", "eval", "worker", "trace", "audit"):
        assert command in str(probe["help"])


def test_a_domain_named_on_the_command_line_gets_its_commands() -> None:
    probe = _probe("retail", "--help")
    assert "demo-db" in str(probe["help"]) and "load" in str(probe["help"])
