"""P9, P9-429, P13, P14, P15 (issue 15): the toolkit over a realistic round trip.

On loopback a page costs a few milliseconds; against Twilio every request first costs a
round trip of 50-150 ms. These benchmarks serve the sandbox from a process of its own (as
Twilio is: its work does not share this process's interpreter) with
``commstoolkit sandbox serve --latency 100ms``, and compare with the sequential floor at the
same latency, in one run:

- **P9**: ``load_senders`` of 100,000 senders (default concurrency) vs the sequential floor
  (bare httpx + json, pageSize 1000, one page after the other). Target <= 0.3x, with at
  most the configured concurrency in flight (counted by the client's transport).
- **P9-429**: the same load from a server that answers 429 (Retry-After 1 s) beyond 4
  requests in flight: no request fails, no row is lost, and the time is within 1.5x of the
  best fixed concurrency for that limit (2, 3 or 4, which never meet a 429).
- **P13**: ``export_traffic`` of 1,000,000 messages vs its sequential floor (the same pages
  raw, one after the other); memory constant as P10 (a process exporting one day vs all).
- **P14**: ``create_pool`` of 25,000 senders end to end (plan with the inventory, apply,
  wait, verify) on the sandbox's real-time clock: the requests by kind are what they were
  (1 create + 2 adds + polls + member pages), and the wall time goes to operation polling,
  not to listing.
- **P15**: ``load_senders(client, max_age="15m")`` from the cache vs a fresh load: <= 5%.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pandas as pd

import commstoolkit as ct
from benchmarks._common import (
    SEED,
    CountingTransport,
    Line,
    Sizes,
    raw_pages,
    route,
    seconds,
    timed,
    verdict,
)
from commstoolkit.client.concurrency import DEFAULT_CONCURRENCY
from commstoolkit.sandbox import Sandbox

LATENCY = "100ms"
P9_TARGET = 0.3
P9_LIMIT = 4
P9_429_TARGET = 1.5
P13_TARGET = 0.3
P13_DAYS = 10
P15_TARGET = 0.05
P16_TARGET = 0.3
P16_RECIPIENTS = 10_000
MEMORY_TARGET = 1.2
ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = ("AC00000000000000000000000000000000", "sandbox-auth-token")


@dataclass
class Served:
    """A ``commstoolkit sandbox serve`` process on loopback."""

    base_url: str

    def client(self, transport: httpx.BaseTransport | None = None) -> ct.CommsClient:
        sid, token = CREDENTIALS
        return ct.CommsClient(
            account_sid=sid,
            auth_token=token,
            base_url=self.base_url,
            transport=transport,
            live=False,
            timeout=120,
        )

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, auth=CREDENTIALS, timeout=120)


@contextlib.contextmanager
def serve_process(db: str, *flags: str) -> Iterator[Served]:
    """``commstoolkit sandbox serve --db DB --port 0 FLAGS`` for the block."""
    env = _env()
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(name, None)
    command = [sys.executable, "-m", "commstoolkit", "sandbox", "serve", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--db", db, *flags],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen = ""
        while True:
            line = process.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise RuntimeError(f"the sandbox server did not start: {seen}")
            seen += line
            found = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
            if found:
                break
        # Drain the rest of its output in the background (a full pipe would stall it).
        threading.Thread(target=process.stdout.read, daemon=True).start()  # type: ignore[union-attr]
        yield Served(found.group(1))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class InFlightTransport(httpx.BaseTransport):
    """Counts requests in flight at once (their peak), and requests by kind."""

    inner: httpx.BaseTransport = field(default_factory=httpx.HTTPTransport)
    peak: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    _now: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self._now += 1
            self.peak = max(self.peak, self._now)
            self.counts[f"{request.method} {route(request.url.path)}"] += 1
        try:
            response = self.inner.handle_request(request)
        finally:
            with self._lock:
                self._now -= 1
        self.statuses[response.status_code] += 1
        return response

    def close(self) -> None:
        self.inner.close()


def inventory_lines(sizes: Sizes, wanted: set[str]) -> Iterator[Line]:
    """Those of P9, P15, P14 and P9-429 ``wanted``, on one account of ``sizes.senders``
    senders, each line as it is measured."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "senders.sqlite3")
        Sandbox(path, seed=SEED, senders=sizes.senders).close()
        if wanted & {"P9", "P15", "P14", "P16"}:
            with serve_process(path, "--latency", LATENCY) as served:
                if "P9" in wanted:
                    yield p9(served, sizes)
                if "P15" in wanted:
                    yield p15(served, sizes, Path(folder) / "cache")
                if "P16" in wanted:
                    yield p16(served, sizes)
                if "P14" in wanted:
                    yield p14(served, sizes)
        if "P9-429" in wanted:
            limited = ("--latency", LATENCY, "--max-in-flight", str(P9_LIMIT))
            with serve_process(path, *limited) as served:
                yield p9_429(served, sizes)


