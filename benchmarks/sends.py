"""Write-path benchmarks: P5 (create_pool of a big pool) and P6 (a 10,000-recipient test
send), with the sandbox clock instant so that nothing waits for simulated time."""

from __future__ import annotations

import contextlib
import io
import statistics
import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pandas as pd

import commstoolkit as ct

from ._common import CountingTransport, Line, Server, Sizes, raw_pages, seconds, timed, verdict

RUN_TAG = "ct_run"


@contextlib.contextmanager
def instant_clock(server: Server) -> Iterator[None]:
    """The sandbox's clock set to instant for the block (operations finish at once)."""
    clock = server.sandbox.clock
    before = clock.instant
    clock.instant = True
    try:
        yield
    finally:
        clock.instant = before


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No progress bars or plan warnings on the console while a benchmark runs."""
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


POOL_KINDS = {
    "POST /v1/SenderPools": "create",
    "POST /v1/SenderPools/{id}/Senders": "adds",
    "GET /v1/SenderPools/Operations/{id}": "polls",
    "GET /v1/SenderPools/{id}/Senders/Operations/{id}": "polls",
    "GET /v1/SenderPools/{id}/Senders": "member-listing pages",
}


def p5(server: Server, frame: pd.DataFrame, sizes: Sizes) -> Line:
    """P5: ``create_pool`` of ``pool_size`` ACTIVATED senders: requests by kind, wall time."""
    activated = frame.loc[frame["status"] == "ACTIVATED", "sender_id"]
    chosen = list(activated.iloc[: sizes.pool_size])
    runs = max(1, min(3, sizes.repeats))
    times: list[float] = []
    transport = CountingTransport()
    with instant_clock(server), quiet():
        for run in range(runs):
            transport = CountingTransport()
            with server.client(transport) as client:
                elapsed, _ = timed(
                    lambda c=client, r=run: ct.create_pool(c, f"bench-p5-{r}", chosen)
                )
            times.append(elapsed)
    counts: Counter[str] = Counter()
    for kind, n in transport.counts.items():
        counts[POOL_KINDS.get(kind, kind)] += n
    members = "GET /v1/SenderPools/{id}/Senders"
    member_sizes = transport.page_sizes.get(members, set())
    main = ", ".join(f"{counts[label]} {label}" for label in dict.fromkeys(POOL_KINDS.values()))
    other = ", ".join(
        f"{n} {kind}" + _sizes(transport.page_sizes.get(kind))
        for kind, n in sorted(counts.items())
        if kind not in POOL_KINDS.values()
    )
    adds = -(-len(chosen) // 10_000) - 1
    ok = (
        counts["create"] == 1
        and counts["adds"] == adds
        and counts["member-listing pages"] == -(-len(chosen) // 1000)
        and member_sizes == {"1000"}
    )
    return Line(
        "P5",
        f"create_pool of {len(chosen):,} senders (plan, apply, wait, verify; clock instant)",
        f"median wall {seconds(statistics.median(times))} of {runs}; requests: {main}"
        f"{_sizes(member_sizes)}; also {other}",
        verdict(ok),
        f"1 create + {adds} adds + polls + member listing at pageSize 1000",
    )


def _sizes(page_sizes: set[str] | None) -> str:
    return f" (pageSize {', '.join(sorted(page_sizes))})" if page_sizes else ""


def recipients(count: int, start: int) -> list[str]:
    """``count`` distinct valid US numbers (+1 914 ...)."""
    return [f"+1914{n:07d}" for n in range(start, start + count)]


def bench_pool(server: Server, frame: pd.DataFrame) -> str:
    """A pool of 200 ACTIVATED SMS and RCS senders to send through; its id."""
    usable = frame[(frame["status"] == "ACTIVATED") & frame["channel"].isin(["SMS", "RCS"])]
    with instant_clock(server), quiet(), server.client() as client:
        plan = ct.plan_pool(client, list(usable["sender_id"].iloc[:200]), name="bench-send")
        return plan.apply(progress=False).id


def send_once(
    server: Server, pool_id: str, numbers: list[str], http: Any
) -> tuple[float, float, int, int]:
    """(seconds of test_send + messages frame, seconds of the raw floor, rows, sends)."""
    transport = CountingTransport()
    with instant_clock(server), quiet(), server.client(transport) as client:
        elapsed, (run, messages) = timed(lambda: _send(client, pool_id, numbers))
    floor, _ = timed(
        lambda: raw_pages(http, "/Messages", "messages", {"tags": f"{RUN_TAG}:{run.run_id};"})
    )
    return elapsed, floor, len(messages), transport.counts["POST /v1/Messages"]


def _send(client: Any, pool_id: str, numbers: list[str]) -> tuple[Any, pd.DataFrame]:
    """A test send, waited for (test_send's default), and its messages frame."""
    run = ct.test_send(client, pool_id, numbers, "bench")
    return run, run.messages


def p6(server: Server, frame: pd.DataFrame, sizes: Sizes) -> tuple[Line, float, str]:
    """P6: ``test_send`` to ``recipients`` numbers, tracked to COMPLETED, messages frame;
    against the floor of fetching the same messages pages raw."""
    pool_id = bench_pool(server, frame)
    runs = max(1, min(3, sizes.repeats))
    totals, floors, sends, rows = [], [], [], []
    with server.http() as http:
        for run in range(runs):
            numbers = recipients(sizes.recipients, 2_000_000 + run * sizes.recipients)
            total, floor, n, posts = send_once(server, pool_id, numbers, http)
            totals.append(total)
            floors.append(floor)
            sends.append(posts)
            rows.append(n)
    total, floor = statistics.median(totals), statistics.median(floors)
    ratio = total / floor
    ok = ratio <= 5 and all(s == 1 for s in sends) and all(r == sizes.recipients for r in rows)
    line = Line(
        "P6",
        f"test_send of {sizes.recipients:,} recipients, clock instant (send, track, frame)",
        f"commstoolkit {seconds(total)}, floor (raw messages pages) {seconds(floor)}, ratio "
        f"{ratio:.2f}x; send requests per run {sends}, rows {rows[0]:,}",
        verdict(ok),
        "one send request; <= 5.00x the floor",
    )
    return line, total, pool_id


def p6_growth(server: Server, pool_id: str, small_seconds: float, sizes: Sizes) -> Line:
    """How a test send grows from ``recipients`` to ``recipients_growth`` numbers (one run;
    above 10,000 recipients a send takes one request per 10,000)."""
    numbers = recipients(sizes.recipients_growth, 5_000_000)
    with server.http() as http:
        total, _, n, posts = send_once(server, pool_id, numbers, http)
    factor = sizes.recipients_growth / sizes.recipients
    growth = total / small_seconds
    return Line(
        "P6-grow",
        f"test_send {sizes.recipients:,} -> {sizes.recipients_growth:,} recipients "
        f"({factor:.0f}x the recipients)",
        f"{seconds(small_seconds)} -> {seconds(total)}, {growth:.1f}x the time "
        f"({posts} send requests, {n:,} rows)",
        verdict(growth <= factor * 1.3),
        f"close to {factor:.0f}x (<= {factor * 1.3:.0f}x)",
    )
