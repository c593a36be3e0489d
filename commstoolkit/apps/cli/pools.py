"""``commstoolkit pools list``: every sender pool of the account; ``pools plan / apply /
export``: pools as code (a pool file, see ``commstoolkit.pools.pool_file``).

``plan -f FILE`` prints per pool what would change and exits 0 when nothing would, 2 when
something would (``EXIT_CHANGES``), 1 on any error — a bad file (one line with its
line:column), an account error, a command line it cannot read — so that a scheduled job
can tell drift from failure. ``apply -f FILE`` prints the same plan, then applies it:
with ``--yes``; without it a live account is refused, and the sandbox asks on the terminal
(a prompt on stderr when stdin is a terminal; refused when it is not, e.g. in a pipe or a
job). ``--prune`` (plan and apply) also plans deleting the account's pools the file does
not name, listed first. ``export [-o FILE]`` writes the account's pools as a pool file
(explicit sender ids, sorted), which plans no change.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import InvalidInputError
from .failures import EXIT_FAILED, CommandError
from .parsing import account_options, command, set_usage_status
from .shared import check_output, client, write_frame

if TYPE_CHECKING:
    from ... import CommsClient, PoolFilePlan

__all__ = [
    "EXIT_CHANGES",
    "POOL_COLUMNS",
    "POOL_FORMATS",
    "add_parser",
    "apply_file",
    "export_file",
    "list_pools",
    "plan_file",
]

# `pools plan`: something would change (0: nothing would; 1: an error).
EXIT_CHANGES = 2

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
    _file_commands(pools_commands)


def _file_commands(pools_commands: Any) -> None:
    """``plan``, ``apply`` and ``export``: pools as code."""
    plan = command(
        pools_commands,
        "plan",
        plan_file,
        help="show what applying a pool file would change (exit 0: nothing, 2: something)",
        description="Print, per pool of FILE, what would change (create / add / remove / "
        "rename / retag, with counts and the first ids); nothing is changed.",
        epilog="Exit status: 0 nothing would change, 2 something would, 1 an error (a bad "
        "file: one line with its line:column).",
    )
    apply = command(
        pools_commands,
        "apply",
        apply_file,
        help="show the plan of a pool file, then apply it",
        description="Print the plan of FILE, then apply it through plan_pool / "
        "PoolPlan.apply (wait, verify). A live account needs --yes; the sandbox asks on the "
        "terminal, or needs --yes when stdin is not one.",
        epilog="Exit status: 0 applied (or nothing to apply), 1 an error or not confirmed.",
    )
    for parser in (plan, apply):
        parser.add_argument("-f", "--file", type=Path, required=True, help="the pool file (YAML)")
        parser.add_argument(
            "--prune",
            action="store_true",
            help="also delete the account's pools the file does not name (listed first)",
        )
        account_options(parser)
        set_usage_status(parser, EXIT_FAILED)
    apply.add_argument(
        "-y", "--yes", action="store_true", help="apply without asking (needed for a live account)"
    )
    export = command(
        pools_commands,
        "export",
        export_file,
        help="write the account's pools as a pool file (explicit sender ids)",
        description="Write every pool of the account (name, id, tags, members as sender "
        "ids, sorted) as a pool file; `pools plan` on it finds nothing to change.",
    )
    export.add_argument("-o", "--output", type=Path, help="file to write (default stdout)")
    account_options(export)


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


def plan_file(args: argparse.Namespace) -> int:
    """Print the plan of a pool file; 0 when nothing would change, ``EXIT_CHANGES`` else."""
    _check_file(args.file)
    with client(args) as account:
        file_plan = _plan(account, args.file)
    print(file_plan.text(prune=args.prune))
    return EXIT_CHANGES if file_plan.changes(prune=args.prune) else 0


def apply_file(args: argparse.Namespace) -> int:
    """Print the plan of a pool file, confirm, apply it."""
    _check_file(args.file)
    with client(args) as account:
        file_plan = _plan(account, args.file)
        print(file_plan.text(prune=args.prune))
        changes = file_plan.changes(prune=args.prune)
        if not changes:
            print("Nothing to apply.")
            return 0
        _confirm(args, account, changes)
        applied = file_plan.apply(prune=args.prune, progress=True)
    deleted = len(file_plan.unlisted) if args.prune else 0
    done = "pool" if len(applied) == 1 else "pools"
    print(f"Applied: {len(applied):,} {done} created or changed, {deleted:,} deleted.")
    for pool in applied:
        print(f"  {pool.name!r} ({pool.id})")
    return 0


def export_file(args: argparse.Namespace) -> int:
    """Write the account's pools as a pool file to ``-o`` or stdout."""
    from ...pools import export_pool_file

    if args.output is not None:
        check_output(args.output, "-o")
    with client(args) as account:
        text = export_pool_file(account)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"Wrote the account's pools to {args.output}", file=sys.stderr)
    return 0


def _check_file(path: Path) -> None:
    """The file's own mistakes, found before connecting (so before any request)."""
    from ...pools import load_pool_file

    try:
        load_pool_file(path)
    except InvalidInputError as error:  # an error of the work (status 1), not of usage
        raise CommandError(str(error), EXIT_FAILED) from error


def _plan(account: CommsClient, path: Path) -> PoolFilePlan:
    """The plan of the file; what the account shows wrong in it is status 1 too."""
    from ...pools import plan_pool_file

    try:
        return plan_pool_file(account, path)
    except InvalidInputError as error:
        raise CommandError(str(error), EXIT_FAILED) from error


def _confirm(args: argparse.Namespace, account: CommsClient, changes: int) -> None:
    """Go ahead with ``--yes``; a live account needs it; the sandbox asks on a terminal."""
    if args.yes:
        return
    if account.live:
        raise CommandError(
            "nothing applied: this is a live account; check the plan above and run again "
            "with --yes to apply it",
            EXIT_FAILED,
        )
    if not sys.stdin.isatty():
        raise CommandError(
            "nothing applied: stdin is not a terminal, so nobody can confirm; run again "
            "with --yes to apply the plan above",
            EXIT_FAILED,
        )
    what = f"{changes:,} pool{'s' if changes != 1 else ''}"
    print(f"Apply these changes to {what} of the sandbox? [y/N] ", end="", file=sys.stderr)
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise CommandError("nothing applied (not confirmed)", EXIT_FAILED)
