"""``commstoolkit demo``: the inventory of a fresh sandbox account, printed."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import pandas as pd

from .connect import connect
from .frames import load_pool_members, load_pools, load_senders

__all__ = ["inventory_summary", "run_demo"]


def run_demo(db: Path, *, seed: int, senders: int, out: TextIO) -> int:
    """Seed a sandbox in ``db``, load its inventory and print a summary to ``out``."""
    client = connect(sandbox=True, db=db, seed=seed, senders=senders, out=out)
    with client:
        frames = (load_senders(client), load_pools(client), load_pool_members(client))
    out.write(inventory_summary(*frames))
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
        "",
        f"Senders: {len(senders)} in {len(pools)} pools",
        "",
        "Senders by channel and status:",
        by_channel.to_string(),
        "",
        "Pools:",
        pool_table.to_string() if len(pools) else "(no pools)",
        "",
        f"Senders in more than one pool: {shared}",
        "",
    ]
    return "\n".join(lines)
