"""``commstoolkit report``: run a notebook with parameters, write its HTML report (the work
is ``commstoolkit.apps.reports``'); which sandbox the run uses (see the package docstring)."""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Any

from .failures import EXIT_FAILED, CommandError
from .parsing import command, seconds
from .shared import check_db_file, check_output, open_sandbox, same_file

__all__ = ["MEMORY", "add_parser", "check_notebook", "report", "report_sandbox"]

MEMORY = ":memory:"


def add_parser(commands: Any) -> None:
    """The command ``report``."""
    parser = command(
        commands,
        "report",
        report,
        help="run a notebook with parameters and write its HTML report",
        description="Run NOTEBOOK headless in a fresh kernel, with parameters injected "
        "by papermill (a cell tagged 'injected-parameters' after the cell tagged "
        "'parameters'), and write a standalone HTML report with interactive charts that "
        "work offline. Credentials come from the environment, never from parameters. "
        "A run that asks for a seed or a size (-p seed=N, -p senders=N) without "
        "-p sandbox_db=FILE gets an in-memory sandbox of its own: your sandbox file is "
        "never reseeded by a report.",
    )
    parser.add_argument("notebook", type=Path, help="the notebook (.ipynb) to run")
    parser.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a parameter; VALUE is read as a Python literal (11, True, None, "
        "['SMS', 'RCS']) when it is one, else as text. Repeat for more",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="the HTML report (default: NOTEBOOK's name, .html)"
    )
    parser.add_argument("--executed", type=Path, help="also write the executed notebook here")
    parser.add_argument("--hide-code", action="store_true", help="leave code cells out")
    parser.add_argument(
        "--timeout", type=seconds, default=600.0, help="seconds allowed per cell (default 600)"
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="start the -p sandbox_db=FILE over (seeded with -p seed / -p senders, else as "
        "before) even if it holds pools or messages: they are lost",
    )


def report(args: argparse.Namespace) -> int:
    """Run the notebook and write its report; a failing cell is reported, status 1."""
    from ..notebook_runner import (
        NotebookCellError,
        inject_parameters,
        notebook_parameters,
        parse_parameter,
        read_notebook,
    )
    from ..reports import write_report

    notebook = check_notebook(args.notebook)
    output = args.output or Path(args.notebook.stem + ".html")
    check_output(output, "-o")
    if args.executed is not None:
        check_output(args.executed, "--executed")
        if same_file(args.executed, args.notebook):
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
    parameters, note = report_sandbox(parameters, defaults, reset=args.reset)
    if note:
        print(note)
    try:
        written = write_report(
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
        where = f"{output}" + (f" and {args.executed}" if args.executed else "")
        print(f"The outputs up to the failing cell are in {where}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Report: {written.html} ({written.figures} charts)")
    if written.notebook is not None:
        print(f"Executed notebook: {written.notebook}")
    return 0


def check_notebook(path: Path) -> Path:
    """``path`` is a notebook file that is there."""
    if path.suffix != ".ipynb":
        raise CommandError(f"{path} is not a notebook; give a .ipynb file")
    if path.is_dir():
        raise CommandError(f"{path} is a folder; give a .ipynb file")
    if not path.is_file():
        raise CommandError(f"no such notebook: {path}")
    return path


def report_sandbox(
    parameters: dict[str, Any], defaults: dict[str, str], *, reset: bool
) -> tuple[dict[str, Any], str]:
    """The parameters a report runs with, and a line saying which sandbox it uses (or "").

    See the package docstring: a seed or size asked without a file gets an in-memory
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
    check_db_file(path, f"-p sandbox_db={db}", must_exist=False)
    open_sandbox(path, seed, senders, reset=reset)
    return parameters, ""
