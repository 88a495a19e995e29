"""The agents and tools a policy's grants name are checked against the team when the graph is built.

An outside developer's IT-helpdesk policy had three typos in its ``grants``,
and each loaded and built silently, then failed closed at run time as if it
were a business refusal: a grant keyed ``desks`` (the agent is ``desk``)
refused every call of desk ("the policy grants desk no tools"); a grant of
``reset_pasword`` refused ``reset_password``; ``handoffs: [procurment]``
paused every desk-to-procurement handoff for a human. Approval and deny rule
tools and rule arguments were already refused at build with the file, line
and closest name; the grants now are too. Glob patterns are not checked by
name (one matching nothing is a warning), and agents brought as graphs are
team members: valid keys and handoff targets, with their own tools out of
sight (a warning, unless a typo of a known tool). One policy may serve
several teams (the τ-bench team shares retail's), so a grant for another
team's agent, and a handoff to an agent the policy grants, are only logged.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph

from switchboard.agents import Agent, AgentCard, AgentSpec, Skill
from switchboard.agents.card import Team, load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.policies import load_policy
from switchboard.runs import prepare_team


def find_employee(email: str) -> str:
    """Find an employee id by email."""
    return "u1001"


def reset_password(employee_id: str) -> str:
    """Reset an employee's password."""
    return "reset"


def check_vpn(employee_id: str) -> str:
    """Check an employee's VPN status."""
    return "up"


def order_laptop(employee_id: str, model: str, cost: float) -> str:
    """Order a laptop for an employee."""
    return "ordered"


HELPDESK = """name: helpdesk
grants:
  {desk}:
    tools: [find_employee, {reset}, check_vpn]
    handoffs: [{target}]
  procurement:
    tools: [find_employee, order_laptop]
    handoffs: [desk]
"""
"""The reviewer's policy's grants: line 3 is desk's key, line 4 its tools, line 5 its handoffs."""


def helpdesk_policy(
    tmp_path: Path, desk: str = "desk", reset: str = "reset_password", target: str = "procurement"
) -> Path:
    file = tmp_path / "policy.yaml"
    file.write_text(HELPDESK.format(desk=desk, reset=reset, target=target))
    return file


def helpdesk_agents(*extra: Any) -> list[Any]:
    """The helpdesk's two agents, as specs over in-process tools (so every tool is known at build)."""
    return [
        AgentSpec(name="desk", description="Password resets and VPN problems.",
                  tools=[find_employee, reset_password, check_vpn]),
        AgentSpec(name="procurement", description="Orders hardware.", tools=[find_employee, order_laptop]),
        *extra,
    ]  # fmt: skip


def helpdesk_cards() -> Team:
    """The helpdesk as cards over MCP tools, as its team file has it (built without a toolbox below)."""
    skill = Skill(id="help", description="Help.")
    return Team(
        name="helpdesk",
        agents=(
            AgentCard(name="desk", description="Desk.", skills=(skill,),
                      tools=("find_employee", "reset_password", "check_vpn")),
            AgentCard(name="procurement", description="Hardware.", skills=(skill,),
                      tools=("find_employee", "order_laptop")),
        ),
    )  # fmt: skip


def crm_graph() -> Any:
    """An agent brought as a compiled graph, named crm; its own tools are out of build_graph's sight."""

    async def node(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("The CRM has it.")]}

    graph = StateGraph(MessagesState)
    graph.add_node("crm", node)
    graph.add_edge(START, "crm")
    return graph.compile(name="crm")


def refused(tmp_path: Path, **typo: str) -> str:
    file = helpdesk_policy(tmp_path, **typo)
    with pytest.raises(ConfigError) as caught:
        build_graph(helpdesk_agents(), policy=load_policy(file))
    return str(caught.value)


def test_a_grant_key_naming_no_agent_is_refused_with_file_line_and_the_agent_meant(tmp_path: Path) -> None:
    """``grants: {desks: ...}`` built, and every call of desk was refused: "the policy grants desk no tools"."""
    message = refused(tmp_path, desk="desks")
    assert f"{tmp_path / 'policy.yaml'}:3: grants.desks: " in message
    assert "no agent of the team is named 'desks'" in message
    assert "did you mean desk?" in message


