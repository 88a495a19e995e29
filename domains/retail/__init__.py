"""The retail domain: τ-bench's retail shop as a SQLite store and an MCP server.

Typical use::

    from switchboard.domains.retail import generate_dataset, load_directory, build_server

    data_dir = generate_dataset("data/retail")          # or τ-bench's own data
    load_directory(data_dir, "retail.sqlite")
    build_server("retail.sqlite").run()                 # or: python -m switchboard.domains.retail.server

:class:`RetailOperations` holds the business rules (one method per tool);
:mod:`switchboard.domains.retail.server` only translates them to MCP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.domains.retail._returns import RETURN_REASON_CATEGORIES, RETURN_STATUSES, categorize_reason
from switchboard.domains.retail.generate import DEMO_PERSONAS, DemoPersona, generate_dataset
from switchboard.domains.retail.loader import LoadSummary, load_directory
from switchboard.domains.retail.operations import CANCEL_REASONS, RetailOperations
from switchboard.domains.retail.schema import Order, OrderStatus, Product, User
from switchboard.domains.retail.store import RetailStore

if TYPE_CHECKING:
    from switchboard.domains.retail.server import TOOL_NAMES, build_server, serve

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
    and make ``python -m switchboard.domains.retail.server`` import its module twice.
    """
    if name in ("TOOL_NAMES", "build_server", "serve"):
        from switchboard.domains.retail import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
