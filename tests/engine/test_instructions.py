"""The supervisor's instructions carry only known values, and agents never take a stand-in for one.

Agents read values out of their instruction (a real LLM supervisor may know
more than the task says), so an instruction written with a stand-in such as
"the reason the customer gave" used to be recorded as the reason itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.domains.retail.playbook import PLAYBOOK
from switchboard.domains.retail.playbook_instruct import INSTRUCTIONS
from switchboard.domains.retail.slots import extract_slots
from switchboard.engine import Brief
from switchboard.engine.agent import is_placeholder
from tests.engine.engine_kit import RetailTeam
from tests.engine.retail_shop import MIA

ORDER = MIA.orders["delivered_over_500"]
"""Mia's delivered order with the headphones."""
_VALUES = ("reason", "cancel_reason", "target", "new_address", "pickup_date")
"""Slots whose value, read from an instruction, would be acted on or written."""
_CONTEXTS: tuple[dict[str, Any], ...] = (
    {},
    {"user_id": "mia_chen_4817"},
    {"user_id": "mia_chen_4817", "order_id": "#W9000001", "item_ids": ["7000000011"]},
)


@pytest.mark.parametrize("skill", sorted(INSTRUCTIONS))
@pytest.mark.parametrize("intent", [None, *(i.name for i in PLAYBOOK.intents)])
@pytest.mark.parametrize("context", _CONTEXTS)
def test_an_instruction_without_values_holds_none(skill: str, intent: str | None, context: dict[str, Any]) -> None:
    task = "mia.chen@example.com here, about my order."
    instruction = INSTRUCTIONS[skill](Brief(task, skill, intent, extract_slots(task), context))
    found = extract_slots(instruction)
    assert {k: found[k] for k in _VALUES if k in found} == {}, instruction
    assert not any(is_placeholder(v) for k, v in found.items() if k != "item_text"), instruction


@pytest.mark.parametrize(
    ("skill", "slot", "value"),
    [
        ("process_return", "reason", "they pinch my toes"),
        ("record_return_reason", "reason", "they pinch my toes"),
        ("record_return_reason", "reason", "arrived damaged"),
        ("process_exchange", "target", "size M"),
        ("modify_items", "target", "a size up"),
        ("product_lookup", "target", "the red one"),
        ("cancel_order", "cancel_reason", "ordered by mistake"),
    ],
)
def test_an_instruction_carries_the_known_value_intact(skill: str, slot: str, value: str) -> None:
    context = {"user_id": "mia_chen_4817", "order_id": "#W9000001", "item_ids": ["7000000011"]}
    instruction = INSTRUCTIONS[skill](Brief("Please help.", skill, None, {slot: value}, context))
    assert extract_slots(instruction).get(slot) == value, instruction


@pytest.mark.parametrize(
    "text",
    [
        "the reason the customer gave",
        "for order #W0741926: 'the reason the customer gave'",
        "the variant the customer asked for (read the product)",
        "<size>",
        "TBD",
        "not stated in the task",
    ],
)
def test_placeholders_are_recognised(text: str) -> None:
    assert is_placeholder(text) and is_placeholder([text]) and is_placeholder({"x": text})


@pytest.mark.parametrize("text", ["they pinch my toes", "size 8", "arrived damaged", "the red one", ["#W1"], 3])
def test_values_are_not_placeholders(text: Any) -> None:
    assert not is_placeholder(text)


_OLD_REASON_INSTRUCTION = f"Record the return reason for order {ORDER}: 'the reason the customer gave'."


def _record_reason(team: RetailTeam, task: str, context: dict[str, Any]) -> dict[str, Any]:
    """The analytics step recording a return reason, told by an instruction holding a stand-in."""
    team.shop.request_return(ORDER)  # a reason is recorded for a requested return
    return team.step(
        "analytics", "record_return_reason", task=task, instruction=_OLD_REASON_INSTRUCTION, context=context
    )


def test_the_reason_comes_from_the_customer_not_the_instruction(team: RetailTeam) -> None:
    task = f"Hi, I'd like to return the headphones from {ORDER}, they pinch my ears."
    handoff = _record_reason(team, task, {"order_id": ORDER})
    assert handoff["status"] == "done"
    assert team.shop.calls == [("record_return_reason", {"order_id": ORDER, "reason": "they pinch my ears"})]
    recorded = team.shop.store.get_return_reason(ORDER)
    assert recorded is not None and recorded["reason"] == "they pinch my ears"


def test_no_reason_is_recorded_when_none_was_given(team: RetailTeam) -> None:
    handoff = _record_reason(team, f"Please return the headphones from {ORDER} to my gift card.", {"order_id": ORDER})
    assert handoff["status"] == "done"  # one step of a return: the return stands without a reason
    assert "recorded none" in handoff["summary"]
    assert team.shop.calls == []


def test_recording_a_reason_that_was_never_given_fails(team: RetailTeam) -> None:
    handoff = _record_reason(team, f"Log the return reason for {ORDER}.", {})
    assert handoff["status"] == "failed"
    assert "no reason" in handoff["summary"] and team.shop.calls == []
    assert team.shop.store.get_return_reason(ORDER) is None


def test_a_placeholder_variant_is_not_looked_for(team: RetailTeam, bottle: dict[str, Any]) -> None:
    instruction = (
        f"Exchange the items of order {bottle['order_id']} for the variant the customer asked for (read the product)."
    )
    task = "I want to exchange my water bottle."
    handoff = team.step("finance", "process_exchange", task=task, instruction=instruction, context=bottle)
    assert handoff["status"] == "failed"
    assert "does not say which variant" in handoff["summary"]
    assert "exchange_delivered_order_items" not in team.shop.tools_called()
