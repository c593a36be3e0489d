"""``commstoolkit demo``: the three notebooks, run headless on a fresh sandbox, as reports.

The demo seeds a new sandbox account in its output folder, runs
``01_sender_inventory``, ``02_build_a_pool`` and ``03_test_send`` in that order (each
gets the sandbox's path as its ``sandbox_db`` parameter, so they share one account and
the executed notebooks can be re-run on it in JupyterLab), writes each executed notebook
and its standalone HTML report, then prints the inventory the sandbox ends up holding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

import pandas as pd

from .client import CommsClient
from .connect import connect
from .errors import ConfigurationError
from .frames import load_pool_members, load_pools, load_senders
from .notebook_runner import NotebookCellError

__all__ = [
    "DEMO_NOTEBOOKS",
    "DemoResult",
    "demo_notebooks_dir",
    "inventory_summary",
    "run_demo",
]

DEMO_NOTEBOOKS = ("01_sender_inventory.ipynb", "02_build_a_pool.ipynb", "03_test_send.ipynb")
SANDBOX_FILE = "sandbox.sqlite3"


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
        Path(__file__).resolve().parents[1] / "notebooks",
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
    out.mkdir(parents=True, exist_ok=True)
    db = out / SANDBOX_FILE
    _remove_sandbox(db)
    say(f"commstoolkit demo: a fresh sandbox ({senders:,} senders, seed {seed}) in {db}")
    with _sandbox(db, seed=seed, senders=senders):
        pass  # seeded here, once: the notebooks find the account ready
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
    db: Path, *, seed: int | None = None, senders: int | None = None
) -> Iterator[CommsClient]:
    client = connect(sandbox=True, db=db, quiet=True, seed=seed, senders=senders)
    try:
        yield client
    finally:
        client.close()
        client.sandbox.close()


def _remove_sandbox(db: Path) -> None:
    """Start from a new account: drop an earlier demo's sandbox file and its journals."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def _printer(stream: TextIO) -> Callable[[str], None]:
    def say(text: str) -> None:
        stream.write(text + "\n")
        stream.flush()

    return say
