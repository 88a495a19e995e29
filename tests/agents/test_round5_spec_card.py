"""Round 5: async tools of an AgentSpec, list arguments that type-check, and ``${TEAM_DIR}`` in a team's servers.

- An ``async def`` tool given to an :class:`AgentSpec` is awaited; before,
  the agent "called" it and reported the coroutine object as its result.
- The cards' and spec's constructors take lists (mypy checks them against a
  typed ``__init__``) and still store tuples; :func:`test_typed_init_names_every_field`
  keeps those signatures in step with the fields. mypy itself was run on a
  user file by hand (too slow for the suite).
- ``${TEAM_DIR}`` in a team file's servers is the team file's folder, so a
  server kept beside the team file starts from any working directory.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from pydantic import BaseModel

from switchboard.agents import card as card_module
from switchboard.agents import spec as spec_module
from switchboard.agents.card import AgentCard, Lookup, Skill, Team, load_team
from switchboard.agents.spec import AgentSpec
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.testing import ScriptedChatModel, finish, handoff, route

CONFIG: Any = {"configurable": {"thread_id": "t"}}


async def get_time(city: str) -> str:
    """The local time in a city."""
    return f"{city}: 12:00"


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"{city}: sunny"


# --- D3: async tools are awaited -------------------------------------------------


async def test_an_async_tool_of_a_spec_is_awaited() -> None:
    tool = AgentSpec(name="clock", description="Local time.", tools=[get_time]).tools[0]
    assert tool.name == "get_time" and tool.description.startswith("The local time")
    assert await tool.ainvoke({"city": "Paris"}) == "Paris: 12:00"


async def test_a_sync_tool_of_a_spec_still_runs() -> None:
    tool = AgentSpec(name="sky", description="Weather.", tools=[get_weather]).tools[0]
    assert await tool.ainvoke({"city": "Oslo"}) == "Oslo: sunny"
    assert tool.invoke({"city": "Oslo"}) == "Oslo: sunny"


async def test_a_run_reports_what_an_async_tool_returned(tmp_path: Path) -> None:
    spec = AgentSpec(name="clock", description="Local time in a city.", tools=[get_time])
    done = handoff("It is 12:00 in Paris.").tool_calls[0]
    ask = {"name": "get_time", "args": {"city": "Paris"}, "id": "call_time", "type": "tool_call"}
    model = ScriptedChatModel(
        steps=[route("clock", "Tell the time in Paris"), finish()],
        agents={"clock": [AIMessage("", tool_calls=[ask, done])]},
    )
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph([spec], model=model, checkpointer=saver)
        result = await graph.ainvoke({"task": "What time is it in Paris?"}, CONFIG)
    model.assert_complete()
    calls = [c for event in result["trail"] if event["kind"] == "handoff" for c in event["tool_calls"]]
    assert [(c["tool"], c["outcome"], c["result"]) for c in calls] == [("get_time", "ok", "Paris: 12:00")]


# --- D9: lists are accepted and stored as tuples ---------------------------------


def test_lists_are_accepted_and_stored_as_tuples() -> None:
    lookup = Lookup(finds=["user_id"], tools=["find_user"])
    skill = Skill(id="s", description="d", examples=["e"], tools=["find_user"], lookups=[lookup])
    card = AgentCard(name="a", description="d", skills=[skill], tools=["find_user"], fallbacks={})
    spec = AgentSpec(name="b", description="d", tools=[get_weather], examples=["x"], skills=[skill])
    team = Team(name="t", agents=[card], workflows=[])
    assert lookup.finds == ("user_id",) and lookup.tools == ("find_user",)
    assert skill.examples == ("e",) and skill.lookups == (lookup,)
    assert card.skills == (skill,) and card.tools == ("find_user",)
    assert isinstance(spec.tools, tuple) and spec.examples == ("x",) and spec.skills == (skill,)
    assert team.agents == (card,) and team.workflows == ()
    other = AgentCard(name="c", description="d", skills=[Skill(id="s", description="d")])
    fallback = AgentCard(name="f", description="d", skills=[skill], tools=["find_user"], fallbacks={"s": ["c"]})
    assert fallback.fallbacks == {"s": ("c",)}
    assert Team(name="t", agents=[fallback, other]).names == ("f", "c")


def _typed_init(module: Any, cls: type[BaseModel]) -> list[str]:
    """The keyword parameters of the ``__init__`` a class declares for type checkers only."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(module)))
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    for stmt in node.body:
        if isinstance(stmt, ast.If) and ast.unparse(stmt.test) == "TYPE_CHECKING":
            init = next(s for s in stmt.body if isinstance(s, ast.FunctionDef) and s.name == "__init__")
            return [arg.arg for arg in init.args.kwonlyargs]
    raise AssertionError(f"{cls.__name__} declares no typed __init__")


