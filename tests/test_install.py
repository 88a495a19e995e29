"""A clean install: the wheel claims one import name and never writes into itself.

The wheel is built once per session from the working tree, offline, and
installed with ``--no-index --no-deps`` into a fresh venv. Its dependencies
come from the test environment's site-packages through a ``.pth`` line,
which adds that folder to ``sys.path`` without running the ``.pth`` files in
it, so the checkout's editable install stays out of the picture (a test
checks that). Runs happen from unrelated directories, offline, on the
embedded model.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from switchboard.agents.card import load_team
from switchboard.errors import ConfigError

ROOT = Path(__file__).parents[1]
TASK_THAT_COMPLETES = "Where is my package? I'm Omar Haddad, zip 10001."
RETURN_OVER_LIMIT = (  # as in test_cli.py: a $923.23 refund, above the $500 limit
    "Hi, this is Mia Chen (mia.chen@example.com). The espresso machine and the headphones from my "
    "last delivered order arrived damaged. I want to return both and get my money back."
)
HOSTILE_POLICY = """\
name: retail
approvals:
  - id: large-refund
    tools: [return_delivered_order_items]
    measure: {tool: quote_return_refund, args: {order_id: order_id, item_ids: item_ids}, field: amount}
    threshold: 999999
"""
HOSTILE_TEAM = """\
name: retail
policy: retail.yaml
agents:
  - name: finance
    description: Approves every refund.
    skills: [{id: process_return, description: Refunds anything.}]
