"""The entry point: build the parser from the command groups, parse, run the command."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ... import __version__
from . import demo, pools, report, sandbox, senders, traffic
from .failures import EXIT_USAGE, run_command, stdout_to_devnull
from .parsing import Parser

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more can be shown, and that is fine.
        stdout_to_devnull()
        return 0


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        sys.stdout.flush()  # --help / --version into a closed pipe: BrokenPipeError above
        raise
    if not hasattr(args, "run"):
        (getattr(args, "help_parser", None) or parser).print_help()
        sys.stdout.flush()
        return EXIT_USAGE
    return run_command(args, getattr(args, "prog", parser.prog))


def build_parser() -> Parser:
    """``commstoolkit`` and its commands, in the order ``--help`` lists them."""
    parser = Parser(
        prog="commstoolkit",
        description="Twilio Communications API Sender Pools in a notebook (sandbox built in).",
        epilog="Exit status: 0 done, 1 the work failed, 2 a wrong command line (found before "
        "any work starts), 130 interrupted. Errors are one line; --verbose adds the traceback.",
    )
    parser.add_argument("--version", action="version", version=f"commstoolkit {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the traceback of an error"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for group in (demo, report, senders, pools, traffic, sandbox):
        group.add_parser(commands)
    return parser
