"""Agent mode: the rules every agent follows, whatever its recipe says.

A tool error ends the step, only bound tools are called, no call is
repeated, an unknown skill is reported, and the same input gives the same
moves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from switchboard.engine import Call, EmbeddedChatModel, Handoff, Playbook, Skill, Turn
from tests.engine.engine_kit import RetailTeam, run_agent
from tests.engine.retail_shop import MIA, Shop


def test_tool_error_ends_the_step_with_the_error(team: RetailTeam) -> None:
    task = "My email is nobody@example.com, cancel my order."
    handoff = team.step("customer_service", "identify_customer", task=task, instruction="Identify the customer.")
    assert handoff["status"] == "failed"
    assert "User with email 'nobody@example.com' not found" in handoff["summary"]
    assert team.shop.tools_called() == ["find_user_id_by_email"]


def test_write_refused_by_the_tool_fails_without_retry(team: RetailTeam, headphones: dict[str, Any]) -> None:
    # PayPal is neither the order's original payment method nor a gift card: the shop refuses the return.
    context = {**headphones, "payment_method_id": MIA.payment_methods["paypal"]}
    task = "Return my headphones."
    handoff = team.step("finance", "process_return", task=task, instruction="Request the return.", context=context)
    assert handoff["status"] == "failed"
    assert "can go only to the original payment method" in handoff["summary"]
    assert team.shop.tools_called().count("return_delivered_order_items") == 1
    assert team.shop.order(headphones["order_id"])["status"] == "delivered"


def test_unknown_skill_fails(team: RetailTeam) -> None:
    handoff = team.step("finance", "file_taxes", task="Do taxes.", instruction="Do the taxes.")
    assert handoff["status"] == "failed"
    assert handoff["summary"] == "I have no recipe for 'file_taxes'."


def test_skill_inferred_from_instruction_when_absent(team: RetailTeam) -> None:
    pending = MIA.orders["pending"]
    instruction = f"Please cancel pending order {pending} for the customer."
    context = {"user_id": MIA.user_id}
    handoff = team.step("finance", None, task=f"Cancel order {pending}.", instruction=instruction, context=context)
    assert handoff["status"] == "done"
    assert "cancel_pending_order" in team.shop.tools_called()


def test_recipe_needing_an_unbound_tool_fails(team: RetailTeam) -> None:
    lean = {**team.card("customer_service"), "tools": ["get_user_details", "get_order_details"]}
    task = "My email is mia.chen@example.com."
    handoff = team.step(lean, "identify_customer", task=task, instruction="Identify.")
    assert handoff["status"] == "failed"
    assert "find_user_id_by_email" in handoff["summary"]


def _agent_prompt(skill: str) -> list[Any]:
    return [
        SystemMessage("You are an agent."),
        HumanMessage(
            f"<task>\nx\n</task>\n\n<instruction>\nx\n</instruction>\n\n<skill>\n{skill}"
            "\n</skill>\n\n<context>\n{}\n</context>"
        ),
    ]


def test_engine_never_repeats_a_call() -> None:
    def stubborn(turn: Turn) -> Call | Handoff:
        return Call("lookup", {"q": 1}, "Look it up (again).")

    playbook = Playbook("toy", skills=(Skill("look", stubborn, tools=("lookup",)),))
    bound = EmbeddedChatModel(playbook=playbook).bind_tools(
        [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in ("lookup", "handoff")]
    )
    messages = _agent_prompt("look")
    first = bound.invoke(messages)
    assert first.tool_calls[0]["name"] == "lookup"
    messages += [first, ToolMessage('{"ok": true}', tool_call_id=first.tool_calls[0]["id"])]
    second = bound.invoke(messages)
    assert second.tool_calls[0]["name"] == "handoff"
    assert second.tool_calls[0]["args"]["status"] == "failed"
    assert "repeat" in second.tool_calls[0]["args"]["summary"]


def test_agent_mode_is_deterministic(
    team: RetailTeam, open_shop: Callable[[], Shop], headphones: dict[str, Any]
) -> None:
    runs = []
    for _ in range(2):
        _, transcript = run_agent(
            team.model,
            open_shop(),
            team.card("finance"),
            task="Return it.",
            instruction="Return.",
            skill="process_return",
            context=headphones,
        )
        runs.append([m.tool_calls for m in transcript if isinstance(m, AIMessage)])
    assert runs[0] == runs[1]
    assert "return_delivered_order_items" in [calls[0]["name"] for calls in runs[0]]  # both wrote, each to its shop


def test_instruction_values_that_are_stand_ins_are_dropped() -> None:
    """The instruction fills the task's gaps, but never with a phrase standing in for a value."""

    def colour(text: str) -> dict[str, Any]:
        found = re.search(r"colou?r: ([^.]+)", text)
        return {"colour": found.group(1)} if found else {}

    def echo(turn: Turn) -> Call | Handoff:
        return Handoff("done", f"colour={turn.slots.get('colour')}")

    playbook = Playbook("toy", skills=(Skill("paint", echo),), extract_slots=colour)
    bound = EmbeddedChatModel(playbook=playbook).bind_tools(
        [{"type": "function", "function": {"name": "handoff", "parameters": {"type": "object"}}}]
    )

    def summary(task: str, instruction: str) -> str:
        prompt = (
            f"<task>\n{task}\n</task>\n\n<instruction>\n{instruction}\n</instruction>\n\n"
            "<skill>\npaint\n</skill>\n\n<context>\n{}\n</context>"
        )
        return str(bound.invoke([HumanMessage(prompt)]).tool_calls[0]["args"]["summary"])

    assert summary("Paint it.", "Paint it, colour: red.") == "colour=red"  # a gap filled
    assert summary("Paint it.", "Paint it, colour: the one the customer asked for.") == "colour=None"
    assert summary("Paint it, colour: blue.", "Paint it, colour: <colour>.") == "colour=blue"
