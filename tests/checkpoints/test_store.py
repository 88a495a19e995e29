"""The Store beside the checkpoints: one setting moves both, SQLite or Postgres."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TypedDict

import pytest
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

from switchboard.checkpoints import open_checkpointer, open_store


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "state" / "checkpoints.sqlite")
    url: str = request.getfixturevalue("postgres_url")
    return url


async def test_store_kinds_follow_the_target(target: str) -> None:
    async with open_store(target) as store:
        expected = "AsyncPostgresStore" if target.startswith("postgresql://") else "AsyncSqliteStore"
        assert type(store).__name__ == expected


async def test_items_outlive_the_session_that_wrote_them(target: str) -> None:
    namespace = ("customers", f"mia-{uuid.uuid4().hex[:8]}")
    async with open_store(target) as store:
        await store.aput(namespace, "preferences", {"refund_to": "gift card"})
        await store.aput(namespace, "tone", {"formal": False})
    async with open_store(target) as store:
        item = await store.aget(namespace, "preferences")
        assert item is not None and item.value == {"refund_to": "gift card"}
        found = await store.asearch(namespace)
        assert sorted(i.key for i in found) == ["preferences", "tone"]
        await store.adelete(namespace, "tone")
        assert await store.aget(namespace, "tone") is None


class _State(TypedDict):
    customer: str
    seen: int


async def _remember(state: _State, runtime: Runtime[None]) -> dict[str, int]:
    assert runtime.store is not None
    namespace = ("visits", state["customer"])
    previous = await runtime.store.aget(namespace, "count")
    count = (previous.value["n"] if previous else 0) + 1
    await runtime.store.aput(namespace, "count", {"n": count})
    return {"seen": count}


async def test_a_graph_shares_the_store_across_threads_next_to_its_checkpoints(target: str) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    builder = StateGraph(_State)
    builder.add_node("remember", _remember)
    builder.add_edge(START, "remember")
    async with open_checkpointer(target) as saver, open_store(target) as store:
        graph = builder.compile(checkpointer=saver, store=store)
        for thread in ("t-1", "t-2"):
            config = {"configurable": {"thread_id": f"{customer}-{thread}"}}
            result = await graph.ainvoke({"customer": customer, "seen": 0}, config)
        assert result["seen"] == 2  # the second thread saw the first thread's memory
        state = await graph.aget_state({"configurable": {"thread_id": f"{customer}-t-1"}})
        assert state.values["seen"] == 1