def test_a_misspelt_tool_in_a_grant_is_refused_with_file_line_and_the_tool_meant(tmp_path: Path) -> None:
    """``tools: [reset_pasword]`` built, and reset_password was refused: "desk is not granted 'reset_password'"."""
    message = refused(tmp_path, reset="reset_pasword")
    assert f"{tmp_path / 'policy.yaml'}:4: grants.desk.tools.1: " in message
    assert "desk is granted 'reset_pasword', which no MCP server or spec provides" in message
    assert "did you mean reset_password?" in message


def test_a_misspelt_handoff_target_is_refused_with_file_line_and_the_agent_meant(tmp_path: Path) -> None:
    """``handoffs: [procurment]`` built, and every desk-to-procurement handoff paused the thread."""
    message = refused(tmp_path, target="procurment")
    assert f"{tmp_path / 'policy.yaml'}:5: grants.desk.handoffs.0: " in message
    assert "desk may hand work to 'procurment', which is no agent of the team" in message
    assert "did you mean procurement?" in message


def test_all_the_typos_are_named_at_once(tmp_path: Path) -> None:
    message = refused(tmp_path, desk="desks", reset="reset_pasword", target="procurment")
    assert "grants.desks: " in message and "grants.desks.tools.1: " in message
    assert "grants.desks.handoffs.0: " in message


def test_agent_names_are_checked_even_before_the_mcp_tools_are_known(tmp_path: Path) -> None:
    """Cards over MCP tools and no toolbox: the tools cannot be checked yet, the agents can."""
    team = helpdesk_cards()
    for typo, where in [({"desk": "desks"}, ":3: grants.desks: "), ({"target": "procurment"}, ":5: grants.desk.")]:
        with pytest.raises(ConfigError, match="did you mean") as caught:
            build_graph(team=team, policy=load_policy(helpdesk_policy(tmp_path, **typo)))
        assert where in str(caught.value)
    # a misspelt tool waits for the toolbox (switchboard run opens it, and refuses the name then)
    build_graph(team=team, policy=load_policy(helpdesk_policy(tmp_path, reset="reset_pasword")))


def test_a_handoff_target_is_a_name_not_a_pattern(tmp_path: Path) -> None:
    """The handoff check compares names; ``proc*`` would never match procurement at run time."""
    message = refused(tmp_path, target="'proc*'")
    assert "grants.desk.handoffs.0: " in message and "not patterns" in message


