"""How the command line fails: one line on stderr and an exit status, never a traceback
unless ``--verbose`` (see the package docstring for the statuses)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from ...errors import CommsError, InvalidInputError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CommandError",
    "fail",
    "run_command",
    "stdout_to_devnull",
]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A command cannot run: one sentence for stderr and the exit ``status`` (2: the command
    line is wrong; 1: the work failed)."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def run_command(args: argparse.Namespace, prog: str) -> int:
    """Run the command ``args`` names; its exit status, every error as one line."""
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
        return fail(prog, str(error), error.status, args.verbose)
    except InvalidInputError as error:  # a bad argument, found before any request
        return fail(prog, str(error), EXIT_USAGE, args.verbose)
    except CommsError as error:
        return fail(prog, str(error), EXIT_FAILED, args.verbose)
    except OSError as error:
        what = error.strerror or str(error)
        where = f": {error.filename}" if error.filename else ""
        return fail(prog, f"{what}{where}", EXIT_FAILED, args.verbose)
    except Exception as error:  # a bug: still one line, the traceback with --verbose
        message = f"unexpected {type(error).__name__}: {error}"
        if not args.verbose:
            message += " (--verbose shows the traceback; please report it)"
        return fail(prog, message, EXIT_FAILED, args.verbose)


def fail(prog: str, message: str, status: int, verbose: bool) -> int:
    """Print ``message`` as one line (and the traceback being handled with ``verbose``)."""
    if verbose:
        traceback.print_exc(file=sys.stderr)
    line = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    print(f"{prog}: error: {line}", file=sys.stderr)
    return status


def stdout_to_devnull() -> None:
    """Point stdout at devnull, so that the interpreter's last flush does not fail again
    (the Python documentation's recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor
        pass
