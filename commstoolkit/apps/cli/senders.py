"""``commstoolkit senders export``: every sender of the account as CSV, Parquet or JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ...models import SENDER_CHANNELS, SENDER_STATUSES
from .failures import CommandError
from .parsing import account_options, command
from .shared import check_output, client, write_frame

__all__ = ["EXPORT_FORMATS", "add_parser", "export"]

EXPORT_FORMATS = ("csv", "parquet", "json")


def add_parser(commands: Any) -> None:
    """``senders`` and its command ``export``."""
    senders = commands.add_parser("senders", help="the account's senders")
    senders_commands = senders.add_subparsers(title="senders commands", metavar="COMMAND")
    senders.set_defaults(help_parser=senders)
    parser = command(
        senders_commands,
        "export",
        export,
        help="write every sender (with one tags.<key> column per tag) as CSV, Parquet or JSON",
        description="Write the senders frame (load_senders: one row per sender, one "
        "tags.<key> column per tag key) to FILE, or to stdout for csv and json.",
    )
    parser.add_argument("--format", choices=EXPORT_FORMATS, default="csv", help="default csv")
    parser.add_argument(
        "--status",
        action="append",
        type=str.upper,
        choices=SENDER_STATUSES,
        help="only senders with this status (repeat for more)",
    )
    parser.add_argument(
        "--channel",
        action="append",
        type=str.upper,
        choices=SENDER_CHANNELS,
        help="only senders on this channel (repeat for more)",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="file to write (default stdout; parquet needs a file)"
    )
    account_options(parser)


def export(args: argparse.Namespace) -> int:
    """Write the senders frame to ``-o`` or stdout."""
    from ...frames import load_senders

    if args.format == "parquet" and args.output is None:
        raise CommandError("parquet needs -o FILE (it cannot go to stdout)")
    if args.output is not None:
        check_output(args.output, "-o")
    with client(args) as account:
        senders = load_senders(account, channel=args.channel, status=args.status, progress=False)
    write_frame(senders, args.format, args.output)
    if args.output is not None:
        print(f"Wrote {len(senders):,} senders to {args.output}", file=sys.stderr)
    return 0
