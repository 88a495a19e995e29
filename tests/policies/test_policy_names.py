"""A policy rule naming a tool argument the tool does not take is refused when the graph is built.

A misspelt argument (``when: {orderid: ...}``, ``args: [ordr_id]``) used to
load, and the rule it belonged to silently never applied: a deny rule let the
call through. Each place a rule names an argument is checked against the
tools the rule applies to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import StructuredTool

from switchboard.agents import AgentCard, AgentSpec, Skill
from switchboard.agents.card import Team
from switchboard.agents.toolbox import Toolbox
from switchboard.errors import ConfigError
from switchboard.graph import build_graph
from switchboard.policies import load_policy


def cancel_order(order_id: str, reason: str) -> str:
    """Cancel a pending order."""
    return f"cancelled {order_id}: {reason}"


def refund(order_id: str, payment_method_id: str, item_ids: list[str]) -> str:
    """Refund items of an order to a payment method."""
    return f"refunded {order_id}"


def quote_refund(order_id: str, item_ids: list[str]) -> str:
    """Price a refund."""
    return '{"amount": 1}'


def lookup(user_id: str) -> str:
    """Read a customer's record."""
    return user_id


def build(tmp_path: Path, rules: str) -> None:
    """Build a graph over in-process tools with ``rules`` as the policy file ``shop.yaml``."""
    file = tmp_path / "shop.yaml"
    file.write_text("name: shop\n" + rules)
    spec = AgentSpec(name="orders", description="Orders.", tools=[cancel_order, refund, quote_refund, lookup])
    build_graph([spec], policy=load_policy(file))


def test_a_misspelt_deny_condition_is_refused_with_file_line_rule_and_fix(tmp_path: Path) -> None:
    """The red-teamer's case: the deny rule never matched, so the order was cancelled."""
    rules = "deny:\n  - id: no-cancel\n    tools: [cancel_order]\n    reason: frozen\n    when: {orderid: '#W1'}\n"
    with pytest.raises(ConfigError) as caught:
        build(tmp_path, rules)
    message = str(caught.value)
    assert "shop.yaml:6:" in message
    assert "'no-cancel'" in message and "'orderid'" in message
    assert "cancel_order takes order_id, reason" in message
    assert "did you mean order_id?" in message


@pytest.mark.parametrize(
    ("rules", "rule", "name"),
    [
        ("constraints:\n  - {id: ids, check: plain_ids, tools: [refund], args: [ordr_id]}\n", "'ids'", "ordr_id"),
        ("constraints:\n  - {id: ids, check: pattern, tools: [refund], args: {ordr_id: 'x'}}\n", "'ids'", "ordr_id"),
        ("constraints:\n  - {id: d, check: distinct, tools: [refund], args: [item_id]}\n", "'d'", "item_id"),
        ("constraints:\n  - {id: w, check: within, tools: [refund], arg: item_ids, resource: order,"
         " kind: order, attr: items}\n", "'w'", "order"),
        ("constraints:\n  - {id: r, check: range, tools: [refund], arg: amont, gt: 0}\n", "'r'", "amont"),
        ("constraints:\n  - {id: dest, check: refund_destination, tools: [refund], method: payment_id}\n",
         "'dest'", "payment_id"),
        ("constraints:\n  - {id: q, check: range, tools: [refund], quote: amount, gt: 0,"
         " measure: {tool: quote_refund, args: {order_id: orderid}}}\n", "'q'", "orderid"),
        ("constraints:\n  - {id: q, check: range, tools: [refund], quote: amount, gt: 0,"
         " measure: {tool: quote_refund, args: {orderid: order_id}}}\n", "'q'", "orderid"),
        ("approvals:\n  - {id: big, tools: [refund], subject: order}\n", "'big'", "order"),
        ("approvals:\n  - {id: big, tools: [refund], threshold: 5, measure: {field: amount}}\n", "'big'", "amount"),
        ("approvals:\n  - {id: big, tools: [refund], threshold: 5,"
         " measure: {tool: quote_refund, args: {order_id: order_id, item_ids: items}}}\n", "'big'", "items"),
        ("approvals:\n  - {id: big, tools: [refund], question: 'Refund {orderid}?'}\n", "'big'", "orderid"),
        ("scopes:\n  tools: [refund]\n  customer_from: [lookup]\n  args: {order: order}\n", "scopes", "order"),
        ("scopes:\n  tools: [refund]\n  customer_from: [lookup]\n  args: {order_id: order}\n  learn:\n"
         "    - {tool: lookup, kind: user, id: result, owner: args.userid}\n", "scopes", "userid"),
        ("scopes:\n  tools: [refund]\n  customer_from: [lookup]\n  args: {order_id: order}\n  learn:\n"
         "    - {tool: lookup, kind: user, id: result, owner: result, fetch: {arg: user}}\n", "scopes", "user"),
    ],
)  # fmt: skip
def test_every_place_a_rule_names_an_argument_is_checked(tmp_path: Path, rules: str, rule: str, name: str) -> None:
    with pytest.raises(ConfigError, match=r"shop\.yaml:\d+: ") as caught:
        build(tmp_path, rules)
    assert rule in str(caught.value) and f"'{name}'" in str(caught.value)


