"""Exactly-once effects over real stdio MCP: a keyed write lands once, however often it is sent.

Each "crash between the effect and the reply" is simulated the way a resumed
step meets it: the same keyed call is sent again, here from a fresh server
process, after the first one has written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.tools import load_mcp_tools
from mcp import ClientSession
from mcp.types import CallToolResult, TextContent

from switchboard.agents import idempotency
from switchboard.agents.idempotency import (
    call_tool_with_key,
    idempotency_interceptor,
    idempotency_key,
    keyed_call,
    was_replayed,
)
from switchboard.domains.retail import RetailStore, ledger
from tests.domains.retail.helpers import MIA, order


@asynccontextmanager
async def _session(db_path: Path) -> AsyncIterator[ClientSession]:
    """A stdio session to a fresh retail server process."""
    client = MultiServerMCPClient(
        {
            "retail": {
                "command": sys.executable,
                "args": ["-m", "switchboard.domains.retail.server", "--db", str(db_path)],
                "transport": "stdio",
            }
        }
    )
    async with client.session("retail") as session:
        yield session


def _text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def test_client_and_server_agree_on_the_meta_keys() -> None:
    assert idempotency.IDEMPOTENCY_META_KEY == ledger.IDEMPOTENCY_META_KEY
    assert idempotency.REPLAY_META_KEY == ledger.REPLAY_META_KEY


def test_keys_are_deterministic_and_distinct() -> None:
    key = idempotency_key("thread-1", "step-2", "call_abc")
    assert key == idempotency_key("thread-1", "step-2", "call_abc")
    assert key.startswith("sb1-") and len(key) == 44
    others = {
        idempotency_key("thread-2", "step-2", "call_abc"),
        idempotency_key("thread-1", "step-3", "call_abc"),
        idempotency_key("thread-1", "step-2", 0),
        idempotency_key("thread-1", "step-2call_abc", ""),  # no ambiguity at the joins
        idempotency_key("thread-1step-2", "", "call_abc"),
    }
    assert key not in others and len(others) == 5
    assert idempotency_key("t", "s", 3) == idempotency_key("t", "s", "3")


async def test_notification_replayed_from_a_new_server_process_is_sent_once(db_path: Path) -> None:
    key = idempotency_key("t-notify", "notify", "call-1")
    args = {"user_id": MIA.user_id, "message": "Your refund is on its way."}
    async with _session(db_path) as session:
        first = await call_tool_with_key(session, "notify_customer", args, key)
    assert not first.isError and not was_replayed(first)
    async with _session(db_path) as session:  # the client crashed before it saw the reply, and resumed
        again = await call_tool_with_key(session, "notify_customer", args, key)
    assert not again.isError and was_replayed(again)
    assert _text(again) == _text(first)
    with RetailStore.open(db_path) as store:
        sent = [n for n in store.notifications(MIA.user_id) if n["message"] == args["message"]]
        assert len(sent) == 1 and sent[0]["notification_id"] == json.loads(_text(first))["notification_id"]
        assert store.recorded_call_count() == 1


async def test_cancel_replay_returns_the_first_result_and_refunds_once(db_path: Path) -> None:
    pending = MIA.orders["pending"]
    key = idempotency_key("t-cancel", "cancel", "call-1")
    args = {"order_id": pending, "reason": "no longer needed"}
    async with _session(db_path) as session:
        first = await call_tool_with_key(session, "cancel_pending_order", args, key)
        again = await call_tool_with_key(session, "cancel_pending_order", args, key)
        unkeyed = await session.call_tool("cancel_pending_order", args)
    assert json.loads(_text(first))["status"] == "cancelled"
    assert was_replayed(again) and _text(again) == _text(first)
    assert unkeyed.isError and "only a 'pending' order can be cancelled" in _text(unkeyed)  # the repeat a key avoids
    with RetailStore.open(db_path) as store:
        history = order(store, pending)["payment_history"]
    paid = sum(e["amount"] for e in history if e["transaction_type"] == "payment")
    refunded = sum(e["amount"] for e in history if e["transaction_type"] == "refund")
    assert round(refunded, 2) == round(paid, 2)


async def test_every_step_of_a_return_replayed_writes_nothing_twice(db_path: Path) -> None:
    order_id = MIA.orders["delivered_over_500"]
    with RetailStore.open(db_path) as store:
        record = order(store, order_id)
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "return_delivered_order_items",
            {
                "order_id": order_id,
                "item_ids": [record["items"][0]["item_id"]],
                "payment_method_id": record["payment_history"][0]["payment_method_id"],
            },
        ),
        ("schedule_return_pickup", {"order_id": order_id}),
        ("receive_returned_items", {"order_id": order_id}),
        ("issue_return_refund", {"order_id": order_id}),
        ("notify_customer", {"user_id": MIA.user_id, "message": "Refunded."}),
    ]
    async with _session(db_path) as session:
        for index, (tool, args) in enumerate(steps):
            key = idempotency_key("t-return", "process_return", index)
            first = await call_tool_with_key(session, tool, args, key)
            assert not first.isError, _text(first)
            again = await call_tool_with_key(session, tool, args, key)
            assert not again.isError and was_replayed(again) and _text(again) == _text(first), tool
    with RetailStore.open(db_path) as store:
        final = order(store, order_id)
        assert final["status"] == "returned"
        assert [e["transaction_type"] for e in final["payment_history"]] == ["payment", "refund"]
        assert len([n for n in store.notifications(MIA.user_id) if n["message"] == "Refunded."]) == 1
        assert store.recorded_call_count() == len(steps)


async def test_a_key_reused_for_other_arguments_is_refused_and_changes_nothing(db_path: Path) -> None:
    key = idempotency_key("t-conflict", "notify", "call-1")
    async with _session(db_path) as session:
        first = await call_tool_with_key(session, "notify_customer", {"user_id": MIA.user_id, "message": "one"}, key)
        other = await call_tool_with_key(session, "notify_customer", {"user_id": MIA.user_id, "message": "two"}, key)
        other_tool = await call_tool_with_key(
            session, "cancel_pending_order", {"order_id": MIA.orders["pending"], "reason": "no longer needed"}, key
        )
    assert not first.isError
    assert other.isError and "cannot be reused" in _text(other) and "nothing was changed" in _text(other)
    assert other_tool.isError and "first used for notify_customer" in _text(other_tool)
    with RetailStore.open(db_path) as store:
        assert [n["message"] for n in store.notifications(MIA.user_id)][-1] == "one"
        assert "two" not in [n["message"] for n in store.notifications(MIA.user_id)]
        assert order(store, MIA.orders["pending"])["status"] == "pending"


async def test_a_refused_keyed_call_records_nothing_and_can_run_once_allowed(db_path: Path) -> None:
    key = idempotency_key("t-refused", "notify", "call-1")
    args = {"user_id": MIA.user_id, "message": "   "}
    async with _session(db_path) as session:
        refused = await call_tool_with_key(session, "notify_customer", args, key)
        bad_key = await call_tool_with_key(session, "notify_customer", {**args, "message": "hi"}, "  ")
    assert refused.isError and "message is empty" in _text(refused)
    assert bad_key.isError and "non-empty string" in _text(bad_key)
    with RetailStore.open(db_path) as store:
        assert store.recorded_call_count() == 0
        assert "hi" not in [n["message"] for n in store.notifications(MIA.user_id)]


async def test_the_interceptor_keys_langchain_tool_calls(db_path: Path) -> None:
    message = "Your pickup is booked."

    async def send(tool: Any, call_id: str) -> ToolMessage:
        reply = await tool.ainvoke(
            {"type": "tool_call", "name": "notify_customer", "id": call_id,
             "args": {"user_id": MIA.user_id, "message": message}}
        )  # fmt: skip
        assert isinstance(reply, ToolMessage) and reply.status == "success"
        return reply

    async with _session(db_path) as session:
        tools = {t.name: t for t in await load_mcp_tools(session, tool_interceptors=[idempotency_interceptor(session)])}
        notify = tools["notify_customer"]
        with keyed_call(idempotency_key("t-lc", "notify", "call-1")):
            first = await send(notify, "call-1")
            again = await send(notify, "call-1")
        assert [b["text"] for b in again.content] == [b["text"] for b in first.content]  # type: ignore[index]
        with RetailStore.open(db_path) as store:
            assert [n["message"] for n in store.notifications(MIA.user_id)].count(message) == 1
        await send(notify, "call-2")  # outside a keyed block: a plain call, sent again
    with RetailStore.open(db_path) as store:
        assert [n["message"] for n in store.notifications(MIA.user_id)].count(message) == 2
        assert store.recorded_call_count() == 1
