"""End to end on the default model: the embedded engine, the real MCP server over
stdio, SQLite checkpoints, and the database checked afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from switchboard.domains.retail import RetailStore
from switchboard.domains.retail.operations import RetailOperations
from switchboard.runs import read_thread, start_run
from switchboard.settings import Settings


def _order(db: Path, order_id: str) -> dict[str, Any]:
    with RetailStore.open(db) as store:
        order = store.get_order(order_id)
    assert order is not None
    return order


async def test_cancel_a_pending_order(settings: Settings, retail_db: Path, mia: Any) -> None:
    order_id = mia.orders["pending"]
    task = f"Please cancel order {order_id}, I ordered it by mistake. {mia.email}"
    result = await start_run(task, settings=settings)
    assert result.status == "completed" and result.outcome == "resolved", result
    assert result.agents[0] == "finance"
    order = _order(retail_db, order_id)
    assert order["status"] == "cancelled" and order["cancel_reason"] == "ordered by mistake"
    refunds = [p for p in order["payment_history"] if p["transaction_type"] == "refund"]
    payments = [p for p in order["payment_history"] if p["transaction_type"] == "payment"]
    assert sum(p["amount"] for p in refunds) == sum(p["amount"] for p in payments)


async def test_return_under_the_limit_runs_through_without_a_human(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    order_id = mia.orders["delivered_under_500"]
    item = _order(retail_db, order_id)["items"][0]
    item_name = item["name"].lower()
    task = f"Hi, I'm {mia.name} ({mia.email}). I'd like to return the {item_name} from {order_id}, it's too small."
    result = await start_run(task, settings=settings)
    assert result.status == "completed", result
    assert set(result.agents) == {"finance", "logistics", "inventory", "analytics", "customer_service"}
    order = _order(retail_db, order_id)
    assert order["status"] == "returned" and order["return_items"] == [item["item_id"]]
    gift_card = mia.payment_methods["gift_card"]
    with RetailStore.open(retail_db) as store:
        user = store.get_user(mia.user_id)
    assert user is not None
    assert user["payment_methods"][gift_card]["balance"] == round(mia.gift_card_balance + item["price"], 2)


async def test_exchange_keeps_every_option_but_the_one_asked_for(
    settings: Settings, retail_db: Path, omar: Any
) -> None:
    order_id = omar.orders["delivered_exchange"]
    boots = next(i for i in _order(retail_db, order_id)["items"] if "boot" in i["name"].lower())
    with RetailStore.open(retail_db) as store:
        product = store.get_product(boots["product_id"])
    assert product is not None
    target = next(
        v
        for v in product["variants"].values()
        if v["available"]
        and v["item_id"] != boots["item_id"]
        and sum(v["options"][k] != boots["options"][k] for k in boots["options"]) == 1
    )
    (option, value) = next((k, v) for k, v in target["options"].items() if boots["options"][k] != v)
    task = (
        f"This is {omar.name}, zip {omar.zip}. The hiking boots from order {order_id} don't fit; "
        f"please exchange them for the same boots in {option} {value}."
    )
    result = await start_run(task, settings=settings)
    assert result.status == "completed", result
    order = _order(retail_db, order_id)
    assert order["status"] == "exchange requested"
    assert order["exchange_items"] == [boots["item_id"]] and order["exchange_new_items"] == [target["item_id"]]
    thread = await read_thread(result.thread_id, settings=settings)
    assert any(e["kind"] == "handoff" and e["agent"] == "finance" for e in thread["trail"])


async def test_a_refund_step_reads_the_customers_orders_until_it_finds_the_received_return(
    settings: Settings, retail_db: Path, mia: Any
) -> None:
    """The first order a refund step read held a user id and an order id, so the step stopped being shown the
    order reader (a lookup "found" in the step): the engine could not read the next order and the step failed."""
    order_id = mia.orders["delivered_over_500"]  # her third order: two others are read first
    with RetailStore.open(retail_db) as store:
        shop = RetailOperations(store)
        item = shop.get_order_details(order_id)["items"][0]
        shop.return_delivered_order_items(order_id, [item["item_id"]], mia.payment_methods["credit_card"])
        shop.schedule_return_pickup(order_id)
        shop.receive_returned_items(order_id)
    task = (
        f"Hi, I'm {mia.name}, {mia.email}. You received the {item['name'].lower()} I sent back; "
        "please issue the refund for my returned items."
    )
    result = await start_run(task, settings=settings)
    assert result.status == "completed" and result.outcome == "resolved", result
    order = _order(retail_db, order_id)
    assert order["status"] == "returned"
    assert [p["amount"] for p in order["payment_history"] if p["transaction_type"] == "refund"] == [item["price"]]


async def test_a_notification_step_reads_the_customer_after_finding_their_id(settings: Settings, mia: Any) -> None:
    """Finding the user id hid the reader of the user's record, which the step reads next: the step failed."""
    result = await start_run(f"Notify {mia.email} that her order has shipped.", settings=settings)
    assert result.status == "completed" and result.outcome == "resolved", result
    thread = await read_thread(result.thread_id, settings=settings)
    steps = [e for e in thread["trail"] if e["kind"] == "handoff"]
    calls = [c["tool"] for e in steps for c in e["tool_calls"] if c["outcome"] == "ok"]
    assert calls[-1] == "notify_customer"