def test_an_argument_one_of_a_rules_tools_takes_is_enough(tmp_path: Path) -> None:
    """A shared list of tools (a YAML anchor) names ids some of them take: each is checked where present."""
    build(
        tmp_path,
        "constraints:\n  - {id: ids, check: plain_ids, tools: [cancel_order, refund, lookup],"
        " args: [order_id, payment_method_id, user_id]}\n",
    )


def test_a_deny_rule_whose_conditions_no_single_tool_takes_is_refused(tmp_path: Path) -> None:
    """Every condition must hold at once: with no tool taking both arguments, the rule can never refuse."""
    rules = (
        "deny:\n  - id: odd\n    tools: [cancel_order, lookup]\n    reason: x\n    when: {reason: fraud, user_id: u1}\n"
    )
    with pytest.raises(ConfigError, match=r"'odd'.*no tool among cancel_order, lookup takes all of reason, user_id"):
        build(tmp_path, rules)


def test_mcp_tools_are_checked_by_their_json_schema(tmp_path: Path) -> None:
    """MCP tools (langchain-mcp-adapters) carry a JSON-schema dict as ``args_schema``."""
    schema: dict[str, Any] = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": []}
    tool = StructuredTool(name="cancel_pending_order", description="Cancel.", args_schema=schema, func=lambda **_: "")
    card = AgentCard(
        name="desk", description="Orders.", tools=("cancel_pending_order",), skills=(Skill(id="s", description="s"),)
    )
    file = tmp_path / "mcp.yaml"
    file.write_text("name: m\ndeny:\n  - {id: stop, tools: [cancel_pending_order], reason: x, when: {ordr_id: a}}\n")
    with pytest.raises(ConfigError, match=r"mcp\.yaml:3: .*'stop'.*'ordr_id'.*did you mean order_id\?"):
        build_graph(team=Team(name="t", agents=(card,)), toolbox=Toolbox.of([tool]), policy=load_policy(file))
    file.write_text("name: m\ndeny:\n  - {id: stop, tools: [cancel_pending_order], reason: x, when: {order_id: a}}\n")
    build_graph(team=Team(name="t", agents=(card,)), toolbox=Toolbox.of([tool]), policy=load_policy(file))


def test_without_a_toolbox_nothing_can_be_checked_and_the_build_only_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Same split as for tool names: cards needing MCP tools and no toolbox is a warning, not an error."""
    card = AgentCard(name="desk", description="Orders.", tools=("cancel",), skills=(Skill(id="s", description="s"),))
    file = tmp_path / "p.yaml"
    file.write_text("name: m\ndeny:\n  - {id: stop, tools: [cancel], reason: x, when: {ordr_id: a}}\n")
    with caplog.at_level("WARNING", logger="switchboard.graph.builder"):
        build_graph(team=Team(name="t", agents=(card,)), policy=load_policy(file))
    assert "no toolbox was given" in caplog.text


async def test_the_shipped_retail_policy_names_only_arguments_its_tools_take(retail_db: Path) -> None:
    from switchboard.agents.card import load_team

    team = load_team("retail")
    async with Toolbox.for_team(team) as toolbox:
        build_graph(team=team, toolbox=toolbox, policy=team.load_policy())
