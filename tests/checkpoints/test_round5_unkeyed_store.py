"""Round 5: a signed checkpoint store opened without a key says so, and how to open it.

Before, LangGraph's serializer met the signed type and raised
``NotImplementedError: Unknown serialization type: msgpack+hmac-sha256``.
A store written without a key still opens without one, as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from switchboard.checkpoints import open_checkpointer, signing
from switchboard.checkpoints.signing import SUFFIX, is_signed
from switchboard.errors import ConfigError
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish

pytestmark = pytest.mark.usefixtures("principals")  # the data directory and its keys (tests/conftest.py)

CONFIG: Any = {"configurable": {"thread_id": "t"}}


class State(TypedDict):
    count: int


async def test_a_signed_store_opened_without_a_key_says_how_to_open_it(settings: Settings) -> None:
    await start_run("hello", thread_id="t", settings=settings, model=ScriptedChatModel(steps=[finish("hi")]))
    async with open_checkpointer(settings.checkpoint_target) as saver:
        assert not is_signed(saver)
        with pytest.raises(ConfigError, match=r"signed.*key=Settings\(\)\.checkpoint_key\(\)"):
            await saver.aget_tuple(CONFIG)
    async with open_checkpointer(settings.checkpoint_target, key=settings.checkpoint_key()) as saver:
        assert await saver.aget_tuple(CONFIG) is not None  # the way the message names


async def test_an_unsigned_store_opened_without_a_key_reads_as_before(tmp_path: Path) -> None:
    target = tmp_path / "plain.sqlite"
    async with open_checkpointer(target) as saver:
        kind, _ = saver.serde.dumps_typed({"a": 1})
        assert not kind.endswith(SUFFIX)
        assert saver.serde.loads_typed(saver.serde.dumps_typed({"a": 1})) == {"a": 1}
        assert saver.serde.loads_typed(("null", b"")) is None
        with pytest.raises(NotImplementedError):  # an unknown type is LangGraph's error, as before
            saver.serde.loads_typed(("nonsense", b""))
    builder: StateGraph[State] = StateGraph(State)
    builder.add_node("inc", lambda state: {"count": state["count"] + 1})
    builder.add_edge(START, "inc")
    builder.add_edge("inc", END)
    async with open_checkpointer(target) as saver:
        assert (await builder.compile(checkpointer=saver).ainvoke({"count": 1}, CONFIG))["count"] == 2
    async with open_checkpointer(target) as saver:  # reopened, without a key, it reads what it wrote
        state = await builder.compile(checkpointer=saver).aget_state(CONFIG)
        assert state.values == {"count": 2}


def test_the_reader_keeps_the_serializers_settings() -> None:
    inner = JsonPlusSerializer(pickle_fallback=True, allowed_msgpack_modules=[("mymod", "Thing")])
    reader = signing.UnkeyedSerializer.like(inner)
    assert isinstance(reader, JsonPlusSerializer)  # so LangGraph still merges a graph's msgpack allowlist into it
    assert reader.pickle_fallback and vars(reader) == vars(inner)
    merged = reader.with_msgpack_allowlist([("other", "Kind")])
    assert isinstance(merged, signing.UnkeyedSerializer)
    with pytest.raises(ConfigError, match="signed"):
        merged.loads_typed(("msgpack" + SUFFIX, b"\x00" * 40))