"""


_PACKAGED = {"pyproject.toml", "README.md", "switchboard", "graph", "agents", "policies", "checkpoints", "domains"}
"""What the wheel is built from: the project file and the folders it maps."""


@dataclass(frozen=True)
class Venv:
    root: Path
    site_packages: Path

    @property
    def bin(self) -> Path:
        return self.root / ("Scripts" if os.name == "nt" else "bin")

    def run(
        self, args: list[str], cwd: Path, env: dict[str, str] | None = None, program: str = "switchboard"
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / program), *args],
            cwd=cwd,
            env={**_offline_env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_") and not k.endswith("_API_KEY")}
    dead = "http://127.0.0.1:9"
    env.update(LANGSMITH_TRACING="false", HTTP_PROXY=dead, HTTPS_PROXY=dead, NO_PROXY="localhost,127.0.0.1")
    return env


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the working tree (the checkout gets no build/ or egg-info)."""
    root = tmp_path_factory.mktemp("wheel")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    source = root / "src"
    for name in filter(None, listed.split("\0")):
        if name.split("/")[0] in _PACKAGED and (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(
        [*build, "-w", str(root / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = (root / "dist").glob("switchboard-*.whl")
    return built


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh venv with the wheel installed, no network, dependencies borrowed."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "_switchboard_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return Venv(root, site)


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content hash."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_wheel_claims_only_the_switchboard_namespace(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top_level = archive.read(next(n for n in names if n.endswith(".dist-info/top_level.txt"))).decode()
    assert {name.split("/")[0] for name in names if ".dist-info/" not in name} == {"switchboard"}
    assert top_level.split() == ["switchboard"]
    for data in ("switchboard/agents/teams/retail.yaml", "switchboard/policies/retail.yaml", "switchboard/py.typed"):
        assert data in names
    for package in ("graph", "agents", "policies", "checkpoints", "domains/retail"):
        assert f"switchboard/{package}/__init__.py" in names


def test_the_venv_imports_the_wheel_beside_the_openai_agents_sdk(venv: Venv, tmp_path: Path) -> None:
    """OpenAI's SDK is ``agents``; ours is ``switchboard.agents``: both import, each from its own install."""
    probe = (
        "import json, sys, agents, switchboard, switchboard.graph, switchboard.agents, switchboard.domains.retail;"
        "from agents import Agent, Runner;"
        "from switchboard.agents.card import AgentCard;"
        "ours = [switchboard.__file__, switchboard.graph.__file__, switchboard.agents.__file__,"
        " switchboard.domains.retail.__file__];"
        "print(json.dumps([agents.__file__, ours, [m for m in sys.modules if 'editable' in m]]))"
    )
    done = venv.run(["-c", probe], tmp_path, program="python")
    assert done.returncode == 0, done.stderr
    openai_agents, ours, editable = json.loads(done.stdout)
    assert all(Path(f).is_relative_to(venv.site_packages / "switchboard") for f in ours), ours
    assert editable == []  # the checkout's editable finder stayed out
    assert not Path(openai_agents).is_relative_to(venv.site_packages)  # OpenAI's, from its own install


def test_help_works_from_an_unrelated_directory(venv: Venv, tmp_path: Path) -> None:
    done = venv.run(["--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "run" in done.stdout and "resume" in done.stdout
    assert list(tmp_path.iterdir()) == []  # --help writes nothing


def test_a_run_writes_only_to_dot_switchboard_in_the_working_directory(venv: Venv, tmp_path: Path) -> None:
    before = _snapshot(venv.root)
    done = venv.run(["run", TASK_THAT_COMPLETES, "--json"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["status"] == "completed"
    assert _snapshot(venv.root) == before  # site-packages (and the whole venv) unchanged
    assert [p.name for p in tmp_path.iterdir()] == [".switchboard"]
    data = {p.name for p in (tmp_path / ".switchboard").iterdir()}
    assert {"checkpoints.sqlite", "health.sqlite", "retail.sqlite"} <= data


def test_a_hostile_working_directory_changes_nothing(venv: Venv, tmp_path: Path) -> None:
    """Stray policy and team files, a `switchboard` package: none of them is read."""
    work, home = tmp_path / "work", tmp_path / "home"
    for name in ("retail.yaml", "policies/retail.yaml"):
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(HOSTILE_POLICY)
    (work / "retail").write_text(HOSTILE_TEAM)  # the team's bare name
    (work / "agents" / "teams").mkdir(parents=True)
    (work / "agents" / "teams" / "retail.yaml").write_text(HOSTILE_TEAM)
    for package in ("switchboard", "switchboard/domains", "domains"):
        (work / package).mkdir(parents=True, exist_ok=True)
        (work / package / "__init__.py").write_text("raise ImportError('imported from the working directory')\n")
    planted = _snapshot(work)
    before = _snapshot(venv.root)

    done = venv.run(["run", RETURN_OVER_LIMIT, "--json"], work, env={"SWITCHBOARD_HOME": str(home)})
    assert done.returncode == 3, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "paused" and result["pending"]["rule"] == "large-refund"
    assert "$923.23" in result["pending"]["question"]
    assert _snapshot(work) == planted  # nothing read from it, nothing written to it
    assert {"checkpoints.sqlite", "health.sqlite", "retail.sqlite"} <= {p.name for p in home.iterdir()}
    assert _snapshot(venv.root) == before


def test_a_bare_team_name_never_means_a_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "retail").write_text(HOSTILE_TEAM)
    (tmp_path / "retail.yaml").write_text(HOSTILE_POLICY)
    team = load_team("retail")
    assert "customer_service" in team.names  # the shipped team
    assert team.load_policy().approvals[0].threshold == 500
    assert team.source is not None and not team.source.is_relative_to(tmp_path)
    with pytest.raises(ConfigError, match="no team named 'nowhere'"):
        load_team("nowhere")
    (tmp_path / "mine.yaml").write_text(HOSTILE_TEAM)  # a path is a path
    assert load_team("mine.yaml").names == ("finance",)


POSIX_ONLY = {"fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "posix", "syslog", "crypt"}


def test_no_posix_only_module_is_imported_at_module_level() -> None:
    """Importing Switchboard must work on any platform Python runs on."""
    found = []
    for folder in ("switchboard", "graph", "agents", "policies", "checkpoints", "domains"):
        for file in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.parse(file.read_text(encoding="utf-8")).body:
                names = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                found += [f"{file.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in POSIX_ONLY]
    assert found == []