@pytest.mark.parametrize(
    ("module", "cls"),
    [
        (card_module, Lookup),
        (card_module, Skill),
        (card_module, AgentCard),
        (card_module, Team),
        (spec_module, AgentSpec),
    ],
)
def test_typed_init_names_every_field(module: Any, cls: type[BaseModel]) -> None:
    assert _typed_init(module, cls) == list(cls.model_fields)


# --- D8: ${TEAM_DIR} ------------------------------------------------------------

SERVER = '''
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("desk")


@mcp.tool()
def ping(text: str) -> str:
    """Echo the text."""
    return text


mcp.run()
'''


def _team_file(folder: Path, args: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "server.py").write_text(SERVER)
    file = folder / "team.yaml"
    quoted = ", ".join(f'"{a}"' for a in args)
    file.write_text(
        "name: desk\n"
        "servers:\n"
        "  desk:\n"
        "    transport: stdio\n"
        "    command: ${PYTHON}\n"
        f"    args: [{quoted}]\n"
        '    env: {HOME_OF_TEAM: "${TEAM_DIR}"}\n'
        "agents:\n"
        "  - name: desk\n"
        "    description: Echoes.\n"
        "    skills: [{id: ping, description: Echo.}]\n"
        "    tools: [ping]\n"
    )
    return file


def test_team_dir_is_the_team_files_folder_whatever_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = _team_file(tmp_path / "desk", ["${TEAM_DIR}/server.py", "server.py"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEAM_DIR", "/somewhere/else")
    conn = load_team(file).connections()["desk"]
    folder = str((tmp_path / "desk").resolve())
    assert conn["command"] == sys.executable
    assert conn["args"] == [f"{folder}/server.py", "server.py"]  # a plain relative argument is left as written
    assert conn["env"] == {"HOME_OF_TEAM": folder}


def test_team_dir_in_a_team_not_loaded_from_a_file_is_a_config_error() -> None:
    card = AgentCard(name="desk", description="d", skills=[Skill(id="ping", description="d")])
    team = Team(name="t", agents=[card], servers={"desk": {"command": "x", "args": ["${TEAM_DIR}/server.py"]}})
    with pytest.raises(ConfigError, match="not loaded from a file"):
        team.connections()


async def test_a_server_beside_the_team_file_starts_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = _team_file(tmp_path / "desk", ["${TEAM_DIR}/server.py"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    team = load_team(file)
    async with Toolbox(team.connections()) as box:
        box.check(team)
        ping = box.get("ping")
        assert ping is not None
        answer = await ping.ainvoke({"text": "hi"})
        assert (answer if isinstance(answer, str) else answer[0]["text"]) == "hi"


def test_an_agent_name_with_a_trailing_newline_is_refused() -> None:
    """``$`` in the name check matched before a trailing newline, so "finance\\n" passed as a second finance."""
    import pytest
    from pydantic import ValidationError

    from switchboard.agents.card import AgentCard

    with pytest.raises(ValidationError, match="must be lower_snake_case"):
        AgentCard(name="finance\n", description="Billing desk.")