def _floor_ids(served: Served) -> tuple[float, list[str]]:
    with served.http() as http:
        elapsed, pages = timed(lambda: raw_pages(http, "/Senders", "senders"))
    return elapsed, [item["id"] for page in pages for item in page]


def p9(served: Served, sizes: Sizes) -> Line:
    """P9: ``load_senders`` at the default concurrency vs the sequential floor, at 100 ms."""
    runs = max(1, min(3, sizes.repeats))
    loads, floors, peak = [], [], 0
    for _ in range(runs):
        transport = InFlightTransport()
        with served.client(transport) as client:
            elapsed, frame = timed(lambda c=client: ct.load_senders(c, progress=False))
        loads.append(elapsed)
        peak = max(peak, transport.peak)
        floor, ids = _floor_ids(served)
        floors.append(floor)
        assert list(frame["sender_id"]) == ids  # the same rows, in the same order
    load, floor = statistics.median(loads), statistics.median(floors)
    concurrency = DEFAULT_CONCURRENCY
    return Line(
        "P9",
        f"load_senders of {len(ids):,} senders at {LATENCY} round trip (concurrency {concurrency})",
        f"commstoolkit {seconds(load)}, sequential floor (httpx + json, pageSize 1000) "
        f"{seconds(floor)}, ratio {load / floor:.2f}x; peak {peak} in flight",
        verdict(load / floor <= P9_TARGET and peak <= concurrency),
        f"<= {P9_TARGET:.1f}x the floor, <= {concurrency} in flight",
    )


def p9_429(served: Served, sizes: Sizes) -> Line:
    """P9-429: the default load against an in-flight limit vs the best fixed concurrency."""
    _, ids = _floor_ids(served)
    runs = max(1, min(2, sizes.repeats))
    times: dict[int, list[float]] = {}
    refused = 0
    for _ in range(runs):
        for concurrency in (DEFAULT_CONCURRENCY, 2, 3, P9_LIMIT):
            transport = InFlightTransport()
            with served.client(transport) as client:
                elapsed, frame = timed(
                    lambda c=client, n=concurrency: ct.load_senders(
                        c, concurrency=n, progress=False
                    )
                )
            assert list(frame["sender_id"]) == ids  # nothing lost, nothing twice
            times.setdefault(concurrency, []).append(elapsed)
            if concurrency == DEFAULT_CONCURRENCY:
                refused += transport.statuses[429]
    medians = {n: statistics.median(values) for n, values in times.items()}
    adaptive = medians.pop(DEFAULT_CONCURRENCY)
    best = min(medians, key=medians.__getitem__)
    ratio = adaptive / medians[best]
    fixed = ", ".join(f"{n}: {seconds(t)}" for n, t in sorted(medians.items()))
    return Line(
        "P9-429",
        f"load_senders of {len(ids):,} under a limit of {P9_LIMIT} in flight (429, "
        f"Retry-After 1 s) at {LATENCY}",
        f"adaptive (concurrency {DEFAULT_CONCURRENCY}) {seconds(adaptive)} "
        f"with {refused} 429s answered and none failed; fixed {fixed}; ratio "
        f"{ratio:.2f}x the best ({best})",
        verdict(ratio <= P9_429_TARGET),
        f"no failure, no row lost, <= {P9_429_TARGET:.1f}x the best fixed concurrency",
    )


