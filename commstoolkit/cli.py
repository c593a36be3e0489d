"""The ``commstoolkit`` command line.

::

    commstoolkit [--verbose] demo [--out DIR] [--seed N] [--senders N]
    commstoolkit [--verbose] report NOTEBOOK [-p key=value ...] [-o OUT.html]
                                    [--executed OUT.ipynb] [--reset]
    commstoolkit [--verbose] senders export [--format csv|parquet|json] [--status S]
                                            [--channel C] [-o FILE] [--db FILE]
    commstoolkit [--verbose] pools list [--format table|csv|json] [--db FILE]
    commstoolkit [--verbose] sandbox serve [--host H] [--port P] [--db PATH] [--seed N]
                                           [--senders N] [--traffic-days N]
                                           [--daily-messages N] [--reset]

Everything that reads an account uses ``connect()``: the sandbox unless Twilio
credentials are set in the environment. Messages go to stderr, data to stdout.

Errors are one line on stderr, never a traceback (``--verbose`` adds it). Exit status:
0 done; 1 the work failed (a file that is not a sandbox database, a port in use, an API
error, a failing notebook cell, a sandbox holding changes that a seed would wipe out);
2 the command line is wrong, found before any work starts (an unknown option, a value out
of range, a path that is missing or of the wrong kind, a refused parameter); 130
interrupted. Output cut short by its reader (``| head``) ends quietly with status 0.

Which sandbox file ``report`` and ``demo`` use (they never reseed a user's account):

- ``demo`` seeds its own file, ``OUT/sandbox.sqlite3`` (marked by ``OUT/.commstoolkit-demo``),
  replacing the one an earlier demo left there. It refuses an output folder whose
  ``sandbox.sqlite3`` it did not write, and the default per-user sandbox file.
- ``report`` on a notebook with a ``sandbox_db`` parameter: when the run asks for a
  particular account (``-p seed=...`` or ``-p senders=...``) without naming a file, the
  notebook gets an in-memory sandbox of its own (``sandbox_db=':memory:'``): the report is
  the same on every run, and the default per-user file is not touched. With
  ``-p sandbox_db=FILE`` that file is opened before the notebook starts; a seed that differs
  from the file's is refused when the file holds changes, unless ``--reset`` (which starts
  the file over). Without a seed the run uses the file (or the default one) as it is.
- ``sandbox serve --seed N`` likewise refuses to reseed a file holding changes, unless
  ``--reset``.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .errors import CommsError, InvalidInputError
from .models import SENDER_CHANNELS, SENDER_STATUSES

if TYPE_CHECKING:
    import pandas as pd

    from . import CommsClient  # the public name: only connect() joins client and sandbox

__all__ = ["CommandError", "main"]

EXPORT_FORMATS = ("csv", "parquet", "json")
POOL_FORMATS = ("table", "csv", "json")
POOL_COLUMNS = ["name", "pool_id", "size", "n_activated", "n_deactivated", "channels"]
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
MAX_SEED = 2**63 - 1  # the sandbox's limits (commstoolkit.sandbox.seed), checked up front
MAX_SENDERS = 1_000_000
MEMORY = ":memory:"


class CommandError(Exception):
    """A command cannot run: one sentence for stderr and the exit ``status`` (2: the command
    line is wrong; 1: the work failed)."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (what is wrong, where to read more)."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {text} (see '{self.prog} --help')\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more can be shown, and that is fine.
        _stdout_to_devnull()
        return 0


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        sys.stdout.flush()  # --help / --version into a closed pipe: BrokenPipeError above
        raise
    if not hasattr(args, "run"):
        (getattr(args, "help_parser", None) or parser).print_help()
        sys.stdout.flush()
        return EXIT_USAGE
    prog = getattr(args, "prog", parser.prog)
    try:
        status = int(args.run(args) or 0)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        raise
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CommandError as error:
        return _fail(prog, str(error), error.status, args.verbose)
    except InvalidInputError as error:  # a bad argument, found before any request
        return _fail(prog, str(error), EXIT_USAGE, args.verbose)
    except CommsError as error:
        return _fail(prog, str(error), EXIT_FAILED, args.verbose)
    except OSError as error:
        what = error.strerror or str(error)
        where = f": {error.filename}" if error.filename else ""
        return _fail(prog, f"{what}{where}", EXIT_FAILED, args.verbose)
    except Exception as error:  # a bug: still one line, the traceback with --verbose
        message = f"unexpected {type(error).__name__}: {error}"
        if not args.verbose:
            message += " (--verbose shows the traceback; please report it)"
        return _fail(prog, message, EXIT_FAILED, args.verbose)


