"""``commstoolkit pools list``: every sender pool of the account."""

from __future__ import annotations

import argparse
from typing import Any

from .parsing import account_options, command
from .shared import client, write_frame

__all__ = ["POOL_COLUMNS", "POOL_FORMATS", "add_parser", "list_pools"]

POOL_FORMATS = ("table", "csv", "json")
POOL_COLUMNS = ["name", "pool_id", "size", "n_activated", "n_deactivated", "channels"]


def add_parser(commands: Any) -> None:
    """``pools`` and its command ``list``."""
    pools = commands.add_parser("pools", help="the account's sender pools")
    pools_commands = pools.add_subparsers(title="pools commands", metavar="COMMAND")
    pools.set_defaults(help_parser=pools)
    parser = command(
        pools_commands,
        "list",
        list_pools,
        help="print every pool: name, id, size, activated / deactivated, channels, tags",
    )
    parser.add_argument("--format", choices=POOL_FORMATS, default="table", help="default table")
    account_options(parser)


def list_pools(args: argparse.Namespace) -> int:
    """Print the pools as a table, csv or json."""
    from ...frames import load_pools

    with client(args) as account:
        pools = load_pools(account)
    columns = POOL_COLUMNS + [c for c in pools.columns if c.startswith("tags.")]
    pools = pools[columns]
    if args.format != "table":
        write_frame(pools, args.format, None)
    elif pools.empty:
        print("No sender pools.")
    else:
        print(pools.to_string(index=False, na_rep=""))
        print(f"\n{len(pools):,} pools, {int(pools['size'].sum()):,} memberships")
    return 0