def p15(served: Served, sizes: Sizes, folder: Path) -> Line:
    """P15: a cached ``load_senders`` vs a fresh one, at 100 ms."""
    before = os.environ.get("COMMSTOOLKIT_CACHE_DIR")
    os.environ["COMMSTOOLKIT_CACHE_DIR"] = str(folder)
    runs = max(3, min(5, sizes.repeats))
    fresh, cached = [], []
    try:
        with served.client() as client:
            for _ in range(runs):
                elapsed, frame = timed(
                    lambda: ct.load_senders(client, max_age=0, progress=False)
                )  # too old to reuse: asks the server, keeps the frame
                fresh.append(elapsed)
                elapsed, again = timed(lambda: ct.load_senders(client, max_age="15m"))
                cached.append(elapsed)
                assert again.attrs["cached"] and again.equals(frame)
    finally:
        if before is None:
            os.environ.pop("COMMSTOOLKIT_CACHE_DIR", None)
        else:
            os.environ["COMMSTOOLKIT_CACHE_DIR"] = before
    hit, miss = statistics.median(cached), statistics.median(fresh)
    return Line(
        "P15",
        f"load_senders of {len(frame):,} from the cache (max_age='15m') vs fresh at {LATENCY}",
        f"cached {seconds(hit)}, fresh {seconds(miss)}, {hit / miss:.1%} of it",
        verdict(hit / miss <= P15_TARGET),
        f"<= {P15_TARGET:.0%} of a fresh load",
    )


