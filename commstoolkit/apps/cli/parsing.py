"""What every command's arguments share: the parser (a usage error as one line), the
``--verbose`` accepted after a command, the argument types and the account options."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from .failures import EXIT_USAGE

__all__ = [
    "MAX_SEED",
    "MAX_SENDERS",
    "Parser",
    "account_options",
    "command",
    "daily_messages",
    "integer",
    "port",
    "seconds",
    "seed",
    "senders",
    "set_usage_status",
    "traffic_days",
]

MAX_SEED = 2**63 - 1  # the sandbox's limits (sandbox.state.seed), checked up front
MAX_SENDERS = 1_000_000


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (what is wrong, where to read more).

    A usage error exits with ``usage_status`` (2), unless the command sets another with
    ``set_usage_status`` (``pools plan`` keeps 2 for "changes pending")."""

    usage_status = EXIT_USAGE

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(self.usage_status, f"{self.prog}: error: {text} (see '{self.prog} --help')\n")

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        """As argparse, with the exit status of the command for options it does not know."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            status = getattr(parsed, "usage_status", self.usage_status)
            text = f"unrecognized arguments: {' '.join(extras)}"
            self.exit(status, f"{self.prog}: error: {text} (see '{self.prog} --help')\n")
        return parsed


def set_usage_status(parser: Parser, status: int) -> None:
    """Make ``parser`` (a command's) answer a command line it cannot read with ``status``."""
    parser.usage_status = status
    parser.set_defaults(usage_status=status)


def _common() -> argparse.ArgumentParser:
    """``--verbose`` after the command too (it never resets one given before it)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an error (of a failing cell, for report)",
    )
    return common


def command(commands: Any, name: str, run: Callable[[argparse.Namespace], int], **kw: Any) -> Any:
    """Add the command ``name`` to ``commands`` (a subparsers action); ``run`` runs it."""
    parser = commands.add_parser(name, parents=[_common()], **kw)
    parser.set_defaults(run=run, prog=parser.prog)
    return parser


def integer(name: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""
    wanted = f"a whole number from {low}" + (f" to {high}" if high < 2**31 else "")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be {wanted}, got {value}")
        return value

    parse.__name__ = name  # argparse names the type in its messages
    return parse


seed = integer("seed", 0, MAX_SEED)
senders = integer("senders", 1, MAX_SENDERS)
port = integer("port", 0, 65_535)
traffic_days = integer("traffic-days", 0, 365)  # the sandbox's limits (simulation.history)
daily_messages = integer("daily-messages", 0, 1_000_000)


def seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected seconds above 0, got {text}")
    return value


def account_options(parser: argparse.ArgumentParser) -> None:
    """``--db``: the options of a command that reads an account."""
    parser.add_argument(
        "--db",
        type=Path,
        help="read this existing sandbox file (implies the sandbox; e.g. commstoolkit-demo/"
        "sandbox.sqlite3); it is never created. Default: the live account when TWILIO_* "
        "credentials are set, else the shared per-user sandbox",
    )