def _fail(prog: str, message: str, status: int, verbose: bool) -> int:
    if verbose:
        traceback.print_exc(file=sys.stderr)
    line = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    print(f"{prog}: error: {line}", file=sys.stderr)
    return status


def _stdout_to_devnull() -> None:
    """Point stdout at devnull, so that the interpreter's last flush does not fail again
    (the Python documentation's recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor
        pass


# -- the parser ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    _demo_parser(commands)
    _report_parser(commands)
    _senders_parser(commands)
    _pools_parser(commands)
    _sandbox_parser(commands)
    return parser


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


def _command(commands: Any, name: str, run: Callable[[argparse.Namespace], int], **kw: Any) -> Any:
    command = commands.add_parser(name, parents=[_common()], **kw)
    command.set_defaults(run=run, prog=command.prog)
    return command


def _integer(name: str, low: int, high: int) -> Callable[[str], int]:
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


_seed = _integer("seed", 0, MAX_SEED)
_senders = _integer("senders", 1, MAX_SENDERS)
_port = _integer("port", 0, 65_535)
_traffic_days = _integer("traffic-days", 0, 365)  # the sandbox's limits (simulation.history)
_daily_messages = _integer("daily-messages", 0, 1_000_000)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected seconds above 0, got {text}")
    return value


def _demo_parser(commands: Any) -> None:
    demo = _command(
        commands,
        "demo",
        _demo,
        help="run the three notebooks on a fresh sandbox; write executed notebooks and reports",
        description="Seed a fresh sandbox account in the output folder, run the notebooks "
        "01_sender_inventory, 02_build_a_pool and 03_test_send on it headless, write each "
        "executed notebook and its standalone HTML report, and print the inventory. The "
        "sandbox file is the demo's own (OUT/sandbox.sqlite3, replaced by the next demo "
        "there); a sandbox.sqlite3 the demo did not write is never replaced.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("commstoolkit-demo"),
        help="output folder (default ./commstoolkit-demo); the sandbox.sqlite3 an earlier "
        "demo left there is replaced",
    )
    demo.add_argument("--seed", type=_seed, default=7, help="sandbox seed (default 7)")
    demo.add_argument("--senders", type=_senders, default=300, help="senders to seed (default 300)")


def _report_parser(commands: Any) -> None:
    report = _command(
        commands,
        "report",
        _report,
        help="run a notebook with parameters and write its HTML report",
        description="Run NOTEBOOK headless in a fresh kernel, with parameters injected "
        "papermill-style (a cell tagged 'injected-parameters' after the cell tagged "
        "'parameters'), and write a standalone HTML report with interactive charts that "
        "work offline. Credentials come from the environment, never from parameters. "
        "A run that asks for a seed or a size (-p seed=N, -p senders=N) without "
        "-p sandbox_db=FILE gets an in-memory sandbox of its own: your sandbox file is "
        "never reseeded by a report.",
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
        "--timeout", type=_seconds, default=600.0, help="seconds allowed per cell (default 600)"
    )
    report.add_argument(
        "--reset",
        action="store_true",
        help="start the -p sandbox_db=FILE over (seeded with -p seed / -p senders, else as "
        "before) even if it holds pools or messages: they are lost",
    )


def _senders_parser(commands: Any) -> None:
    senders = commands.add_parser("senders", help="the account's senders")
    senders_commands = senders.add_subparsers(title="senders commands", metavar="COMMAND")
    senders.set_defaults(help_parser=senders)
    export = _command(
        senders_commands,
        "export",
        _senders_export,
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


def _pools_parser(commands: Any) -> None:
    pools = commands.add_parser("pools", help="the account's sender pools")
    pools_commands = pools.add_subparsers(title="pools commands", metavar="COMMAND")
    pools.set_defaults(help_parser=pools)
    listing = _command(
        pools_commands,
        "list",
        _pools_list,
        help="print every pool: name, id, size, activated / deactivated, channels, tags",
    )
    listing.add_argument("--format", choices=POOL_FORMATS, default="table", help="default table")
    _account_options(listing)


def _sandbox_parser(commands: Any) -> None:
    sandbox = commands.add_parser("sandbox", help="the embedded Communications API emulator")
    sandbox_commands = sandbox.add_subparsers(title="sandbox commands", metavar="COMMAND")
    sandbox.set_defaults(help_parser=sandbox)
    serve = _command(sandbox_commands, "serve", _serve, help="serve the sandbox over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=8787, help="port (default 8787; 0: any free port)"
    )
    serve.add_argument(
        "--db", type=Path, help="SQLite file (default: the shared per-user sandbox file)"
    )
    serve.add_argument(
        "--seed",
        type=_seed,
        help="seed; a new file is seeded with it, a file seeded otherwise is reseeded unless "
        "it holds pools or messages (then --reset)",
    )
    serve.add_argument(
        "--senders", type=_senders, help="senders to seed; as --seed when it differs"
    )
    serve.add_argument(
        "--traffic-days",
        type=_traffic_days,
        help="days of production message history to seed before the sandbox clock's start "
        "(a new default file: 7; else none); as --seed when it differs",
    )
    serve.add_argument(
        "--daily-messages",
        type=_daily_messages,
        help="messages a day of that history (default: the file's own, else 2000); as --seed "
        "when it differs",
    )
    serve.add_argument(
        "--reset",
        action="store_true",
        help="start the file over (with --seed / --senders, else as before): its pools and "
        "messages are lost",
    )


def _account_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        help="read this existing sandbox file (implies the sandbox; e.g. commstoolkit-demo/"
        "sandbox.sqlite3); it is never created. Default: the live account when TWILIO_* "
        "credentials are set, else the shared per-user sandbox",
    )


# -- checks made before any work -------------------------------------------------------------


def _check_output(path: Path, option: str) -> None:
    """``path`` can be written as a file: not a folder, in a folder that exists."""
    if path.is_dir():
        raise CommandError(f"{option} {path} is a folder; name a file in it instead")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise CommandError(f"{option} {path}: the folder {folder} {what}; create it first")


def _check_db_file(path: Path, label: str | None = None, *, must_exist: bool) -> None:
    """A sandbox file argument: never a folder; for a read-only command, a file that is
    there (reading must not create and seed an account the user has never seen)."""
    label = label or f"--db {path}"
    if path.is_dir():
        raise CommandError(f"{label} is a folder, not a sandbox file")
    if must_exist and not path.exists():
        raise CommandError(
            f"{label} does not exist (a read-only command never creates one); name an "
            "existing sandbox file, or leave --db out for the default sandbox"
        )


def _check_port_free(host: str, port: int) -> None:
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


def _open_sandbox(
    db: Path | str | None,
    seed: int | None,
    senders: int | None,
    *,
    reset: bool,
    traffic: tuple[int | None, int | None] = (None, None),
) -> None:
    """Open (and, as asked, seed or reseed) a sandbox file before the work starts, so that
    a bad file or a refused reseed is one line before anything runs."""
    from .connect import connect

    client = connect(
        sandbox=True,
        db=db,
        seed=seed,
        senders=senders,
        reset=reset,
        traffic_days=traffic[0],
        daily_messages=traffic[1],
        quiet=True,
    )
    client.close()
    client.sandbox.close()


# -- the commands ----------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    from .sandbox.server import serve_command

    if args.db is not None:
        _check_db_file(args.db, must_exist=False)
    _check_port_free(args.host, args.port)
    # Opened (seeded, reseeded, or refused) through connect() first: its errors are the
    # toolkit's, one line each; the server then finds the account as asked.
    traffic = (args.traffic_days, args.daily_messages)
    _open_sandbox(args.db, args.seed, args.senders, reset=args.reset, traffic=traffic)
    db = None if args.db is None else str(args.db)
    serve_command(
        host=args.host,
        port=args.port,
        db=db,
        seed=args.seed,
        senders=args.senders,
        traffic_days=traffic[0],
        daily_messages=traffic[1],
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import SANDBOX_FILE, check_out_folder, run_demo
    from .sandbox import default_db_path

    out = args.out.resolve()
    if _same_file(out / SANDBOX_FILE, default_db_path()):
        raise CommandError(
            f"--out {args.out} holds your default sandbox file, which the demo would replace; "
            "choose another --out"
        )
    check_out_folder(out)
    return run_demo(out, seed=args.seed, senders=args.senders, stream=sys.stdout)


def _report(args: argparse.Namespace) -> int:
    from .notebook_runner import (
        NotebookCellError,
        inject_parameters,
        notebook_parameters,
        parse_parameter,
        read_notebook,
    )
    from .reports import write_report

    notebook = _check_notebook(args.notebook)
    output = args.output or Path(args.notebook.stem + ".html")
    _check_output(output, "-o")
    if args.executed is not None:
        _check_output(args.executed, "--executed")
        if _same_file(args.executed, args.notebook):
            raise CommandError(
                f"--executed {args.executed} is the notebook being run; write it elsewhere"
            )
    parameters = dict(parse_parameter(text) for text in args.parameter)
    try:
        source = read_notebook(notebook)
    except Exception as error:  # nbformat's errors: not JSON, not a notebook, bad version
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CommandError(f"{args.notebook} is not a readable notebook ({first})") from error
    inject_parameters(source, parameters)  # unknown or secret-looking names: refused now
    defaults = notebook_parameters(source)
    parameters, note = _report_sandbox(parameters, defaults, reset=args.reset)
    if note:
        print(note)
    try:
        report = write_report(
            notebook,
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
        return EXIT_FAILED
    print(f"Report: {report.html} ({report.figures} charts)")
    if report.notebook is not None:
        print(f"Executed notebook: {report.notebook}")
    return 0


def _check_notebook(path: Path) -> Path:
    if path.suffix != ".ipynb":
        raise CommandError(f"{path} is not a notebook; give a .ipynb file")
    if path.is_dir():
        raise CommandError(f"{path} is a folder; give a .ipynb file")
    if not path.is_file():
        raise CommandError(f"no such notebook: {path}")
    return path


def _report_sandbox(
    parameters: dict[str, Any], defaults: dict[str, str], *, reset: bool
) -> tuple[dict[str, Any], str]:
    """The parameters a report runs with, and a line saying which sandbox it uses (or "").

    See the module docstring: a seed or size asked without a file gets an in-memory
    sandbox; a named file is opened (seeded, or with ``reset`` started over) first.
    """

    def value(name: str) -> Any:
        if name in parameters:
            return parameters[name]
        try:
            return ast.literal_eval(defaults.get(name, "None"))
        except (ValueError, SyntaxError):
            return None

    takes_sandbox = "sandbox_db" in defaults and value("mode") != "live"
    if not takes_sandbox:
        if reset:
            raise CommandError(
                "--reset starts a sandbox file over, and this run uses none (the notebook "
                "has no sandbox_db parameter, or -p mode=live)"
            )
        return parameters, ""
    seed, senders, db = value("seed"), value("senders"), value("sandbox_db")
    for name, number, low in (("seed", seed, 0), ("senders", senders, 1)):
        if number is not None and (
            not isinstance(number, int) or isinstance(number, bool) or number < low
        ):
            raise CommandError(f"-p {name}={number!r}: expected a whole number from {low}")
    asked = [f"{n} {v}" for n, v in (("seed", seed), ("senders", senders)) if v is not None]
    if db is None or str(db) == MEMORY:
        if reset:
            raise CommandError(
                "--reset needs the file to start over: add -p sandbox_db=FILE (without one, "
                "a run with a seed gets an in-memory sandbox of its own)"
            )
        if db is None and asked:
            note = (
                f"Sandbox: an in-memory account of its own ({', '.join(asked)}); your sandbox "
                "file is not touched (-p sandbox_db=FILE to use a file)"
            )
            return {**parameters, "sandbox_db": MEMORY}, note
        return parameters, ""
    path = Path(str(db)).expanduser()
    _check_db_file(path, f"-p sandbox_db={db}", must_exist=False)
    _open_sandbox(path, seed, senders, reset=reset)
    return parameters, ""


def _senders_export(args: argparse.Namespace) -> int:
    from .frames import load_senders

    if args.format == "parquet" and args.output is None:
        raise CommandError("parquet needs -o FILE (it cannot go to stdout)")
    if args.output is not None:
        _check_output(args.output, "-o")
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
    the sandbox on that file, which must exist (these commands only read)."""
    from .connect import connect

    if args.db is not None:
        _check_db_file(args.db, must_exist=True)
        return connect(sandbox=True, db=args.db, out=sys.stderr)
    return connect(out=sys.stderr)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == Path(b).resolve()
    except OSError:
        return False


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
