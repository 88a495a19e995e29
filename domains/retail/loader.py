"""Load a directory in the τ-bench retail schema into a retail database.

Any directory holding ``users.json``, ``orders.json`` and ``products.json`` in
the benchmark's schema can be loaded: the project's generated data, the
benchmark's own reference data, or a customer's export. Every record is
validated first, and the database is written to a temporary file that only
replaces the target once it is complete, so a failed load loses nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from switchboard.domains.retail.schema import Order, Product, User
from switchboard.domains.retail.store import Record, RetailStore
from switchboard.errors import DataError

DATA_FILES = ("users.json", "orders.json", "products.json")
"""The files a retail data directory must hold."""


@dataclass(frozen=True)
class LoadSummary:
    """What :func:`load_directory` wrote."""

    db_path: Path
    """The database file that now holds the data."""
    users: int
    """Number of users loaded."""
    orders: int
    """Number of orders loaded."""
    products: int
    """Number of products loaded."""


def load_directory(src_dir: str | Path, db_path: str | Path) -> LoadSummary:
    """Validate a τ-bench-style data directory and write it to a new database.

    ``db_path`` is replaced if it exists; until the new database is complete
    the old one is left untouched.

    Args:
        src_dir: Directory holding ``users.json``, ``orders.json`` and
            ``products.json``.
        db_path: The SQLite file to create or replace.

    Returns:
        The counts of what was loaded.

    Raises:
        DataError: A file is missing or not JSON, a record does not follow the
            schema, or records refer to users, products or payment methods
            that do not exist. The message names the file and the record.
    """
    src = Path(src_dir)
    if not src.is_dir():
        raise DataError(
            f"Retail data directory {str(src)!r} does not exist. Pass a directory holding "
            f"{', '.join(DATA_FILES)} (generate one with switchboard.domains.retail.generate_dataset)."
        )
    users = _validated(src / "users.json", User)
    products = _validated(src / "products.json", Product)
    orders = _validated(src / "orders.json", Order)
    _check_ids(src / "orders.json", orders, "order_id")
    _check_ids(src / "products.json", products, "product_id")
    _check_references(src / "orders.json", orders, users, products)

    target = Path(db_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with RetailStore.create(tmp) as store, store.transaction():
            store.put_users(users)
            store.put_products(products.values())
            store.put_orders(orders.values())
        tmp.chmod(0o644)  # mkstemp's private mode would make the database unreadable to others
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return LoadSummary(db_path=target, users=len(users), orders=len(orders), products=len(products))


def _read_json(path: Path) -> dict[str, Record]:
    """Read one data file, which must be a JSON object of records keyed by id."""
    if not path.is_file():
        raise DataError(
            f"Missing data file {str(path)!r}: a retail data directory needs "
            f"{', '.join(DATA_FILES)}."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{str(path)!r} is not valid JSON ({exc}); fix or regenerate it.") from exc
    if not isinstance(data, dict):
        raise DataError(
            f"{str(path)!r} must hold a JSON object mapping ids to records, "
            f"not a {type(data).__name__}."
        )
    return data


def _validated(path: Path, model: type[BaseModel]) -> dict[str, Record]:
    """Read a data file and validate every record against ``model``."""
    records = _read_json(path)
    for key, record in records.items():
        try:
            model.model_validate(record)
        except ValidationError as exc:
            raise DataError(
                f"Record {key!r} in {str(path)!r} does not follow the retail schema: "
                f"{_describe(exc)}. Fix the record or regenerate the data."
            ) from exc
    return records


def _describe(exc: ValidationError) -> str:
    """The first few validation problems, as ``field: message`` pairs."""
    problems = [
        f"{'.'.join(str(part) for part in err['loc']) or 'record'}: {err['msg']}"
        for err in exc.errors()[:3]
    ]
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")


def _check_ids(path: Path, records: dict[str, Record], id_field: str) -> None:
    """Each record's key must be its own id, or look-ups would miss it."""
    for key, record in records.items():
        if record[id_field] != key:
            raise DataError(
                f"Record {key!r} in {str(path)!r} has {id_field} {record[id_field]!r}; "
                "the key and the id must be equal."
            )


def _check_references(
    path: Path,
    orders: dict[str, Record],
    users: dict[str, Any],
    products: dict[str, Any],
) -> None:
    """Orders must point at users, products and payment methods that exist.

    The operations follow these references (for example to credit a gift
    card on a refund), so a dangling one would fail in the middle of a write.
    """
    for order_id, order in orders.items():
        user = users.get(order["user_id"])
        if user is None:
            raise DataError(
                f"Record {order_id!r} in {str(path)!r} belongs to unknown user "
                f"{order['user_id']!r}; add the user to users.json or drop the order."
            )
        for item in order["items"]:
            if item["product_id"] not in products:
                raise DataError(
                    f"Record {order_id!r} in {str(path)!r} has an item of unknown product "
                    f"{item['product_id']!r}; add the product to products.json."
                )
        for entry in order["payment_history"]:
            if entry["payment_method_id"] not in user["payment_methods"]:
                raise DataError(
                    f"Record {order_id!r} in {str(path)!r} uses payment method "
                    f"{entry['payment_method_id']!r}, which user {order['user_id']!r} "
                    "does not have; add it to the user's payment_methods."
                )
