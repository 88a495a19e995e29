"""The retail domain's commands: ``switchboard retail …`` and ``switchboard mcp retail``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: building the parser (`--help`) must stay light
    from rich.console import Console


def add_domain_commands(parser: argparse.ArgumentParser) -> None:
    """Register ``switchboard retail load|generate|demo-db``."""
    sub = parser.add_subparsers(dest="retail_command", required=True)
    load = sub.add_parser("load", help="load a τ-bench-schema directory into a SQLite database")
    load.add_argument("directory", type=Path)
    load.add_argument("--db", type=Path, required=True, help="database file (replaced if it exists)")
    load.set_defaults(handler=_load)
    gen = sub.add_parser("generate", help="write deterministic demo data in the τ-bench schema")
    gen.add_argument("directory", type=Path)
    gen.add_argument("--seed", type=int, default=7)
    gen.set_defaults(handler=_generate)
    demo = sub.add_parser("demo-db", help="(re)build the demo database")
    demo.add_argument("--db", type=Path, default=None)
    demo.set_defaults(handler=_demo_db)


def add_mcp_command(parser: argparse.ArgumentParser) -> None:
    """Register ``switchboard mcp retail --db PATH``."""
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.set_defaults(handler=_serve)


def _load(args: argparse.Namespace, console: Console) -> int:
    from switchboard.domains.retail.loader import load_directory

    summary = load_directory(args.directory, args.db)
    console.print(f"loaded {summary} into {args.db}")
    return 0


def _generate(args: argparse.Namespace, console: Console) -> int:
    from switchboard.domains.retail.generate import generate_dataset

    out = generate_dataset(args.directory, seed=args.seed)
    console.print(f"wrote users.json, orders.json and products.json to {out}")
    return 0


def _demo_db(args: argparse.Namespace, console: Console) -> int:
    from switchboard.domains.retail.demo import build_demo_db

    path = build_demo_db(args.db)
    console.print(f"demo database ready at {path}")
    return 0


def _serve(args: argparse.Namespace, console: Console) -> int:
    from switchboard.domains.retail.server import serve

    serve(args.db, transport=args.transport, host=args.host, port=args.port)
    return 0
