"""The τ-bench-exact retail team uses τ-bench's operations only."""

from __future__ import annotations

from switchboard.agents.card import load_team
from switchboard.engine import load_playbook
from switchboard.evaluation import TAU_TEAM_FILE

# τ-bench's retail tools (its public API), plus notify_customer, which only writes the
# notifications table that τ-bench does not have.
TAU_BENCH_TOOLS = {
    "find_user_id_by_email", "find_user_id_by_name_zip", "get_user_details", "get_order_details",
    "get_product_details", "list_all_product_types", "calculate", "transfer_to_human_agents",
    "cancel_pending_order", "modify_pending_order_address", "modify_user_address",
    "modify_pending_order_payment", "modify_pending_order_items", "return_delivered_order_items",
    "exchange_delivered_order_items",
}  # fmt: skip


def test_every_agent_tool_is_a_tau_bench_operation_or_the_message_channel() -> None:
    team = load_team(TAU_TEAM_FILE)
    tools = {tool for card in team.agents for tool in card.tools}
    assert tools <= TAU_BENCH_TOOLS | {"notify_customer"}
    assert {"return_delivered_order_items", "cancel_pending_order", "notify_customer"} <= tools


def test_the_playbook_plans_only_skills_the_team_has() -> None:
    team = load_team(TAU_TEAM_FILE)
    assert team.engine is not None
    playbook = load_playbook(team.engine)
    offered = {skill.id for card in team.agents for skill in card.skills}
    assert {skill.id for skill in playbook.skills} == offered
    for intent in playbook.intents:
        assert set(intent.plan) <= offered, intent.name
    plans = {intent.name: intent.plan for intent in playbook.intents}
    assert plans["return"] == ("process_return", "notify_customer")  # where τ-bench's return ends
    assert "pickup" not in plans and "refund" not in plans
