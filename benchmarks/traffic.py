"""P10 and P11 (issue 13): a traffic export at any volume, and health over a million messages.

One sandbox file is seeded with ``Sizes.history_messages`` messages of history (default
1,000,000 over 10 days) and served over loopback HTTP.

- **P10**, the export: ``export_traffic`` of the whole history into a Parquet dataset
  against the floor of fetching the same pages raw (httpx + json, pageSize 1000), medians
  interleaved in one process; and its memory: the peak resident size of a process exporting
  one day (a tenth of it) against one exporting all of it. Targets: time <= 1.3x the floor;
  peak memory at the whole within 1.2x of the peak at a tenth (constant memory).
- **P11**, health by sender over every message: ``traffic_health`` of the frame read back
  (pandas) and of the dataset itself (DuckDB over the files), medians. Target: <= 2 s each.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from benchmarks._common import SEED, Line, Server, Sizes, raw_pages, seconds, serve, verdict
from commstoolkit.analysis import export_traffic, open_traffic, read_traffic, traffic_health
from commstoolkit.sandbox import Sandbox

DAYS = 10
SENDERS = 300  # the seeded account's default size: the history goes through its pools
TIME_TARGET = 1.3
MEMORY_TARGET = 1.2
HEALTH_TARGET = 2.0
ROOT = Path(__file__).resolve().parents[1]

# Export a window in a process of its own and print its peak resident size (KiB): VmHWM,
# the high-water mark of the process's own memory map. Not ru_maxrss, which on Linux keeps
# the peak of the process before its exec — the forking benchmark's, gigabytes here.
_EXPORT = textwrap.dedent(
    """
    import re, sys
    import commstoolkit as ct
    from commstoolkit.analysis import export_traffic
    base_url, sid, token, start, end, folder = sys.argv[1:]
    with ct.CommsClient(account_sid=sid, auth_token=token, base_url=base_url, live=False) as c:
        result = export_traffic(c, start, end, folder, progress=False)
    with open("/proc/self/status") as status:
        peak = re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1)
    print(result.messages, peak)
    """
)


def p10_p11(sizes: Sizes) -> list[Line]:
    """Seed the history, serve it, and measure P10 and P11."""
    daily = -(-sizes.history_messages // DAYS)
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "traffic.sqlite3")
        box = Sandbox(db, seed=SEED, senders=SENDERS, traffic_days=DAYS, daily_messages=daily)
        faults = box.history_faults()
        box.close()
        with serve(SENDERS, db) as server:
            lines = [*_p10(server, faults, Path(folder), sizes)]
        lines.append(_p11(Path(folder) / "export-0", sizes))
    return lines


def _p10(server: Server, faults: dict, folder: Path, sizes: Sizes) -> list[Line]:
    start, end = faults["start"], faults["end"]
    messages = faults["messages"]
    runs = max(1, min(3, sizes.repeats))
    totals, floors = [], []
    with server.client() as client, server.http() as http:
        for run in range(runs):
            started = time.perf_counter()
            result = export_traffic(client, start, end, folder / f"export-{run}", progress=False)
            totals.append(time.perf_counter() - started)
            assert result.messages == messages, (result.messages, messages)
            started = time.perf_counter()
            pages = raw_pages(http, "/Messages", "messages", {"startDate": start, "endDate": end})
            floors.append(time.perf_counter() - started)
            assert sum(map(len, pages)) == messages
    total, floor = statistics.median(totals), statistics.median(floors)
    one_day_end = _plus_day(start)
    small, small_kib = _export_process(server, start, one_day_end, folder / "one-day")
    large, large_kib = _export_process(server, start, end, folder / "all-days")
    growth = large_kib / small_kib
    return [
        Line(
            "P10",
            f"export_traffic of {messages:,} messages ({DAYS} days) to Parquet over HTTP",
            f"commstoolkit {seconds(total)}, floor (raw pages, httpx + json) {seconds(floor)}, "
            f"ratio {total / floor:.2f}x",
            verdict(total / floor <= TIME_TARGET),
            f"<= {TIME_TARGET:.2f}x the floor",
        ),
        Line(
            "P10-mem",
            f"peak resident memory of an export process: {small:,} vs {large:,} messages",
            f"{small_kib / 1024:,.0f} MiB -> {large_kib / 1024:,.0f} MiB, {growth:.2f}x for "
            f"{large / max(small, 1):.0f}x the messages",
            verdict(growth <= MEMORY_TARGET),
            f"<= {MEMORY_TARGET:.1f}x (constant memory)",
        ),
    ]


def _p11(dataset: Path, sizes: Sizes) -> Line:
    frame = read_traffic(dataset)
    opened = open_traffic(dataset)
    runs = max(3, min(5, sizes.repeats))
    in_pandas, in_duckdb = [], []
    for _ in range(runs):
        started = time.perf_counter()
        by_pandas = traffic_health(frame, "sender")
        in_pandas.append(time.perf_counter() - started)
        started = time.perf_counter()
        by_duckdb = traffic_health(opened, "sender")
        in_duckdb.append(time.perf_counter() - started)
    assert by_pandas["messages"].sum() == by_duckdb["messages"].sum() == len(frame)
    pandas_s, duckdb_s = statistics.median(in_pandas), statistics.median(in_duckdb)
    return Line(
        "P11",
        f"traffic_health by sender over {len(frame):,} messages ({len(by_pandas):,} senders)",
        f"pandas {seconds(pandas_s)}, DuckDB over the Parquet files {seconds(duckdb_s)}",
        verdict(max(pandas_s, duckdb_s) <= HEALTH_TARGET),
        f"<= {HEALTH_TARGET:.0f} s each",
    )


def _export_process(server: Server, start: str, end: str, folder: Path) -> tuple[int, int]:
    """(messages, peak resident KiB) of a process exporting ``[start, end)``."""
    sid, token = server.sandbox.credentials()
    return export_process(server.base_url, (sid, token), start, end, folder)


def export_process(
    base_url: str, credentials: tuple[str, str], start: str, end: str, folder: Path
) -> tuple[int, int]:
    """(messages, peak resident KiB) of a process exporting ``[start, end)`` from the server
    at ``base_url`` (the export's default concurrency)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", _EXPORT, base_url, *credentials, start, end, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=1800,
    )
    messages, kib = done.stdout.split()[-2:]
    return int(messages), int(kib)


def _plus_day(stamp: str) -> str:
    import pandas as pd

    return (pd.Timestamp(stamp) + pd.Timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
