"""What several commands share: the checks on paths made before any work, opening a
sandbox file or the account, and writing a frame as csv, json or parquet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .failures import CommandError

if TYPE_CHECKING:
    import pandas as pd

    from ... import CommsClient  # the public name: only connect() joins client and sandbox

__all__ = ["check_db_file", "check_output", "client", "open_sandbox", "same_file", "write_frame"]


def check_output(path: Path, option: str) -> None:
    """``path`` can be written as a file: not a folder, in a folder that exists."""
    if path.is_dir():
        raise CommandError(f"{option} {path} is a folder; name a file in it instead")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise CommandError(f"{option} {path}: the folder {folder} {what}; create it first")


def check_db_file(path: Path, label: str | None = None, *, must_exist: bool) -> None:
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


def open_sandbox(
    db: Path | str | None,
    seed: int | None,
    senders: int | None,
    *,
    reset: bool,
    traffic: tuple[int | None, int | None] = (None, None),
) -> None:
    """Open (and, as asked, seed or reseed, with ``traffic``: (traffic days, daily
    messages) of history) a sandbox file before the work starts, so that a bad file or a
    refused reseed is one line before anything runs."""
    from ...connect import connect

    account = connect(
        sandbox=True,
        db=db,
        seed=seed,
        senders=senders,
        reset=reset,
        traffic_days=traffic[0],
        daily_messages=traffic[1],
        quiet=True,
    )
    account.close()
    account.sandbox.close()


def client(args: argparse.Namespace) -> CommsClient:
    """``connect()`` (its one line to stderr, so stdout holds only data); ``--db`` forces
    the sandbox on that file, which must exist (these commands only read)."""
    from ...connect import connect

    if args.db is not None:
        check_db_file(args.db, must_exist=True)
        return connect(sandbox=True, db=args.db, out=sys.stderr)
    return connect(out=sys.stderr)


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name the same file (False when either cannot be resolved)."""
    try:
        return a.resolve() == Path(b).resolve()
    except OSError:
        return False


def write_frame(frame: pd.DataFrame, fmt: str, output: Path | None) -> None:
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
