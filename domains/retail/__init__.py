"""The retail domain: τ-bench's retail shop as a SQLite store and an MCP server.

Typical use::

    from domains.retail import generate_dataset, load_directory, build_server

    data_dir = generate_dataset("data/retail")          # or τ-bench's own data
    load_directory(data_dir, "retail.sqlite")
    build_server("retail.sqlite").run()                 # or: python -m domains.retail.server

:class:`RetailOperations` holds the business rules (one method per tool);
:mod:`domains.retail.server` only translates them to MCP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domains.retail._returns import RETURN_REASON_CATEGORIES, RETURN_STATUSES, categorize_reason
from domains.retail.generate import DEMO_PERSONAS, DemoPersona, generate_dataset
from domains.retail.loader import LoadSummary, load_directory
from domains.retail.operations import CANCEL_REASONS, RetailOperations
from domains.retail.schema import Order, OrderStatus, Product, User
from domains.retail.store import RetailStore

if TYPE_CHECKING:
    from domains.retail.server import TOOL_NAMES, build_server, serve

__all__ = [
    "CANCEL_REASONS",
    "DEMO_PERSONAS",
    "RETURN_REASON_CATEGORIES",
    "RETURN_STATUSES",
    "TOOL_NAMES",
    "DemoPersona",
    "LoadSummary",
    "Order",
    "OrderStatus",
    "Product",
    "RetailOperations",
    "RetailStore",
    "User",
    "build_server",
    "categorize_reason",
    "generate_dataset",
    "load_directory",
    "serve",
]


def __getattr__(name: str) -> Any:
    """Import the MCP server only when asked for.

    Importing it eagerly would load the MCP SDK for every user of the store,
    and make ``python -m domains.retail.server`` import its module twice.
    """
    if name in ("TOOL_NAMES", "build_server", "serve"):
        from domains.retail import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
