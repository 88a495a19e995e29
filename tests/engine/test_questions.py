"""The embedded engine asks the customer when a slot is missing, and reads the reply (issue 11).

The agent step runs over the real retail operations; the customer is a
function of the question. Without ``ask_customer`` bound, the engine does
what it always did.
"""

from __future__ import annotations

from typing import Any

from tests.engine.engine_kit import RetailTeam, run_agent
from tests.engine.retail_shop import MIA

RETURN = "Hi, I'm Mia Chen, mia.chen@example.com. I want to return my delivered order, it arrived damaged."
UNDER, OVER = MIA.orders["delivered_under_500"], MIA.orders["delivered_over_500"]


def _step(team: RetailTeam, skill: str, task: str, customer: Any) -> tuple[dict[str, Any], list[str]]:
    """Finance's step for ``skill``, with ``customer(question)`` answering; the handoff and the questions."""
    asked: list[str] = []

    def answer(question: str) -> str:
        asked.append(question)
        return str(customer(question))

    handoff, _ = run_agent(
        team.model, team.shop, team.card("finance"), task=task, instruction="Do it.", skill=skill, context={},
        customer=answer,
    )  # fmt: skip
    return handoff, asked


def test_several_delivered_orders_and_none_named_the_agent_asks_which(team: RetailTeam) -> None:
    handoff, asked = _step(team, "process_return", RETURN, lambda q: f"It is {UNDER}, thanks.")
    (question,) = asked
    assert question.startswith("Which order do you mean? You have 2 delivered orders:")
    assert UNDER in question and OVER in question and "Water Bottle" in question
    assert handoff["status"] == "done" and handoff["facts"]["order_id"] == UNDER
    every_item = [str(i["item_id"]) for i in team.shop.order(UNDER)["items"]]
    assert sorted(handoff["facts"]["item_ids"]) == sorted(every_item)
    assert team.shop.order(UNDER)["status"] == "return requested"


def test_a_reply_that_describes_the_order_picks_it_without_narrowing_the_items(team: RetailTeam) -> None:
    handoff, _ = _step(team, "process_return", RETURN, lambda q: "The one with the espresso machine.")
    assert handoff["facts"]["order_id"] == OVER
    assert len(handoff["facts"]["item_ids"]) == len(team.shop.order(OVER)["items"])  # all of it, as asked


def test_a_reply_that_names_no_order_fails_the_step_naming_the_candidates(team: RetailTeam) -> None:
    handoff, asked = _step(team, "process_return", RETURN, lambda q: "I don't remember.")
    assert len(asked) == 1 and handoff["status"] == "failed"
    assert "names none of them" in handoff["summary"] and UNDER in handoff["summary"]
    assert "return_delivered_order_items" not in team.shop.tools_called()


def test_nothing_identifies_the_customer_so_the_agent_asks_who_they_are(team: RetailTeam) -> None:
    task = "Please cancel my pending order, I ordered it by mistake."
    handoff, asked = _step(team, "cancel_order", task, lambda q: f"Sure, it is {MIA.email}.")
    assert asked == ["Could you tell me the email address on your account, or your name and zip code?"]
    assert handoff["status"] == "done" and handoff["facts"]["user_id"] == MIA.user_id
    assert team.shop.tools_called()[0] == "find_user_id_by_email"


def test_without_ask_customer_the_engine_settles_as_before(team: RetailTeam) -> None:
    handoff = team.step("finance", "process_return", task=RETURN, instruction="Request the return.")
    assert handoff["status"] == "done"  # the first delivered order that fits, as before questions existed
    assert handoff["facts"]["order_id"] in (UNDER, OVER)
