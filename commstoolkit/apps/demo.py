"""``commstoolkit demo``: the four notebooks, run headless on a fresh sandbox, as reports.

The demo seeds a new sandbox account in its output folder, runs
``01_sender_inventory``, ``02_build_a_pool`` and ``03_test_send`` in that order (each
gets the sandbox's path as its ``sandbox_db`` parameter, so they share one account and
the executed notebooks can be re-run on it in JupyterLab), writes each executed notebook
and its standalone HTML report, then prints the inventory the sandbox ends up holding.

The sandbox file is the demo's own: ``OUT/sandbox.sqlite3``, marked by ``OUT/.commstoolkit-demo``.
A later demo into the same folder replaces it; a ``sandbox.sqlite3`` the demo did not write
(no marker, and no executed demo notebook naming it) is never replaced: the demo refuses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

import pandas as pd

from ..client import CommsClient
from ..connect import connect
from ..errors import ConfigurationError, InvalidInputError
from ..frames import load_pool_members, load_pools, load_senders
from .notebook_runner import NotebookCellError

__all__ = [
    "DEMO_NOTEBOOKS",
    "DemoResult",
    "check_out_folder",
    "demo_notebooks_dir",
    "inventory_summary",
    "run_demo",
]

DEMO_NOTEBOOKS = (
    "01_sender_inventory.ipynb",
    "02_build_a_pool.ipynb",
    "03_test_send.ipynb",
    "04_pool_health.ipynb",
)
# The demo account's production history (notebook 04 judges it): days and messages a day.
DEMO_HISTORY = (7, 2000)
SANDBOX_FILE = "sandbox.sqlite3"
MARKER_FILE = ".commstoolkit-demo"
_MARKER_TEXT = (
    "This folder is written by `commstoolkit demo`; each run replaces its sandbox.sqlite3.\n"
)
_SIDE_FILES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class DemoResult:
    """One notebook of the demo: its executed ``notebook``, ``html`` report, the number
    of ``figures`` and the ``seconds`` it took."""

    notebook: Path
    html: Path
    figures: int
    seconds: float


def demo_notebooks_dir() -> Path:
    """The folder holding the demo notebooks: installed with the package (package data),
    or ``notebooks/`` beside the package in a source checkout."""
    candidates = [
        Path(str(resources.files("commstoolkit") / "notebooks")),
        Path(__file__).resolve().parents[2] / "notebooks",
    ]
    for folder in candidates:
        if all((folder / name).is_file() for name in DEMO_NOTEBOOKS):
            return folder
    raise ConfigurationError(
        "the demo notebooks were not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); reinstall commstoolkit from a full checkout"
    )


def run_demo(
    out: Path,
    *,
    seed: int,
    senders: int,
    stream: TextIO,
    timeout: float = 600.0,
) -> int:
    """Run the demo into the folder ``out``, reporting to ``stream``; return an exit code
    (0, or 1 when a notebook fails: the failing cell and the error are printed)."""
    from .reports import write_report

    say = _printer(stream)
    out = out.resolve()
    check_out_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / SANDBOX_FILE
    replaced = _remove_sandbox(db)
    (out / MARKER_FILE).write_text(_MARKER_TEXT, encoding="utf-8")
    fresh = f"a fresh sandbox ({senders:,} senders, seed {seed}) in {db}"
    say(f"commstoolkit demo: {fresh}" + (" (replacing the demo's earlier one)" if replaced else ""))
    with _sandbox(db, seed=seed, senders=senders, history=DEMO_HISTORY):
        pass  # seeded here, once (with its history): the notebooks find the account ready
    parameters = {"sandbox_db": str(db), "seed": seed, "senders": senders}
    source = demo_notebooks_dir()
    say(f"Running the notebooks of {source} headless:")
    results = []
    for name in DEMO_NOTEBOOKS:
        stem = Path(name).stem
        started = time.monotonic()
        try:
            report = write_report(
                source / name,
                out / f"{stem}.html",
                parameters,
                executed_path=out / name,
                timeout=timeout,
                cwd=out,
            )
        except NotebookCellError as error:
            say(f"  {name}: FAILED\n{error}")
            say(f"The notebook as far as it ran: {out / name} (report {out / f'{stem}.html'})")
            return 1
        seconds = time.monotonic() - started
        results.append(DemoResult(out / name, report.html, report.figures, seconds))
        charts = f"{report.figures} chart" + ("" if report.figures == 1 else "s")
        say(f"  {name:<28} {charts:<9} {seconds:5.1f} s")
    say(_where(results, out))
    with _sandbox(db) as client:
        frames = (load_senders(client), load_pools(client), load_pool_members(client))
    say(inventory_summary(*frames))
    return 0


def check_out_folder(out: Path) -> None:
    """Refuse an output folder the demo must not write into: ``out`` is a file, or holds a
    ``sandbox.sqlite3`` the demo did not write (which it would otherwise replace).

    Raises ``InvalidInputError`` (field ``out``) with one sentence saying what to do.
    """
    if out.exists() and not out.is_dir():
        raise InvalidInputError(
            f"the output folder {out} is a file; give a folder (it is created if missing)",
            field="out",
        )
    db = out / SANDBOX_FILE
    if db.is_dir():
        raise InvalidInputError(
            f"{db} is a folder, where the demo keeps its sandbox file; choose another output "
            "folder",
            field="out",
        )
    present = any(db.with_name(db.name + suffix).exists() for suffix in _SIDE_FILES)
    if present and not _written_by_demo(out):
        raise InvalidInputError(
            f"{db} was not written by the demo, which replaces the sandbox file of its output "
            "folder; choose another output folder (or remove that file if you do not need it)",
            field="out",
        )


def inventory_summary(senders: pd.DataFrame, pools: pd.DataFrame, members: pd.DataFrame) -> str:
    """Plain-text summary: senders by channel x status, the pools, and their overlap."""
    by_channel = pd.crosstab(
        senders["channel"], senders["status"], margins=True, margins_name="total", dropna=False
    )
    pool_table = pools.set_index("name")[["size", "n_activated", "n_deactivated", "channels"]]
    memberships = members.groupby("sender_id", observed=True)["pool_id"].nunique()
    shared = int((memberships > 1).sum())
    lines = [
        f"Senders: {len(senders)} in {len(pools)} pools",
        "",
        "Senders by channel and status:",
        by_channel.to_string(),
        "",
        "Pools:",
        pool_table.to_string() if len(pools) else "(no pools)",
        "",
        f"Senders in more than one pool: {shared}",
    ]
    return "\n".join(lines)


def _where(results: list[DemoResult], out: Path) -> str:
    lines = ["", "Reports (open in any browser; the charts work offline):"]
    lines += [f"  {r.html}" for r in results]
    lines += ["", "Executed notebooks:"]
    lines += [f"  {r.notebook}" for r in results]
    lines += [
        "",
        f"Open them in JupyterLab (they run against the demo's sandbox, {out / SANDBOX_FILE}):",
        "  python -m pip install jupyterlab   # once, if JupyterLab is not installed",
        f"  jupyter lab {out}",
        "",
    ]
    return "\n".join(lines)


@contextmanager
def _sandbox(
    db: Path,
    *,
    seed: int | None = None,
    senders: int | None = None,
    history: tuple[int | None, int | None] = (None, None),
) -> Iterator[CommsClient]:
    client = connect(
        sandbox=True,
        db=db,
        quiet=True,
        seed=seed,
        senders=senders,
        traffic_days=history[0],
        daily_messages=history[1],
    )
    try:
        yield client
    finally:
        client.close()
        client.sandbox.close()


def _written_by_demo(out: Path) -> bool:
    """Whether ``out``'s sandbox file is the demo's own: the marker beside it, or (a folder
    written before the marker existed) the demo's first executed notebook naming it."""
    if (out / MARKER_FILE).is_file():
        return True
    try:
        cells = json.loads((out / DEMO_NOTEBOOKS[0]).read_text(encoding="utf-8"))["cells"]
        sources = ["".join(cell["source"]) for cell in cells]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    line = f"sandbox_db = {str(out / SANDBOX_FILE)!r}"
    return any(line in source.splitlines() for source in sources)


def _remove_sandbox(db: Path) -> bool:
    """Start from a new account: drop an earlier demo's sandbox file and its journals
    (only ever called after ``check_out_folder``); whether there was one."""
    found = db.exists()
    for suffix in _SIDE_FILES:
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    return found


def _printer(stream: TextIO) -> Callable[[str], None]:
    def say(text: str) -> None:
        stream.write(text + "\n")
        stream.flush()

    return say
