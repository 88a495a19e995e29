"""The retail operations as an MCP server (FastMCP), over stdio or streamable HTTP.

Every :class:`~switchboard.domains.retail.operations.RetailOperations` method becomes a
tool of the same name and arguments. The tool descriptions are what a model
reads to decide what to call, so each states its preconditions and effects.

A refused operation comes back as an MCP tool error whose text is the
:class:`~switchboard.errors.ToolError` message, so the agent can read why and
correct itself. A success comes back as JSON text; a plain string result (a
user id) stays a plain string, as in τ-bench.

Every mutating tool honours an idempotency key sent in the request's
``_meta`` (:data:`~switchboard.domains.retail.ledger.IDEMPOTENCY_META_KEY`): the
key is recorded in the write's own transaction, and a repeat returns the first
result without writing again (:mod:`switchboard.domains.retail.ledger`). A
keyed result says in its ``_meta`` whether it was replayed. Read-only tools
ignore the key: running them twice changes nothing.

Run it with ``python -m switchboard.domains.retail.server --db PATH``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.tools import Tool
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from switchboard.domains.retail.ledger import IDEMPOTENCY_META_KEY, REPLAY_META_KEY, REPLAY_ONLY_META_KEY, run_once
from switchboard.domains.retail.operations import RetailOperations
from switchboard.domains.retail.store import RetailStore
from switchboard.errors import ConfigError, SwitchboardError, ToolError

Transport = Literal["stdio", "streamable-http"]

_CONFIRM = " Get the customer's explicit confirmation first."

# (tool name, description, read-only?)
_TOOLS: tuple[tuple[str, str, bool], ...] = (
    ("find_user_id_by_email",
     "Find a user's id by email (case-insensitive). Fails if no user has that email.", True),
    ("find_user_id_by_name_zip",
     "Find a user's id by first and last name (case-insensitive) and exact zip code; use it "
     "only when the email is unknown. Fails if no user matches.", True),
    ("get_user_details",
     "Get a user's record: name, default address, email, payment methods (gift cards with "
     "their balance) and order ids.", True),
    ("get_order_details",
     "Get an order's record: items (item id, price, options), status, fulfillments with "
     "tracking ids, and payment history.", True),
    ("get_product_details",
     "Get a product's record: each variant's item id, options, price and availability.", True),
    ("list_all_product_types",
     "List every product type as {product name: product_id}, sorted by name.", True),
    ("calculate",
     "Evaluate an arithmetic expression of digits, + - * / ( ) . and spaces; returns the "
     "result rounded to 2 decimals.", True),
    ("transfer_to_human_agents",
     "Hand the customer to a human agent with a summary of the issue; only if the customer "
     "asks for a human or the issue cannot be resolved with these tools.", True),
    ("cancel_pending_order",
     "Cancel a 'pending' order for reason 'no longer needed' or 'ordered by mistake': status "
     "becomes 'cancelled' and each payment is refunded (gift cards at once, other methods in "
     "5-7 business days)." + _CONFIRM, False),
    ("modify_pending_order_address",
     "Replace the shipping address of a 'pending' order." + _CONFIRM, False),
    ("modify_user_address",
     "Replace a user's default address; existing orders keep theirs." + _CONFIRM, False),
    ("modify_pending_order_payment",
     "Move the single payment of a 'pending' order to another of the user's payment methods "
     "(a gift card must cover the amount): charges the new method, refunds the old one."
     + _CONFIRM, False),
    ("modify_pending_order_items",
     "Swap items of a 'pending' order for available variants of the same products, all in "
     "one call; the price difference is charged or refunded to payment_method_id (a gift "
     "card must cover a charge); status becomes 'pending (item modified)', after which the "
     "order can no longer be modified or cancelled." + _CONFIRM, False),
    ("return_delivered_order_items",
     "Request the return of items of a 'delivered' order (once per order), refunded later to "
     "the original payment method or a gift card; status becomes 'return requested'."
     + _CONFIRM, False),
    ("exchange_delivered_order_items",
     "Request the exchange of items of a 'delivered' order for available variants of the "
     "same products (once per order, all items in one call); the price difference is settled "
     "with payment_method_id (a gift card must cover it); status becomes 'exchange "
     "requested'." + _CONFIRM, False),
    ("quote_return_refund",
     "Price the refund for returning items of a 'delivered' order without changing "
     "anything; returns {order_id, item_ids, amount, paid, original_payment_method_id}.", True),
    ("quote_cancel_refund",
     "Price cancelling a 'pending' order without changing anything; returns {order_id, amount, "
     "paid, refunds: {payment_method_id: amount}}.", True),
    ("quote_item_change",
     "Price swapping items of a 'pending' (item change) or 'delivered' (exchange) order for "
     "other variants, without changing anything; returns {order_id, difference (new minus "
     "old), amount (its size), direction, paid}.", True),
    ("quote_payment_change",
     "Price moving a 'pending' order's payment to another of the user's payment methods, "
     "without changing anything; returns {order_id, amount, paid, from_payment_method_id, "
     "to_payment_method_id}.", True),
    ("schedule_return_pickup",
     "Book the courier pickup for a 'return requested' or 'exchange requested' order that "
     "has none yet; pickup_date is YYYY-MM-DD, today or later (default tomorrow); records "
     "return_pickup with a tracking id.", False),
    ("receive_returned_items",
     "Mark the items of a 'return requested' order whose pickup is scheduled as received and "
     "back in stock; status becomes 'return received'.", False),
    ("issue_return_refund",
     "Refund the returned items of a 'return received' order to the payment method chosen "
     "for the return (gift cards at once); status becomes 'returned'; never twice.", False),
    ("record_return_reason",
     "Record why the customer returns or exchanges an order (return/exchange requested, "
     "received or returned), with a category; recording again replaces the reason.", False),
    ("get_return_reason_stats",
     "Count the recorded return reasons: {total, categories: {category: count}}.", True),
    ("notify_customer",
     "Send a non-empty message to an existing user; it is logged and returned.", False),
)  # fmt: skip

TOOL_NAMES: tuple[str, ...] = tuple(name for name, _, _ in _TOOLS)
"""Names of every tool the server exposes, one per retail operation."""

_ADDRESS = {
    "address1": "First address line, such as '123 Main St'.",
    "address2": "Second address line, such as 'Apt 1', or ''.",
    "city": "City, such as 'San Francisco'.",
    "state": "State, such as 'CA'.",
    "country": "Country, such as 'USA'.",
    "zip": "Zip code, such as '94105'.",
}
_PARAMETERS = {
    **_ADDRESS,
    "email": "Email address, such as 'mia.chen@example.com'.",
    "first_name": "First name, such as 'Mia'.",
    "last_name": "Last name, such as 'Chen'.",
    "user_id": "User id, such as 'mia_chen_4817'.",
    "order_id": "Order id, such as '#W0000000'; mind the leading '#'.",
    "product_id": "Product id, such as '1001115019'.",
    "expression": "Arithmetic expression, such as '(25.5 + 4) * 2'.",
    "summary": "Summary of the customer's issue for the human agent.",
    "reason": "The reason, in the customer's words or one of the allowed values.",
    "item_ids": "Item ids from the order, such as '1008292230'; repeat an id to act on "
    "several units of it.",
    "new_item_ids": "Replacement item ids, one per entry of item_ids in the same order, each "
    "an available variant of the same product.",
    "payment_method_id": "One of the user's payment method ids, such as 'gift_card_0000000' "
    "or 'credit_card_0000000'.",
    "pickup_date": "Pickup date as YYYY-MM-DD, today or later; omit for tomorrow.",
    "message": "The message to send to the customer.",
}


def build_server(db_path: str | Path, *, host: str = "127.0.0.1", port: int = 8765) -> FastMCP:
    """Build the retail MCP server over an existing database.

    Args:
        db_path: A database made by :func:`~switchboard.domains.retail.loader.load_directory`.
        host: Interface for the streamable-HTTP transport.
        port: Port for the streamable-HTTP transport.

    Raises:
        DataError: The database does not exist or is not a retail database.
            The server never creates an empty one.
    """
    operations = RetailOperations(RetailStore.open(db_path))
    tools = [_tool(operations, name, text, ro) for name, text, ro in _TOOLS]
    return FastMCP(
        "switchboard-retail",
        instructions="Retail customer service: look up users, orders and products; cancel, "
        "modify, return and exchange orders; run the return process.",
        tools=tools,
        host=host,
        port=port,
        log_level="WARNING",
    )


def serve(
    db_path: str | Path,
    transport: Transport = "stdio",
    host: str = "127.0.0.1",
    port: int = 8765,
) -> None:
    """Serve the retail tools until the client disconnects or the process stops."""
    if transport not in ("stdio", "streamable-http"):
        raise ConfigError(f"Unknown transport {transport!r}: use 'stdio' or 'streamable-http'.")
    build_server(db_path, host=host, port=port).run(transport)


def _tool(operations: RetailOperations, name: str, description: str, read_only: bool) -> Tool:
    """Wrap one operation as a tool with the operation's own typed signature."""
    method: Callable[..., Any] = getattr(operations, name)

    def call(ctx: Context[Any, Any, Any], **arguments: Any) -> CallToolResult | str:
        try:
            key = None if read_only else _request_key(ctx)
            if key is None:
                return _text(method(**arguments))
            if _replay_only(ctx):
                return _recorded(operations.store, key)
            keyed = run_once(operations.store, key, name, arguments, lambda: _text(method(**arguments)))
        except SwitchboardError as exc:
            return CallToolResult(content=[TextContent(type="text", text=str(exc))], isError=True)
        return CallToolResult(
            content=[TextContent(type="text", text=keyed.text)],
            _meta={REPLAY_META_KEY: {"key": key, "replayed": keyed.replayed}},
        )

    signature = inspect.signature(method, eval_str=True)
    context = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*(_described(parameter) for parameter in signature.parameters.values()), context],
        return_annotation=str,
    )
    call.__name__ = name
    return Tool.from_function(
        call,
        name=name,
        description=description,
        context_kwarg="ctx",
        annotations=ToolAnnotations(readOnlyHint=read_only, openWorldHint=False),
        structured_output=False,
    )


