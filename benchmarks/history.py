"""P12 (issue 13): seeding the sandbox's traffic history, and reading a day of it back.

The history of ``Sizes.history_messages`` messages (default 1,000,000: 25 days of 40,000) is
seeded into a new sandbox file (WAL, as users' files are), timed from ``Sandbox(...)`` to its
return; then the first page (1,000) of a one-day window in the middle of it is read through
``GET /Messages`` in-process. Target: the seed in at most 60 s.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from benchmarks._common import Line, Sizes, millis, seconds, verdict
from commstoolkit.sandbox import Sandbox

TARGET_SECONDS = 60.0
DAYS = 25
DAY = timedelta(days=1)


def p12(sizes: Sizes) -> Line:
    """Seed ``sizes.history_messages`` messages of history; one page of a day of it."""
    days = min(DAYS, max(1, sizes.history_messages // 1_000))
    daily = -(-sizes.history_messages // days)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "history.sqlite3"
        started = time.perf_counter()
        box = Sandbox(db, speed=0, traffic_days=days, daily_messages=daily)
        elapsed = time.perf_counter() - started
        try:
            messages = box.history_faults()["messages"]
            end = box.clock.now().replace(hour=0, minute=0, second=0) - (days // 2) * DAY
            window = {"startDate": _stamp(end - DAY), "endDate": _stamp(end), "pageSize": 1000}
            with httpx.Client(
                transport=box.transport(), base_url=box.base_url, auth=box.credentials()
            ) as client:
                started = time.perf_counter()
                page = client.get("/Messages", params=window)
                page_seconds = time.perf_counter() - started
            assert page.status_code == 200, page.text
            served = len(page.json()["messages"])
        finally:
            box.close()
    rate = messages / elapsed
    return Line(
        "P12",
        f"seed {messages:,} messages of history ({days} days of {daily:,})",
        f"{seconds(elapsed)} ({rate:,.0f} messages/s; {elapsed / TARGET_SECONDS:.2f} x the "
        f"60 s target); first page of a day of it: {served} messages in {millis(page_seconds)}",
        verdict(elapsed <= TARGET_SECONDS),
        "<= 60 s for 1,000,000 messages",
    )


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
