"""SQLite persistence for the retail domain, through ``sqlite-utils``.

Each benchmark record (user, order, product) is stored whole, as the JSON it
was loaded from, next to the few key columns the look-ups search on. Whole
records keep the store faithful to the benchmark's data (key order, number
formats), while key columns keep look-ups from scanning JSON.

Three extension tables hold what the benchmark has no place for:
``return_reasons``, ``pickups`` and ``notifications``. A fourth,
``idempotency_keys``, is the server's record of keyed calls (see
:mod:`switchboard.domains.retail.ledger`); databases made before it existed
get it when opened.

Writes go through :meth:`RetailStore.transaction`, which takes SQLite's write
lock *before* the operation reads, so a check and the write it guards cannot
interleave with another writer, and a failed check leaves nothing behind.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import sqlite_utils

from switchboard.errors import DataError

Record = dict[str, Any]
"""A benchmark record as plain JSON data."""

_TABLES: dict[str, tuple[dict[str, type], str]] = {
    "users": (
        {
            "user_id": str,
            "email_lower": str,
            "first_name_lower": str,
            "last_name_lower": str,
            "zip": str,
            "data": str,
        },
        "user_id",
    ),
    "orders": ({"order_id": str, "user_id": str, "status": str, "data": str}, "order_id"),
    "products": ({"product_id": str, "name": str, "data": str}, "product_id"),
    "return_reasons": ({"order_id": str, "reason": str, "category": str}, "order_id"),
    "pickups": (
        {
            "order_id": str,
            "tracking_id": str,
            "pickup_date": str,
            "status": str,
            "restocked_item_ids": str,
        },
        "order_id",
    ),
    "notifications": (
        {"notification_id": int, "user_id": str, "message": str, "created_at": str},
        "notification_id",
    ),
}

_LEDGER_DDL = (
    "CREATE TABLE IF NOT EXISTS idempotency_keys (key TEXT PRIMARY KEY, tool TEXT NOT NULL, "
    "arguments TEXT NOT NULL, result TEXT NOT NULL, created_at TEXT NOT NULL)"
)

_INDEXES = (
    ("users", ["email_lower"]),
    ("users", ["first_name_lower", "last_name_lower", "zip"]),
    ("orders", ["user_id"]),
)


class RetailStore:
    """The retail database: whole records by id, plus the extension tables.

    Build one with :meth:`open` (an existing database) or :meth:`create` (a new
    one, used by the loader). All access is serialised by a re-entrant lock, so
    one store may be shared by threads (LangGraph runs sync tools in a pool).
    """

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        """Wrap an open database; prefer :meth:`open` or :meth:`create`."""
        self._db = db
        self._lock = threading.RLock()
        self.path = path
        """The database file."""

    @classmethod
    def open(cls, db_path: str | Path) -> Self:
        """Open an existing retail database.

        Raises:
            DataError: The file does not exist or lacks the retail tables. An
                empty database is never created here, because a server on a
                mistyped path would otherwise serve an empty shop.
        """
        path = Path(db_path)
        if not path.is_file():
            raise DataError(
                f"Retail database {str(path)!r} does not exist. Create it with "
                "switchboard.domains.retail.load_directory(src_dir, db_path) or generate_dataset first."
            )
        db = sqlite_utils.Database(_connect(path))
        missing = sorted(set(_TABLES) - set(db.table_names()))
        if missing:
            db.close()
            raise DataError(
                f"{str(path)!r} is not a retail database (missing tables: "
                f"{', '.join(missing)}). Rebuild it with switchboard.domains.retail.load_directory."
            )
        db.execute(_LEDGER_DDL)
        return cls(db, path)

    @classmethod
    def create(cls, db_path: str | Path) -> Self:
        """Create a new, empty retail database at a path that must not exist yet."""
        path = Path(db_path)
        if path.exists() and path.stat().st_size > 0:
            raise DataError(f"Refusing to create a retail database over existing {str(path)!r}.")
        db = sqlite_utils.Database(_connect(path))
        with db.atomic():
            for name, (columns, pk) in _TABLES.items():
                db.table(name).create(columns, pk=pk, not_null=set(columns) - {pk})
            for table, index in _INDEXES:
                db.table(table).create_index(index)
            db.execute(_LEDGER_DDL)
        return cls(db, path)

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run a block atomically: all of its writes land, or none do.

        The outermost block starts with ``BEGIN IMMEDIATE`` so that the reads
        an operation checks its preconditions on cannot go stale before its
        writes. Nested blocks become savepoints.
        """
        with self._lock:
            conn = self._db.conn
            if conn.in_transaction:
                with self._db.atomic():
                    yield
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    # Whole benchmark records -------------------------------------------------

    def get_user(self, user_id: str) -> Record | None:
        """The user record, or ``None`` if there is no such user."""
        return self._get_data("users", "user_id", user_id)

    def get_order(self, order_id: str) -> Record | None:
        """The order record, or ``None`` if there is no such order."""
        return self._get_data("orders", "order_id", order_id)

    def get_product(self, product_id: str) -> Record | None:
        """The product record, or ``None`` if there is no such product."""
        return self._get_data("products", "product_id", product_id)

    def put_user(self, user_id: str, record: Record) -> None:
        """Insert or replace a user record."""
        self.put_users({user_id: record})

    def put_order(self, order: Record) -> None:
        """Insert or replace an order record (keyed by its ``order_id``)."""
        self.put_orders([order])

    def put_product(self, product: Record) -> None:
        """Insert or replace a product record (keyed by its ``product_id``)."""
        self.put_products([product])

    def put_users(self, users: dict[str, Record]) -> None:
        """Insert or replace many user records, keyed by user id, in order."""
        rows = (
            {
                "user_id": user_id,
                "email_lower": user["email"].lower(),
                "first_name_lower": user["name"]["first_name"].lower(),
                "last_name_lower": user["name"]["last_name"].lower(),
                "zip": user["address"]["zip"],
                "data": json.dumps(user),
            }
            for user_id, user in users.items()
        )
        self._upsert("users", "user_id", rows)

    def put_orders(self, orders: Iterable[Record]) -> None:
        """Insert or replace many order records, in order."""
        rows = (
            {
                "order_id": order["order_id"],
                "user_id": order["user_id"],
                "status": order["status"],
                "data": json.dumps(order),
            }
            for order in orders
        )
        self._upsert("orders", "order_id", rows)

    def put_products(self, products: Iterable[Record]) -> None:
        """Insert or replace many product records, in order."""
        rows = (
            {"product_id": p["product_id"], "name": p["name"], "data": json.dumps(p)}
            for p in products
        )
        self._upsert("products", "product_id", rows)

    def user_ids_by_email(self, email: str) -> list[str]:
        """Ids of users with this email, compared case-insensitively, in load order."""
        return self._column("users", "user_id", "email_lower = ?", [email.lower()])

    def user_ids_by_name_zip(self, first_name: str, last_name: str, zip_code: str) -> list[str]:
        """Ids of users with this name (any case) and exactly this zip, in load order."""
        return self._column(
            "users",
            "user_id",
            "first_name_lower = ? AND last_name_lower = ? AND zip = ?",
            [first_name.lower(), last_name.lower(), zip_code],
        )

    def products(self) -> list[Record]:
        """Every product record, in load order."""
        with self._lock:
            rows = self._db.execute("SELECT data FROM products ORDER BY rowid").fetchall()
        return [json.loads(row[0]) for row in rows]

    def counts(self) -> dict[str, int]:
        """Number of rows in each table, for summaries and checks."""
        with self._lock:
            return {name: self._db.table(name).count for name in _TABLES}

    # Extension tables ---------------------------------------------------------

    def get_pickup(self, order_id: str) -> Record | None:
        """The return pickup of an order, or ``None`` if none was scheduled."""
        row = self._get_row("pickups", "order_id", order_id)
        if row is not None:
            row["restocked_item_ids"] = json.loads(row["restocked_item_ids"])
        return row

    def put_pickup(self, pickup: Record) -> None:
        """Insert or replace the pickup of ``pickup["order_id"]``."""
        row = {**pickup, "restocked_item_ids": json.dumps(pickup["restocked_item_ids"])}
        self._upsert("pickups", "order_id", [row])

    def get_return_reason(self, order_id: str) -> Record | None:
        """The recorded return reason of an order, or ``None``."""
        return self._get_row("return_reasons", "order_id", order_id)

    def put_return_reason(self, record: Record) -> None:
        """Insert or replace the return reason of ``record["order_id"]``."""
        self._upsert("return_reasons", "order_id", [record])

    def return_reason_counts(self) -> dict[str, int]:
        """Number of recorded return reasons per category."""
        with self._lock:
            rows = self._db.execute(
                "SELECT category, COUNT(*) FROM return_reasons GROUP BY category ORDER BY category"
            ).fetchall()
        return {category: count for category, count in rows}

    def add_notification(self, user_id: str, message: str, created_at: str) -> Record:
        """Append a notification and return it with its new ``notification_id``."""
        row: Record = {"user_id": user_id, "message": message, "created_at": created_at}
        with self.transaction():
            table = self._db.table("notifications")
            table.insert(row)
            notification_id = table.last_pk
        return {"notification_id": notification_id, **row}

    def notifications(self, user_id: str | None = None) -> list[Record]:
        """Notifications in the order they were sent, optionally for one user."""
        where, params = ("WHERE user_id = ?", [user_id]) if user_id is not None else ("", [])
        with self._lock:
            cursor = self._db.execute(
                f"SELECT notification_id, user_id, message, created_at FROM notifications "
                f"{where} ORDER BY notification_id",
                params,
            )
            columns = [c[0] for c in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def recorded_call(self, key: str) -> Record | None:
        """The keyed call recorded under ``key``: tool, arguments, result; or ``None``."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT key, tool, arguments, result, created_at FROM idempotency_keys WHERE key = ?", [key]
            )
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([c[0] for c in cursor.description], row, strict=True))

    def record_call(self, key: str, tool: str, arguments: str, result: str, created_at: str) -> None:
        """Record a keyed call; call it inside the transaction of the call's effect."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO idempotency_keys (key, tool, arguments, result, created_at) VALUES (?, ?, ?, ?, ?)",
                [key, tool, arguments, result, created_at],
            )

    def recorded_call_count(self) -> int:
        """Number of keyed calls recorded, for checks."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone()[0])

    # Internals ----------------------------------------------------------------

    def _get_data(self, table: str, pk: str, key: str) -> Record | None:
        with self._lock:
            row = self._db.execute(f"SELECT data FROM {table} WHERE {pk} = ?", [key]).fetchone()
        return None if row is None else json.loads(row[0])

    def _get_row(self, table: str, pk: str, key: str) -> Record | None:
        with self._lock:
            cursor = self._db.execute(f"SELECT * FROM {table} WHERE {pk} = ?", [key])
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([c[0] for c in cursor.description], row, strict=True))

    def _column(self, table: str, column: str, where: str, params: list[str]) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {column} FROM {table} WHERE {where} ORDER BY rowid", params
            ).fetchall()
        return [row[0] for row in rows]

    def _upsert(self, table: str, pk: str, rows: Iterable[Record]) -> None:
        with self.transaction():
            self._db.table(table).upsert_all(rows, pk=pk)


def _connect(path: Path) -> sqlite3.Connection:
    """Open a connection usable from any thread; the store's lock serialises it."""
    return sqlite3.connect(str(path), check_same_thread=False)
