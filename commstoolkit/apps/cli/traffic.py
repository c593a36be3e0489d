"""``commstoolkit traffic export``: a window of the account's messages into a Parquet dataset,
one partition per UTC day, resumable (``analysis.export_traffic``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ...models import MESSAGE_CHANNELS, MESSAGE_STATUSES
from .failures import CommandError
from .parsing import account_options, command
from .shared import client

__all__ = ["add_parser", "export"]


def add_parser(commands: Any) -> None:
    """``traffic`` and its command ``export``."""
    traffic = commands.add_parser("traffic", help="the account's message traffic")
    traffic_commands = traffic.add_subparsers(title="traffic commands", metavar="COMMAND")
    traffic.set_defaults(help_parser=traffic)
    parser = command(
        traffic_commands,
        "export",
        export,
        help="write every message of a window into a Parquet dataset (resumable)",
        description="Write every message created in [--since, --until) into DIR as a "
        "Parquet dataset, one partition per UTC day (DIR/day=YYYY-MM-DD/part-0.parquet) "
        "and a manifest (_traffic.json). Run again with the same arguments after an "
        "interruption: complete days are kept, the rest are exported again. Read it back "
        "with ct.read_traffic(DIR), judge it with ct.traffic_health(ct.open_traffic(DIR)).",
    )
    parser.add_argument(
        "--since",
        required=True,
        help="the window's start: a length before --until ('7d', '24h', '2w'), a date "
        "(2025-06-01: midnight UTC) or an RFC 3339 time with its offset (2025-06-01T09:00:00Z)",
    )
    parser.add_argument(
        "--until",
        help="the window's end (exclusive): a date or an RFC 3339 time; default the server's now",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="the dataset's folder")
    parser.add_argument(
        "--channel", type=str.upper, choices=MESSAGE_CHANNELS, help="only this channel"
    )
    parser.add_argument(
        "--status", type=str.upper, choices=MESSAGE_STATUSES, help="only this status"
    )
    account_options(parser)


def export(args: argparse.Namespace) -> int:
    """Export the window; one line to stderr says what was written and kept."""
    from ...analysis import export_traffic, parse_window

    parse_window(args.since, args.until)  # a bad window is one line before anything else
    if args.output.exists() and not args.output.is_dir():
        raise CommandError(f"-o {args.output} is a file; name a folder (made if missing)")
    if not args.output.parent.is_dir():
        raise CommandError(f"-o {args.output}: the folder {args.output.parent} does not exist")
    with client(args) as account:
        result = export_traffic(
            account,
            args.since,
            args.until,
            args.output,
            channel=args.channel,
            status=args.status,
            progress=sys.stderr.isatty() or None,
        )
    print(f"Exported {result}", file=sys.stderr)
    return 0