def _text(result: Any) -> str:
    return result if isinstance(result, str) else json.dumps(result)


def _request_key(ctx: Context[Any, Any, Any]) -> str | None:
    """The idempotency key in the request's ``_meta``, if the client sent one."""
    try:
        meta = ctx.request_context.meta
    except ValueError:  # called in-process, outside an MCP request
        return None
    key = (meta.model_extra or {}).get(IDEMPOTENCY_META_KEY) if meta is not None else None
    if key is None:
        return None
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise ToolError(
            f"_meta[{IDEMPOTENCY_META_KEY!r}] must be a non-empty string of at most 200 characters; "
            "nothing was changed. Send the key from switchboard.agents.idempotency.idempotency_key."
        )
    return key


def _replay_only(ctx: Context[Any, Any, Any]) -> bool:
    """Whether the client only asks for the record of its key (``_meta``), never the effect."""
    meta = ctx.request_context.meta
    return meta is not None and (meta.model_extra or {}).get(REPLAY_ONLY_META_KEY) is True


def _recorded(store: RetailStore, key: str) -> CallToolResult:
    """The recorded result of ``key``, or an error saying there is none; nothing runs either way."""
    seen = store.recorded_call(key)
    if seen is None:
        text = "No call is recorded under this idempotency key; nothing was done."
        return CallToolResult(
            content=[TextContent(type="text", text=text)], isError=True,
            _meta={REPLAY_META_KEY: {"key": key, "replayed": False}},
        )  # fmt: skip
    return CallToolResult(
        content=[TextContent(type="text", text=str(seen["result"]))],
        _meta={REPLAY_META_KEY: {"key": key, "replayed": True}},
    )


def _described(parameter: inspect.Parameter) -> inspect.Parameter:
    """The parameter, its type annotated with the description a model reads."""
    text = _PARAMETERS[parameter.name]
    return parameter.replace(annotation=Annotated[parameter.annotation, Field(description=text)])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m switchboard.domains.retail.server --db PATH [--transport ...]``."""
    parser = argparse.ArgumentParser(
        prog="python -m switchboard.domains.retail.server", description="Serve the retail tools over MCP."
    )
    parser.add_argument("--db", type=Path, required=True, help="retail database (must exist)")
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    try:
        serve(args.db, transport=args.transport, host=args.host, port=args.port)
    except SwitchboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