def p16(served: Served, sizes: Sizes) -> Line:
    """P16: a test send's routes (a dry run: 100 Resolve calls per 10,000 recipients, the
    reads every send makes first) at the default concurrency vs one call after the other."""
    recipients = min(P16_RECIPIENTS, sizes.recipients)
    numbers = [f"+1914{n:07d}" for n in range(7_000_000, 7_000_000 + recipients)]
    with served.client() as client:
        pool_id = ct.load_pools(client, progress=False)["pool_id"].iloc[0]
    runs = max(1, min(3, sizes.repeats))
    times: dict[int | None, list[float]] = {None: [], 1: []}
    peak, frames = 0, {}
    for _ in range(runs):
        for concurrency in times:
            transport = InFlightTransport()
            with served.client(transport) as client:
                elapsed, run = timed(
                    lambda c=client, n=concurrency: ct.test_send(
                        c, pool_id, numbers, "x", dry_run=True, concurrency=n
                    )
                )
            times[concurrency].append(elapsed)
            frames[concurrency] = run.routes
            if concurrency is None:
                peak = max(peak, transport.peak)
    assert frames[None].equals(frames[1])  # the same routes, in the same order
    default, one = statistics.median(times[None]), statistics.median(times[1])
    calls = -(-recipients // 100)
    return Line(
        "P16",
        f"test_send dry run of {recipients:,} recipients ({calls} Resolve calls) at {LATENCY}",
        f"default {seconds(default)} (peak {peak} in flight), one call after the other "
        f"{seconds(one)}, ratio {default / one:.2f}x",
        verdict(default / one <= P16_TARGET and peak <= DEFAULT_CONCURRENCY),
        f"<= {P16_TARGET:.1f}x one after the other, <= {DEFAULT_CONCURRENCY} in flight",
    )


POLLS = "GET /v1/SenderPools/Operations/{id}"
MEMBER_PAGES = "GET /v1/SenderPools/{id}/Senders"
LISTINGS = {"GET /v1/Senders", MEMBER_PAGES, "GET /v1/SenderPools"}


@dataclass
class TimedTransport(CountingTransport):
    """Counts requests by kind and keeps when each was in flight."""

    spans: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            return super().handle_request(request)
        finally:
            kind = f"{request.method} {route(request.url.path)}"
            self.spans.setdefault(kind, []).append((started, time.perf_counter()))

    def busy(self, kinds: set[str] | None = None) -> float:
        """Seconds during which a request of ``kinds`` (None: any) was in flight."""
        spans = sorted(
            span
            for kind, found in self.spans.items()
            if kinds is None or kind in kinds
            for span in found
        )
        total, end = 0.0, float("-inf")
        for low, high in spans:
            total += max(0.0, high - max(low, end))
            end = max(end, high)
        return total


def p14(served: Served, sizes: Sizes) -> Line:
    """P14: ``create_pool`` of ``pool_size`` senders end to end at 100 ms, real-time clock."""
    with served.client() as client:
        frame = ct.load_senders(client, status="ACTIVATED", progress=False)
    chosen = list(frame["sender_id"].iloc[: sizes.pool_size])
    transport = TimedTransport()
    with served.client(transport) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):  # no progress bars
            ct.create_pool(client, "bench-p14", chosen)
        total = time.perf_counter() - started
    counts = transport.counts
    adds = -(-len(chosen) // 10_000) - 1
    listing = transport.busy(LISTINGS)
    # Polling: the polls and the waits between them (what no other request took).
    waiting = total - transport.busy(set(transport.spans) - {POLLS})
    ok = (
        counts["POST /v1/SenderPools"] == 1
        and counts["POST /v1/SenderPools/{id}/Senders"] == adds
        and counts[MEMBER_PAGES] == -(-len(chosen) // 1000)
        and waiting > listing
    )
    return Line(
        "P14",
        f"create_pool of {len(chosen):,} senders end to end at {LATENCY} (real-time clock)",
        f"{seconds(total)}: operation polling {seconds(waiting)} ({counts[POLLS]} polls), "
        f"listing {seconds(listing)} ({counts['GET /v1/Senders']} inventory pages, "
        f"{counts[MEMBER_PAGES]} member pages); requests: 1 create, "
        f"{counts['POST /v1/SenderPools/{id}/Senders']} adds",
        verdict(ok),
        f"1 create + {adds} adds + polls + member pages; polling > listing",
    )


def p13(sizes: Sizes) -> list[Line]:
    """P13: the export of ``history_messages`` messages at 100 ms vs its sequential floor."""
    from benchmarks.traffic import export_process
    from commstoolkit.analysis import export_traffic

    daily = -(-sizes.history_messages // P13_DAYS)
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "traffic.sqlite3")
        box = Sandbox(db, seed=SEED, senders=300, traffic_days=P13_DAYS, daily_messages=daily)
        faults = box.history_faults()
        box.close()
        start, end, messages = faults["start"], faults["end"], faults["messages"]
        with serve_process(db, "--latency", LATENCY) as served:
            with served.client() as client:
                total, result = timed(
                    lambda: export_traffic(client, start, end, Path(folder) / "x", progress=False)
                )
            assert result.messages == messages
            with served.http() as http:
                query = {"startDate": start, "endDate": end}
                floor, pages = timed(lambda: raw_pages(http, "/Messages", "messages", query))
            assert sum(map(len, pages)) == messages
            del pages
            one_day = (pd.Timestamp(start) + pd.Timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            url = served.base_url
            small, small_kib = export_process(
                url, CREDENTIALS, start, one_day, Path(folder) / "one"
            )
            large, large_kib = export_process(url, CREDENTIALS, start, end, Path(folder) / "all")
    growth = large_kib / small_kib
    return [
        Line(
            "P13",
            f"export_traffic of {messages:,} messages ({P13_DAYS} days) at {LATENCY}",
            f"commstoolkit {seconds(total)}, sequential floor (raw pages, httpx + json) "
            f"{seconds(floor)}, ratio {total / floor:.2f}x",
            verdict(total / floor <= P13_TARGET),
            f"<= {P13_TARGET:.1f}x the floor",
        ),
        Line(
            "P13-mem",
            f"peak resident memory of a concurrent export process: {small:,} vs {large:,} messages",
            f"{small_kib / 1024:,.0f} MiB -> {large_kib / 1024:,.0f} MiB, {growth:.2f}x",
            verdict(growth <= MEMORY_TARGET),
            f"<= {MEMORY_TARGET:.1f}x (constant memory, as P10)",
        ),
    ]


def _env() -> dict[str, str]:
    """This environment, with this checkout first on the path of a child process."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}
