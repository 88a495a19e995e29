"""Signed checkpoints: state planted in the checkpoint store is refused before anything acts on it.

The attacker here can write ``checkpoints.sqlite`` but cannot read the data
directory's key: they decode a stored value, change it, and write it back,
either unsigned (what any tool without the key writes) or under its old tag.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.types import Interrupt

from switchboard.checkpoints import open_checkpointer
from switchboard.checkpoints.signing import SUFFIX, SignedSerializer, checkpoint_key, is_signed
from switchboard.cli import main
from switchboard.domains.retail import RetailStore
from switchboard.errors import CheckpointTampered, ConfigError
from switchboard.runs import read_thread, resume_run, start_run
from switchboard.settings import Settings
from switchboard.sweeper import sweep
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route
from switchboard.threads import list_threads

pytestmark = pytest.mark.usefixtures("principals")  # alice and her key (tests/conftest.py)

_PLAIN = JsonPlusSerializer()


def test_a_signed_value_reads_back_and_any_change_is_refused() -> None:
    signed = SignedSerializer(b"k" * 32, _PLAIN)
    kind, blob = signed.dumps_typed({"order": "#W1", "amount": 923.23})
    assert kind == "msgpack" + SUFFIX and signed.loads_typed((kind, blob)) == {"order": "#W1", "amount": 923.23}
    assert signed.loads_typed(signed.dumps_typed(None)) is None

    flipped = bytearray(blob)
    flipped[3] ^= 1
    unsigned = _PLAIN.dumps_typed({"order": "#W2", "amount": 1.0})
    forged = [
        (kind, bytes(flipped)),  # content changed under the old tag
        unsigned,  # written without the key
        ("bytes" + SUFFIX, blob),  # same bytes and tag, read as another type
        (kind, blob[-10:]),  # cut short
        SignedSerializer(b"x" * 32, _PLAIN).dumps_typed({"order": "#W1", "amount": 923.23}),  # another key
    ]
    for value in forged:
        with pytest.raises(CheckpointTampered):
            signed.loads_typed(value)


def _refund_model(order_id: str, item_ids: list[str], method: str) -> ScriptedChatModel:
    return ScriptedChatModel(
        steps=[route("finance", "return all", skill="process_return"), finish()],
        agents={
            "finance": [
                call("find_user_id_by_email", email="mia.chen@example.com"),
                call("return_delivered_order_items", order_id=order_id, item_ids=item_ids, payment_method_id=method),
                handoff("Return requested."),
            ]
        },
    )


def _rewrite(db: Path, table: str, thread: str, change: Any, *, keep_tag: bool) -> None:
    """Decode the thread's newest stored value in ``table``, change it, write it back without the key."""
    column, only = ("checkpoint", "") if table == "checkpoints" else ("value", "AND channel = '__interrupt__' ")
    with sqlite3.connect(db) as conn:
        rowid, kind, blob = conn.execute(
            f"SELECT rowid, type, {column} FROM {table} WHERE thread_id = ? AND checkpoint_ns = '' "
            f"AND type LIKE 'msgpack%' {only}"
            "ORDER BY checkpoint_id DESC, rowid DESC LIMIT 1",
            (thread,),
        ).fetchone()
        assert kind.endswith(SUFFIX)  # what Switchboard wrote is signed
        value = _PLAIN.loads_typed((kind.removesuffix(SUFFIX), blob[:-32]))
        new_kind, body = _PLAIN.dumps_typed(change(value))
        assert body != blob[:-32]  # a real change
        if keep_tag:
            new_kind, body = kind, body + blob[-32:]
        conn.execute(f"UPDATE {table} SET type = ?, {column} = ? WHERE rowid = ?", (new_kind, body, rowid))


