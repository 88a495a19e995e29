"""The guard asks a server "did this key already run?" only when the call may have run before.

The replay-only lookup (``Toolbox.already_done``) costs one MCP round trip
per keyed write. It is needed only when an earlier attempt of the step may
have sent the same key: a re-run after a crash, or a reassignment. The guard
records each call's decision, with its key, in the audit log before the call
runs, so a key no recorded decision names was never sent. The crash matrix
(``test_crash_matrix``) and ``test_reassigned_keys`` show the replays still
happen; here, that a first attempt asks nothing and a repeat asks once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints.audit import open_audit
from switchboard.domains.retail import RetailStore
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tools the guard asked ``already_done`` about (the real lookup still runs)."""
    asked: list[str] = []
    real = Toolbox.already_done

    async def spy(self: Toolbox, name: str, args: Any, key: str) -> bool:
        asked.append(name)
        return await real(self, name, args, key)

    monkeypatch.setattr(Toolbox, "already_done", spy)
    return asked


def _write(retail_db: Path, mia: Any) -> Any:
    order_id = mia.orders["delivered_under_500"]
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
    assert order is not None
    item_id, method = order["items"][0]["item_id"], order["payment_history"][0]["payment_method_id"]
    return call("return_delivered_order_items", order_id=order_id, item_ids=[item_id], payment_method_id=method)


def _return_model(retail_db: Path, mia: Any) -> ScriptedChatModel:
    """Finance finds Mia and requests the return of one item: one read, one keyed write."""
    return ScriptedChatModel(
        steps=[route("finance", "return it", skill="process_return"), finish("return requested")],
        agents={"finance": [call("find_user_id_by_email", email=mia.email), _write(retail_db, mia),
                            handoff("Return requested.")]},
    )  # fmt: skip


async def test_a_first_attempt_sends_no_replay_lookup(
    settings: Settings, retail_db: Path, mia: Any, lookups: list[str]
) -> None:
    model = _return_model(retail_db, mia)
    done = await start_run("return one item", thread_id="first-1", settings=settings, model=model)
    model.assert_complete()

    assert done.status == "completed" and done.outcome == "resolved", done
    assert lookups == []
    decisions = [e for e in open_audit(settings.data_dir).entries("first-1") if e.kind == "policy"]
    assert [d.payload["tool"] for d in decisions] == ["find_user_id_by_email", "return_delivered_order_items"]
    assert all(str(d.payload["key"]).startswith("sb1-") for d in decisions)  # the signal a repeat looks for


async def test_a_reassigned_step_looks_up_its_repeated_write_once(
    settings: Settings, retail_db: Path, mia: Any, lookups: list[str]
) -> None:
    write = _write(retail_db, mia)
    model = ScriptedChatModel(
        steps=[route("finance", "return it", skill="process_return"), finish("return requested")],
        agents={
            "finance": [call("find_user_id_by_email", email=mia.email), write,
                        handoff("Lost track of the order after the write.", status="unable")],
            "finance_backup": [call("find_user_id_by_email", email=mia.email), write, handoff("Return requested.")],
        },
    )  # fmt: skip
    done = await start_run("return one item", thread_id="again-1", settings=settings, model=model)
    model.assert_complete()

    assert done.status == "completed" and done.outcome == "resolved", done
    # The backup's repeated write, under the key finance sent; its repeated read is never looked up.
    assert lookups == ["return_delivered_order_items"]
    with RetailStore.open(retail_db) as store:
        assert store.get_order(mia.orders["delivered_under_500"])["status"] == "return requested"
        assert store.recorded_call_count() == 1


async def test_every_write_reaches_the_server_after_its_decision_is_on_disk(
    settings: Settings, retail_db: Path, mia: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp import ClientSession

    from switchboard.agents.idempotency import IDEMPOTENCY_META_KEY

    audit = open_audit(settings.data_dir)  # its own connection: sees only what was committed
    seen_at_send: dict[str, bool] = {}
    real = ClientSession.call_tool

    async def spy(self: ClientSession, name: str, arguments: Any = None, *args: Any, **kwargs: Any) -> Any:
        key = (kwargs.get("meta") or {}).get(IDEMPOTENCY_META_KEY)
        if key:
            seen_at_send[name] = bool(audit.seen_keys([key]))
        return await real(self, name, arguments, *args, **kwargs)

    monkeypatch.setattr(ClientSession, "call_tool", spy)
    model = _return_model(retail_db, mia)
    done = await start_run("return one item", thread_id="order-1", settings=settings, model=model)

    assert done.status == "completed", done
    # The write's decision was committed before the write left; a read's may follow it (it changes nothing).
    assert seen_at_send == {"find_user_id_by_email": False, "return_delivered_order_items": True}
    kinds = [(e.kind, e.payload.get("tool")) for e in audit.entries("order-1") if e.kind in ("policy", "tool_call")]
    assert kinds == [
        ("policy", "find_user_id_by_email"), ("tool_call", "find_user_id_by_email"),
        ("policy", "return_delivered_order_items"), ("tool_call", "return_delivered_order_items"),
    ]  # fmt: skip
    assert audit.verify().ok
