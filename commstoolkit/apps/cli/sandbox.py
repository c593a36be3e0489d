"""``commstoolkit sandbox serve``: the embedded Communications API emulator over HTTP."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .failures import EXIT_FAILED, CommandError
from .parsing import command, daily_messages, port, seed, senders, traffic_days
from .shared import check_db_file, open_sandbox

__all__ = ["add_parser", "check_port_free", "serve"]


def add_parser(commands: Any) -> None:
    """``sandbox`` and its command ``serve``."""
    sandbox = commands.add_parser("sandbox", help="the embedded Communications API emulator")
    sandbox_commands = sandbox.add_subparsers(title="sandbox commands", metavar="COMMAND")
    sandbox.set_defaults(help_parser=sandbox)
    parser = command(sandbox_commands, "serve", serve, help="serve the sandbox over HTTP")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=port, default=8787, help="port (default 8787; 0: any free port)"
    )
    parser.add_argument(
        "--db", type=Path, help="SQLite file (default: the shared per-user sandbox file)"
    )
    parser.add_argument(
        "--seed",
        type=seed,
        help="seed; a new file is seeded with it, a file seeded otherwise is reseeded unless "
        "it holds pools or messages (then --reset)",
    )
    parser.add_argument(
        "--senders", type=senders, help="senders to seed; as --seed when it differs"
    )
    parser.add_argument(
        "--traffic-days",
        type=traffic_days,
        help="days of production message history to seed before the sandbox clock's start "
        "(a new default file: 7; else none); as --seed when it differs",
    )
    parser.add_argument(
        "--daily-messages",
        type=daily_messages,
        help="messages a day of that history (default: the file's own, else 2000); as --seed "
        "when it differs",
    )
    parser.add_argument(
        "--latency",
        type=_latency,
        action="append",
        default=[],
        metavar="[ROUTE=]DUR",
        help="hold every API answer this long, like a network round trip (e.g. 100ms); "
        "ROUTE=DUR for paths starting with ROUTE (e.g. /v1/Messages=150ms); repeatable",
    )
    parser.add_argument(
        "--jitter", type=_duration, default=0.0, metavar="DUR", help="plus up to this, at random"
    )
    parser.add_argument(
        "--max-in-flight",
        type=_in_flight,
        metavar="N",
        help="answer 429 with Retry-After beyond N API requests in flight (a rate limit)",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="start the file over (with --seed / --senders, else as before): its pools and "
        "messages are lost",
    )


def serve(args: argparse.Namespace) -> int:
    """Serve the sandbox until interrupted."""
    from ...sandbox.server import serve_command

    if args.db is not None:
        check_db_file(args.db, must_exist=False)
    check_port_free(args.host, args.port)
    # Opened (seeded, reseeded, or refused) through connect() first: its errors are the
    # toolkit's, one line each; the server then finds the account as asked.
    traffic = (args.traffic_days, args.daily_messages)
    open_sandbox(args.db, args.seed, args.senders, reset=args.reset, traffic=traffic)
    db = None if args.db is None else str(args.db)
    serve_command(
        host=args.host,
        port=args.port,
        db=db,
        seed=args.seed,
        senders=args.senders,
        traffic_days=traffic[0],
        daily_messages=traffic[1],
        pacing=_pacing(args),
    )
    return 0


def _duration(text: str) -> float:
    from ...sandbox.server import parse_duration

    try:
        return parse_duration(text, "--jitter")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _latency(text: str) -> tuple[str | None, float]:
    from ...sandbox.server import parse_latency

    try:
        return parse_latency(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _in_flight(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--max-in-flight: {text!r} is not a whole number >= 1")
    return int(text)


def _pacing(args: argparse.Namespace) -> Any:
    """The server's ``Pacing`` from ``--latency``, ``--jitter`` and ``--max-in-flight``."""
    from ...sandbox.server import Pacing

    default = [seconds for route, seconds in args.latency if route is None]
    routes = {route: seconds for route, seconds in args.latency if route is not None}
    return Pacing(
        latency=default[-1] if default else 0.0,
        jitter=args.jitter,
        routes=routes,
        max_in_flight=args.max_in_flight,
    )


def check_port_free(host: str, port: int) -> None:
    """Bind ``host:port`` once, before opening the sandbox, so that a port in use is one
    line and not a half-started server."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        reason = error.strerror or str(error)
        raise CommandError(
            f"cannot listen on {host}:{port} ({reason}); choose another --port or --host",
            EXIT_FAILED,
        ) from error
