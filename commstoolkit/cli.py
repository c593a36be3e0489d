"""The ``commstoolkit`` command line."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from . import __version__

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return int(args.run(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commstoolkit",
        description="Twilio Communications API Sender Pools in a notebook (sandbox built in).",
    )
    parser.add_argument("--version", action="version", version=f"commstoolkit {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="run the inventory on a fresh sandbox and print what it holds"
    )
    demo.add_argument("--db", help="sandbox SQLite file (default: a fresh temporary one)")
    demo.add_argument("--seed", type=int, default=7, help="sandbox seed (default 7)")
    demo.add_argument("--senders", type=int, default=300, help="senders to seed (default 300)")
    demo.set_defaults(run=_demo)

    sandbox = commands.add_parser("sandbox", help="the embedded Communications API emulator")
    sandbox_commands = sandbox.add_subparsers(title="sandbox commands", metavar="COMMAND")
    serve = sandbox_commands.add_parser("serve", help="serve the sandbox over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8787, help="port (default 8787)")
    serve.add_argument("--db", help="SQLite file (default: the shared per-user sandbox file)")
    serve.add_argument("--seed", type=int, help="seed; reseeds the file if it differs")
    serve.add_argument("--senders", type=int, help="senders to seed; reseeds if it differs")
    serve.set_defaults(run=_serve)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from .sandbox.server import serve_command

    serve_command(host=args.host, port=args.port, db=args.db, seed=args.seed, senders=args.senders)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    if args.db:
        return run_demo(Path(args.db), seed=args.seed, senders=args.senders, out=sys.stdout)
    with tempfile.TemporaryDirectory(prefix="commstoolkit-demo-") as folder:
        db = Path(folder) / "sandbox.sqlite3"
        return run_demo(db, seed=args.seed, senders=args.senders, out=sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
