"""Every code block in the README works as written.

- ``python`` blocks run as scripts, each in its own process, from an empty
  working directory with a private ``SWITCHBOARD_HOME``, offline on the
  embedded model, with no API key and any HTTP(S) request sent to a dead
  proxy;
- every ``switchboard …`` line of a ``bash`` block parses with the CLI's own
  parser, so a renamed command or flag fails here;
- ``yaml`` blocks that look like policy files are valid policy files.

Blocks are found by their fence, so a section added to the README is
covered without touching this file.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from switchboard.cli import _parser
from switchboard.policies.model import PolicyFile

README = Path(__file__).parents[1] / "README.md"
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(language: str) -> list[tuple[int, str]]:
    """``(line number, code)`` of every block fenced with ``language``."""
    text = README.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(2))
        for match in _FENCE.finditer(text)
        if match.group(1) == language
    ]


def _offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_") and not k.endswith("_API_KEY")}
    dead = "http://127.0.0.1:9"  # the discard port: nothing answers
    return {
        **env,
        "SWITCHBOARD_HOME": str(tmp_path / "home"),
        "LANGSMITH_TRACING": "false",
        "LANGCHAIN_TRACING_V2": "false",
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "ALL_PROXY": dead,
        "NO_PROXY": "localhost,127.0.0.1,::1",
    }


PYTHON_BLOCKS = _blocks("python")
BASH_BLOCKS = _blocks("bash")


def test_the_readme_has_the_blocks_this_file_checks() -> None:
    assert PYTHON_BLOCKS, "the README lost its Python example"
    assert any("switchboard " in code for _, code in BASH_BLOCKS)


@pytest.mark.parametrize(("line", "code"), PYTHON_BLOCKS, ids=[f"README.md:{n}" for n, _ in PYTHON_BLOCKS])
def test_python_block_runs_as_a_script(line: int, code: str, tmp_path: Path, principals: Path) -> None:
    """Run in a data directory where alice holds her key, as after `make demo` (the example approves as alice)."""
    work = tmp_path / "work"
    work.mkdir()
    script = work / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=work,
        env=_offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"README.md:{line} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    if "AgentSpec(" in code:  # the bring-your-own example: every agent it builds must finish its step
        assert "weather done:" in done.stdout and "money done:" in done.stdout, done.stdout


def _command_lines() -> list[tuple[int, str]]:
    lines = []
    for start, code in BASH_BLOCKS:
        # A trailing backslash continues a command on the next line, as in a shell.
        logical: list[tuple[int, str]] = []
        pending: tuple[int, str] | None = None
        for offset, raw in enumerate(code.splitlines(), start=1):
            first, text = pending if pending else (start + offset, "")
            text += raw.strip()
            if text.endswith("\\"):
                pending = (first, text[:-1] + " ")
                continue
            pending = None
            logical.append((first, text))
        lines += [(number, text) for number, text in logical if text.startswith("switchboard ")]
    return lines


COMMAND_LINES = _command_lines()


@pytest.mark.parametrize(("line", "command"), COMMAND_LINES, ids=[f"README.md:{n}" for n, _ in COMMAND_LINES])
def test_command_line_parses(line: int, command: str) -> None:
    # ``[--json]`` marks an optional flag: the line must parse with it.
    words = shlex.split(command.replace("[", "").replace("]", ""), comments=True)
    try:
        _parser().parse_args(words[1:])
    except SystemExit as exc:
        pytest.fail(f"README.md:{line}: `{command}` does not parse (exit {exc.code})")


def test_command_check_catches_a_renamed_flag() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["resume", "t-1", "--approved"])


@pytest.mark.parametrize(("line", "code"), _blocks("yaml"), ids=[f"README.md:{n}" for n, _ in _blocks("yaml")])
def test_policy_shaped_yaml_block_is_a_valid_policy(line: int, code: str) -> None:
    data = yaml.safe_load(code)
    policy_keys = set(PolicyFile.model_fields) - {"name", "source"}
    if isinstance(data, dict) and data and set(data) <= policy_keys:
        PolicyFile.model_validate({"name": f"README.md:{line}", **data})
