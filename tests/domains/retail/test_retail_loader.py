"""The loader and the store: validation, replacement, and whole-record round trips."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from switchboard.domains.retail import RetailOperations, RetailStore, generate_dataset, load_directory
from switchboard.errors import DataError
from tests.domains.retail.helpers import MIA, order


def _edit(data_dir: Path, name: str, change: Callable[[dict], None]) -> None:
    path = data_dir / name
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _order_ids(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT order_id FROM orders")}
    finally:
        conn.close()


def test_load_counts_and_round_trips_records_exactly(data_dir: Path, tmp_path: Path) -> None:
    summary = load_directory(data_dir, tmp_path / "db.sqlite")
    users = json.loads((data_dir / "users.json").read_text())
    orders = json.loads((data_dir / "orders.json").read_text())
    products = json.loads((data_dir / "products.json").read_text())
    assert (summary.users, summary.orders, summary.products) == (30, 60, len(products))
    with RetailStore.open(summary.db_path) as store:
        assert store.counts()["orders"] == 60
        for order_id, record in orders.items():
            # Same keys in the same order: the store keeps the JSON as loaded.
            assert json.dumps(store.get_order(order_id)) == json.dumps(record)
        for user_id, record in users.items():
            assert json.dumps(store.get_user(user_id)) == json.dumps(record)
        assert [p["product_id"] for p in store.products()] == list(products)


def test_load_replaces_an_existing_database(data_dir: Path, tmp_path: Path) -> None:
    db = load_directory(data_dir, tmp_path / "db.sqlite").db_path
    with RetailStore.open(db) as store:
        RetailOperations(store).cancel_pending_order(MIA.orders["pending"], "no longer needed")
    old_ids = _order_ids(db)
    other = generate_dataset(tmp_path / "other", seed=99, users=12, orders=20)
    summary = load_directory(other, db)
    with RetailStore.open(db) as store:
        assert store.counts()["orders"] == summary.orders == 20
        assert order(store, MIA.orders["pending"])["status"] == "pending"
    new_ids = _order_ids(db)
    assert old_ids - new_ids  # the random orders of the first dataset are gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "db.sqlite", "other"]


def test_failed_load_keeps_the_existing_database(data_dir: Path, tmp_path: Path) -> None:
    db = load_directory(data_dir, tmp_path / "db.sqlite").db_path
    before = db.read_bytes()
    _edit(data_dir, "orders.json", lambda d: d[MIA.orders["pending"]].update(status="lost"))
    with pytest.raises(DataError):
        load_directory(data_dir, db)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "db.sqlite"]


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist.*users\.json"):
        load_directory(tmp_path / "nowhere", tmp_path / "db.sqlite")
    assert not (tmp_path / "db.sqlite").exists()


def test_missing_file_is_named(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "orders.json").unlink()
    with pytest.raises(DataError, match=r"Missing data file .*orders\.json"):
        load_directory(data_dir, tmp_path / "db.sqlite")


def test_invalid_json_is_named(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "products.json").write_text("{not json")
    with pytest.raises(DataError, match=r"products\.json.*not valid JSON"):
        load_directory(data_dir, tmp_path / "db.sqlite")


def test_a_list_instead_of_an_object_is_refused(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "users.json").write_text("[]")
    with pytest.raises(DataError, match="must hold a JSON object"):
        load_directory(data_dir, tmp_path / "db.sqlite")


def test_bad_record_error_names_file_record_and_field(data_dir: Path, tmp_path: Path) -> None:
    order_id = MIA.orders["processed"]
    _edit(data_dir, "orders.json", lambda d: d[order_id]["items"][0].update(price="12.50"))
    with pytest.raises(DataError) as caught:
        load_directory(data_dir, tmp_path / "db.sqlite")
    message = str(caught.value)
    assert order_id in message and "orders.json" in message and "items.0.price" in message


def test_gift_card_without_balance_is_refused(data_dir: Path, tmp_path: Path) -> None:
    gift_card = MIA.payment_methods["gift_card"]
    _edit(
        data_dir,
        "users.json",
        lambda d: d[MIA.user_id]["payment_methods"][gift_card].pop("balance"),
    )
    with pytest.raises(DataError, match=rf"{MIA.user_id}.*has no 'balance'"):
        load_directory(data_dir, tmp_path / "db.sqlite")


def test_dangling_references_are_refused(data_dir: Path, tmp_path: Path) -> None:
    order_id = MIA.orders["pending"]
    _edit(data_dir, "orders.json", lambda d: d[order_id].update(user_id="nobody_here_0000"))
    with pytest.raises(DataError, match=rf"{order_id}.*unknown user 'nobody_here_0000'"):
        load_directory(data_dir, tmp_path / "db.sqlite")


def test_key_must_equal_the_record_id(data_dir: Path, tmp_path: Path) -> None:
    order_id = MIA.orders["pending"]
    _edit(data_dir, "orders.json", lambda d: d[order_id].update(order_id="#W0000001"))
    with pytest.raises(DataError, match="key and the id must be equal"):
        load_directory(data_dir, tmp_path / "db.sqlite")


def test_open_refuses_missing_or_foreign_databases(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        RetailStore.open(tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()
    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(DataError, match="not a retail database"):
        RetailStore.open(foreign)


def test_transaction_rolls_back_every_write(store: RetailStore, db_path: Path) -> None:
    before = store.get_order(MIA.orders["pending"])
    assert before is not None
    with pytest.raises(RuntimeError), store.transaction():
        store.put_order({**before, "status": "cancelled"})
        with store.transaction():  # nested: a savepoint inside the same transaction
            store.put_return_reason({"order_id": "#W1", "reason": "x", "category": "other"})
        raise RuntimeError("fail after the writes")
    assert store.get_order(MIA.orders["pending"]) == before
    assert store.get_return_reason("#W1") is None
    conn = sqlite3.connect(db_path)  # and another connection sees nothing either
    try:
        status = conn.execute("SELECT status FROM orders WHERE order_id = ?", [MIA.orders["pending"]]).fetchone()
    finally:
        conn.close()
    assert status == ("pending",)
