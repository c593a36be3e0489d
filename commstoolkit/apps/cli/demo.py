"""``commstoolkit demo``: the four notebooks on a fresh sandbox, as executed notebooks and
reports (the work is ``commstoolkit.apps.demo``'s)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .failures import CommandError
from .parsing import command, seed, senders
from .shared import same_file

__all__ = ["add_parser", "demo"]


def add_parser(commands: Any) -> None:
    """The command ``demo``."""
    parser = command(
        commands,
        "demo",
        demo,
        help="run the four notebooks on a fresh sandbox; write executed notebooks and reports",
        description="Seed a fresh sandbox account in the output folder, run the notebooks "
        "01_sender_inventory, 02_build_a_pool and 03_test_send on it headless, write each "
        "executed notebook and its standalone HTML report, and print the inventory. The "
        "sandbox file is the demo's own (OUT/sandbox.sqlite3, replaced by the next demo "
        "there); a sandbox.sqlite3 the demo did not write is never replaced.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("commstoolkit-demo"),
        help="output folder (default ./commstoolkit-demo); the sandbox.sqlite3 an earlier "
        "demo left there is replaced",
    )
    parser.add_argument("--seed", type=seed, default=7, help="sandbox seed (default 7)")
    parser.add_argument(
        "--senders", type=senders, default=300, help="senders to seed (default 300)"
    )


def demo(args: argparse.Namespace) -> int:
    """Run the demo into ``--out``."""
    from ...sandbox import default_db_path
    from ..demo import SANDBOX_FILE, check_out_folder, run_demo

    out = args.out.resolve()
    if same_file(out / SANDBOX_FILE, default_db_path()):
        raise CommandError(
            f"--out {args.out} holds your default sandbox file, which the demo would replace; "
            "choose another --out"
        )
    check_out_folder(out)
    return run_demo(out, seed=args.seed, senders=args.senders, stream=sys.stdout)