@pytest.mark.parametrize("keep_tag", [False, True], ids=["unsigned", "old-tag"])
async def test_a_planted_checkpoint_stops_the_thread_and_no_other(
    settings: Settings,
    retail_db: Path,
    mia: Any,
    keep_tag: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    order_id = mia.orders["delivered_over_500"]
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
    assert order is not None
    items = [item["item_id"] for item in order["items"]]
    method = order["payment_history"][0]["payment_method_id"]
    paused = await start_run(
        "return all", thread_id="victim", settings=settings, model=_refund_model(order_id, items, method)
    )
    assert paused.status == "paused"  # the refund is above the limit: it waits for alice
    done = await start_run(
        "hello", thread_id="bystander", settings=settings, model=ScriptedChatModel(steps=[finish("hi")])
    )
    assert done.status == "completed"

    def lower_the_refund(asked: Any) -> Any:  # the pending question, as the approver reads it
        return [Interrupt(value={**i.value, "question": "Approve a $5.00 refund?"}, id=i.id) for i in asked]

    _rewrite(Path(settings.checkpoint_db), "writes", "victim", lower_the_refund, keep_tag=keep_tag)

    with pytest.raises(CheckpointTampered, match="signature"):
        await resume_run(
            "victim", approved=True, approver="alice", settings=settings, model=_refund_model(order_id, items, method)
        )
    with pytest.raises(CheckpointTampered):
        await read_thread("victim", settings=settings)
    with RetailStore.open(retail_db) as store:
        assert store.get_order(order_id)["status"] == "delivered"  # nothing ran on the planted state

    listed = {t.thread_id: t for t in await list_threads(settings=settings)}
    assert listed["victim"].status == "tampered" and "signature" in (listed["victim"].waiting_for or "")
    assert listed["bystander"].status == "completed"  # the other thread still reads
    swept = await sweep(settings)
    assert [(r.thread, r.action) for r in swept] == [("victim", "tampered")]
    monkeypatch.setenv("SWITCHBOARD_CHECKPOINT_DB", str(settings.checkpoint_db))
    assert await asyncio.to_thread(main, ["trace", "victim"]) == 0  # telemetry shows; why not the checkpoint
    assert "checkpoint refused" in capsys.readouterr().out


async def test_a_planted_tool_result_in_a_finished_thread_is_refused_on_the_next_turn(
    settings: Settings, retail_db: Path
) -> None:
    model = ScriptedChatModel(
        steps=[route("finance", "find the customer", skill="process_return"), finish()],
        agents={"finance": [call("find_user_id_by_email", email="mia.chen@example.com"), handoff("Found her.")]},
    )
    assert (await start_run("who am I?", thread_id="t", settings=settings, model=model)).status == "completed"

    def reassign(checkpoint: dict[str, Any]) -> dict[str, Any]:  # the handoff now names another customer
        for message in checkpoint["channel_values"]["messages"]:
            message.content = str(message.content).replace("Found her.", "Found her: user omar_rossi_1241.")
        return checkpoint

    _rewrite(Path(settings.checkpoint_db), "checkpoints", "t", reassign, keep_tag=False)
    with pytest.raises(CheckpointTampered, match="no signature"):
        await start_run("now cancel it", thread_id="t", settings=settings, model=ScriptedChatModel(steps=[finish()]))


async def test_only_a_key_opens_a_signed_store(settings: Settings, tmp_path: Path) -> None:
    await start_run("hello", thread_id="t", settings=settings, model=ScriptedChatModel(steps=[finish("hi")]))
    config: Any = {"configurable": {"thread_id": "t"}}
    async with open_checkpointer(settings.checkpoint_target, key=checkpoint_key(settings.data_dir)) as saver:
        assert is_signed(saver) and await saver.aget_tuple(config) is not None
    async with open_checkpointer(settings.checkpoint_target, key=checkpoint_key(tmp_path / "elsewhere")) as saver:
        with pytest.raises(CheckpointTampered):
            await saver.aget_tuple(config)


async def test_processes_with_different_data_directories_share_a_store_through_a_key_file(
    settings: Settings, tmp_path: Path
) -> None:
    key_file = tmp_path / "checkpoint.key"
    key_file.write_text("ab" * 32)
    writer = settings.model_copy(update={"home": tmp_path / "host-a", "checkpoint_key_file": key_file})
    reader = settings.model_copy(update={"home": tmp_path / "host-b", "checkpoint_key_file": key_file})
    await start_run("hello", thread_id="shared", settings=writer, model=ScriptedChatModel(steps=[finish("hi")]))
    assert (await read_thread("shared", settings=reader))["status"] == "completed"
    with pytest.raises(CheckpointTampered):  # without the shared file, host b's own key does not verify
        await read_thread("shared", settings=reader.model_copy(update={"checkpoint_key_file": None}))
    key_file.write_text("ab" * 8)
    with pytest.raises(ConfigError, match="at least 32"):
        writer.checkpoint_key()
