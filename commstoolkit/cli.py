"""The command line's old path: it lives in ``commstoolkit.apps.cli`` (``python -m
commstoolkit.cli`` still runs it)."""

import sys

from .apps.cli import CommandError, main
from .apps.cli.failures import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_USAGE", "CommandError", "main"]

if __name__ == "__main__":
    sys.exit(main())