def test_the_helpdesk_policy_as_written_builds(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        build_graph(helpdesk_agents(), policy=load_policy(helpdesk_policy(tmp_path)))
    assert "grants" not in caplog.text


def test_glob_grants_build_and_one_matching_no_tool_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text(
        "name: helpdesk\ngrants:\n"
        "  desk: {tools: ['find_*', 'reset_?assword', 'check_[v]pn', 'vpn_*'], handoffs: [procurement]}\n"
        "  procurement: {tools: ['*'], handoffs: [desk]}\n"
    )
    with caplog.at_level(logging.WARNING):
        build_graph(helpdesk_agents(), policy=load_policy(file))
    assert f"{file}:3: grants.desk.tools.3: 'vpn_*' matches no tool" in caplog.text
    assert "grants.desk.tools.0" not in caplog.text and "grants.procurement" not in caplog.text


def test_a_grant_for_the_supervisor_is_a_warning_not_an_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The supervisor calls no tools and may assign to any agent: such a grant governs nothing."""
    file = tmp_path / "policy.yaml"
    file.write_text(HELPDESK.format(desk="desk", reset="reset_password", target="procurement")
                    + "  supervisor:\n    handoffs: [desk, procurement]\n")  # fmt: skip
    with caplog.at_level(logging.WARNING):
        build_graph(helpdesk_agents(), policy=load_policy(file))
    assert "grants.supervisor: the supervisor calls no tools" in caplog.text


def test_a_brought_agent_is_a_valid_grant_key_and_handoff_target(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """crm has no card of its own in the team file; it is a team member all the same.

    Its own tools are out of sight: one no server or spec provides is said,
    not refused; one a typo away from a known tool is refused.
    """
    file = tmp_path / "policy.yaml"
    grants = (
        "name: helpdesk\ngrants:\n"
        "  desk: {tools: [find_employee, reset_password, check_vpn], handoffs: [procurement, crm]}\n"
        "  procurement: {tools: [find_employee, order_laptop], handoffs: [desk, crm]}\n"
        "  crm: {tools: [TOOL], handoffs: [desk]}\n"
        "  crm_inner: {tools: [crm_search]}\n"
    )
    file.write_text(grants.replace("TOOL", "crm_lookup"))
    with caplog.at_level(logging.INFO, logger="switchboard.policies.loader"):
        build_graph(helpdesk_agents(Agent(crm_graph(), description="The CRM.")), policy=load_policy(file))
    assert "grants.crm.tools.0: crm is granted 'crm_lookup'" in caplog.text
    assert "grants agents this team does not have (crm_inner)" in caplog.text  # a guard's own name, say
    assert "grants.crm.handoffs" not in caplog.text and "grants.desk" not in caplog.text

    file.write_text(grants.replace("TOOL", "find_employe"))
    with pytest.raises(ConfigError) as caught:
        build_graph(helpdesk_agents(Agent(crm_graph(), description="The CRM.")), policy=load_policy(file))
    assert f"{file}:5: grants.crm.tools.0: " in str(caught.value) and "did you mean find_employee?" in str(caught.value)

    file.write_text(grants.replace("TOOL", "crm_lookup").replace("  desk:", "  desks:"))
    with pytest.raises(ConfigError, match=r"did you mean desk\?"):  # a typo of a team member, brought agents or not
        build_graph(helpdesk_agents(Agent(crm_graph(), description="The CRM.")), policy=load_policy(file))


def test_a_policy_shared_with_another_team_builds_and_a_grantless_agent_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Grants for agents of another team, and handoffs to them, govern nothing here: said, not refused.

    The policy grants billing (another team's agent) and lets desk hand work
    to it; it grants procurement nothing, which is no typo (no key is close)
    but leaves procurement unable to call a tool or hand work on.
    """
    file = tmp_path / "policy.yaml"
    file.write_text(
        "name: helpdesk\ngrants:\n"
        "  desk: {tools: [find_employee, reset_password, check_vpn], handoffs: [procurement, billing]}\n"
        "  billing: {tools: [send_invoice], handoffs: [desk]}\n"
    )
    with caplog.at_level(logging.INFO, logger="switchboard.policies.loader"):
        build_graph(helpdesk_agents(), policy=load_policy(file))
    assert "grants agents this team does not have (billing)" in caplog.text
    assert f"{file}:4: grants.billing" in caplog.text and f"{file}:3: grants.desk.handoffs.1" in caplog.text
    assert f"{file}:2: grants: procurement has no grant" in caplog.text
    assert "send_invoice" not in caplog.text  # another team's agent: its tools are its team's business


async def test_the_tau_bench_team_shares_the_retail_policy_and_builds(retail_db: Path) -> None:
    """switchboard eval tau's team has four of retail's six agents and the shipped retail policy."""
    from switchboard.evaluation import TAU_TEAM_FILE

    team = load_team(str(TAU_TEAM_FILE))
    assert {"finance_backup", "analytics"} <= set(team.load_policy().grants or {}) - set(team.names)
    async with Toolbox.for_team(team, prepare_team(team)) as toolbox:
        build_graph(team=team, policy=team.load_policy(), toolbox=toolbox)


async def test_the_retail_team_and_policy_build_against_the_retail_tools(
    retail_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The shipped grants (globs, a YAML alias, every agent) name only what the retail team and server have."""
    team = load_team(None)
    with caplog.at_level(logging.WARNING, logger="switchboard.policies.loader"):
        build_graph(team=team, policy=team.load_policy())  # names only: no toolbox
        async with Toolbox.for_team(team, prepare_team(team)) as toolbox:
            build_graph(team=team, policy=team.load_policy(), toolbox=toolbox)
    assert "grants." not in caplog.text
