"""The ``commstoolkit`` command line.

::

    commstoolkit demo [--out DIR] [--seed N] [--senders N]
    commstoolkit report NOTEBOOK [-p key=value ...] [-o OUT.html] [--executed OUT.ipynb]
    commstoolkit senders export [--format csv|parquet|json] [--status S] [--channel C] [-o FILE]
    commstoolkit pools list [--format table|csv|json]
    commstoolkit sandbox serve [--host H] [--port P] [--db PATH] [--seed N] [--senders N]

Everything that reads an account uses ``connect()``: the sandbox unless Twilio
credentials are set in the environment. Messages go to stderr, data to stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import CommsError
from .models import SENDER_CHANNELS, SENDER_STATUSES

if TYPE_CHECKING:
    import pandas as pd

    from . import CommsClient  # the public name: only connect() joins client and sandbox

__all__ = ["main"]

EXPORT_FORMATS = ("csv", "parquet", "json")
POOL_FORMATS = ("table", "csv", "json")
POOL_COLUMNS = ["name", "pool_id", "size", "n_activated", "n_deactivated", "channels"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        (getattr(args, "help_parser", None) or parser).print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except CommsError as error:
        print(f"commstoolkit: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("commstoolkit: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commstoolkit",
        description="Twilio Communications API Sender Pools in a notebook (sandbox built in).",
    )
    parser.add_argument("--version", action="version", version=f"commstoolkit {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _demo_parser(commands)
    _report_parser(commands)
    _senders_parser(commands)
    _pools_parser(commands)
    _sandbox_parser(commands)
    return parser


def _demo_parser(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the three notebooks on a fresh sandbox; write executed notebooks and reports",
        description="Seed a fresh sandbox account in the output folder, run the notebooks "
        "01_sender_inventory, 02_build_a_pool and 03_test_send on it headless, write each "
        "executed notebook and its standalone HTML report, and print the inventory.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("commstoolkit-demo"),
        help="output folder (default ./commstoolkit-demo); its sandbox.sqlite3 is replaced",
    )
    demo.add_argument("--seed", type=int, default=7, help="sandbox seed (default 7)")
    demo.add_argument("--senders", type=int, default=300, help="senders to seed (default 300)")
    demo.set_defaults(run=_demo)


def _report_parser(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="run a notebook with parameters and write its HTML report",
        description="Run NOTEBOOK headless in a fresh kernel, with parameters injected "
        "papermill-style (a cell tagged 'injected-parameters' after the cell tagged "
        "'parameters'), and write a standalone HTML report with interactive charts that "
        "work offline. Credentials come from the environment, never from parameters.",
    )
    report.add_argument("notebook", type=Path, help="the notebook (.ipynb) to run")
    report.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a parameter; VALUE is read as a Python literal (11, True, None, "
        "['SMS', 'RCS']) when it is one, else as text. Repeat for more",
    )
    report.add_argument(
        "-o", "--output", type=Path, help="the HTML report (default: NOTEBOOK's name, .html)"
    )
    report.add_argument("--executed", type=Path, help="also write the executed notebook here")
    report.add_argument("--hide-code", action="store_true", help="leave code cells out")
    report.add_argument(
        "--timeout", type=float, default=600.0, help="seconds allowed per cell (default 600)"
    )
    report.add_argument(
        "-v", "--verbose", action="store_true", help="print the full traceback of a failing cell"
    )
    report.set_defaults(run=_report)


def _senders_parser(commands: Any) -> None:
    senders = commands.add_parser("senders", help="the account's senders")
    senders_commands = senders.add_subparsers(title="senders commands", metavar="COMMAND")
    senders.set_defaults(help_parser=senders)
    export = senders_commands.add_parser(
        "export",
        help="write every sender (with one tags.<key> column per tag) as CSV, Parquet or JSON",
        description="Write the senders frame (load_senders: one row per sender, one "
        "tags.<key> column per tag key) to FILE, or to stdout for csv and json.",
    )
    export.add_argument("--format", choices=EXPORT_FORMATS, default="csv", help="default csv")
    export.add_argument(
        "--status",
        action="append",
        type=str.upper,
        choices=SENDER_STATUSES,
        help="only senders with this status (repeat for more)",
    )
    export.add_argument(
        "--channel",
        action="append",
        type=str.upper,
        choices=SENDER_CHANNELS,
        help="only senders on this channel (repeat for more)",
    )
    export.add_argument(
        "-o", "--output", type=Path, help="file to write (default stdout; parquet needs a file)"
    )
    _account_options(export)
    export.set_defaults(run=_senders_export)


def _pools_parser(commands: Any) -> None:
    pools = commands.add_parser("pools", help="the account's sender pools")
    pools_commands = pools.add_subparsers(title="pools commands", metavar="COMMAND")
    pools.set_defaults(help_parser=pools)
    listing = pools_commands.add_parser(
        "list", help="print every pool: name, id, size, activated / deactivated, channels, tags"
    )
    listing.add_argument("--format", choices=POOL_FORMATS, default="table", help="default table")
    _account_options(listing)
    listing.set_defaults(run=_pools_list)


def _sandbox_parser(commands: Any) -> None:
    sandbox = commands.add_parser("sandbox", help="the embedded Communications API emulator")
    sandbox_commands = sandbox.add_subparsers(title="sandbox commands", metavar="COMMAND")
    sandbox.set_defaults(help_parser=sandbox)
    serve = sandbox_commands.add_parser("serve", help="serve the sandbox over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8787, help="port (default 8787)")
    serve.add_argument("--db", help="SQLite file (default: the shared per-user sandbox file)")
    serve.add_argument("--seed", type=int, help="seed; reseeds the file if it differs")
    serve.add_argument("--senders", type=int, help="senders to seed; reseeds if it differs")
    serve.set_defaults(run=_serve)


def _account_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        help="read this sandbox file (implies the sandbox; e.g. commstoolkit-demo/"
        "sandbox.sqlite3). Default: the live account when TWILIO_* credentials are set, "
        "else the shared per-user sandbox",
    )


def _serve(args: argparse.Namespace) -> int:
    from .sandbox.server import serve_command

    serve_command(host=args.host, port=args.port, db=args.db, seed=args.seed, senders=args.senders)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.out, seed=args.seed, senders=args.senders, stream=sys.stdout)


def _report(args: argparse.Namespace) -> int:
    from .notebook_runner import NotebookCellError, parse_parameter
    from .reports import write_report

    if not args.notebook.is_file():
        print(f"commstoolkit report: no such notebook: {args.notebook}", file=sys.stderr)
        return 2
    parameters = dict(parse_parameter(text) for text in args.parameter)
    output = args.output or Path(args.notebook.stem + ".html")
    try:
        report = write_report(
            args.notebook,
            output,
            parameters,
            executed_path=args.executed,
            hide_code=args.hide_code,
            timeout=args.timeout,
        )
    except NotebookCellError as error:
        print(f"commstoolkit report: {error.headline}", file=sys.stderr)
        print(str(error).split("\n", 1)[1], file=sys.stderr)
        if args.verbose:
            print(error.traceback, file=sys.stderr)
        else:
            print("(--verbose shows the traceback)", file=sys.stderr)
        written = f"{output}" + (f" and {args.executed}" if args.executed else "")
        print(f"The outputs up to the failing cell are in {written}", file=sys.stderr)
        return 1
    print(f"Report: {report.html} ({report.figures} charts)")
    if report.notebook is not None:
        print(f"Executed notebook: {report.notebook}")
    return 0


def _senders_export(args: argparse.Namespace) -> int:
    from .frames import load_senders

    if args.format == "parquet" and args.output is None:
        print("commstoolkit senders export: parquet needs -o FILE", file=sys.stderr)
        return 2
    with _client(args) as client:
        senders = load_senders(client, channel=args.channel, status=args.status, progress=False)
    _write_frame(senders, args.format, args.output)
    if args.output is not None:
        print(f"Wrote {len(senders):,} senders to {args.output}", file=sys.stderr)
    return 0


def _pools_list(args: argparse.Namespace) -> int:
    from .frames import load_pools

    with _client(args) as client:
        pools = load_pools(client)
    columns = POOL_COLUMNS + [c for c in pools.columns if c.startswith("tags.")]
    pools = pools[columns]
    if args.format != "table":
        _write_frame(pools, args.format, None)
    elif pools.empty:
        print("No sender pools.")
    else:
        print(pools.to_string(index=False, na_rep=""))
        print(f"\n{len(pools):,} pools, {int(pools['size'].sum()):,} memberships")
    return 0


def _client(args: argparse.Namespace) -> CommsClient:
    """``connect()`` (its one line to stderr, so stdout holds only data); ``--db`` forces
    the sandbox on that file."""
    from .connect import connect

    if args.db is not None:
        return connect(sandbox=True, db=args.db, out=sys.stderr)
    return connect(out=sys.stderr)


def _write_frame(frame: pd.DataFrame, fmt: str, output: Path | None) -> None:
    """Write ``frame`` as csv, json (records, ISO dates) or parquet to ``output`` or stdout."""
    if fmt == "parquet":
        frame.to_parquet(output, index=False)
    elif fmt == "csv":
        frame.to_csv(output if output is not None else sys.stdout, index=False)
    else:
        text = frame.to_json(orient="records", date_format="iso", indent=1)
        if output is None:
            sys.stdout.write(text + "\n")
        else:
            output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
