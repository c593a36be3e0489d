"""What every benchmark shares: sizes, timing (interleaved medians), result lines, servers.

Timings are wall-clock medians of repeated runs; a target that compares two things runs
them interleaved (a, b, a, b, ...) in the same process, so that a noisy machine slows both
alike and the printed ratio stays meaningful. Nothing here asserts a time: a benchmark
reports PASS or MISS and the run carries on.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from commstoolkit import CommsClient
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import run_server

SEED = 7


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is (the defaults are the issue's sizes)."""

    senders: int = 100_000
    growth_from: int = 10_000
    pool_size: int = 25_000
    recipients: int = 10_000
    recipients_growth: int = 100_000
    frame_rows: int = 1_000_000
    repeats: int = 7
    import_runs: int = 15
    history_messages: int = 1_000_000


@dataclass
class Line:
    """One printed result: what was measured, the numbers, the target, PASS / MISS / INFO."""

    key: str
    what: str
    measured: str
    verdict: str = "INFO"
    target: str = ""

    def render(self) -> str:
        """``P1   what ... measured ... target ... PASS``."""
        target = f" | target {self.target}" if self.target else ""
        return f"{self.key:<6} {self.verdict:<4} {self.what}: {self.measured}{target}"


def verdict(ok: bool) -> str:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


def seconds(value: float) -> str:
    """A duration for humans: ``812 ms`` or ``3.41 s``."""
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def millis(value: float) -> str:
    """A short duration in milliseconds with two decimals below 10 ms."""
    ms = value * 1000
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call, after a garbage collection."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleaved_medians(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds of each callable, run ``repeats`` times in turn (a, b, a, b, ...)."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            samples[name].append(timed(fn)[0])
    return {name: statistics.median(values) for name, values in samples.items()}


@dataclass
class Server:
    """A seeded sandbox served over loopback HTTP, and ways to talk to it."""

    sandbox: Sandbox
    base_url: str

    def client(self, transport: httpx.BaseTransport | None = None) -> CommsClient:
        """A commstoolkit client for this server (``live=False``: it is the sandbox)."""
        return CommsClient(
            account_sid=self.sandbox.account_sid,
            auth_token=self.sandbox.auth_token,
            base_url=self.base_url,
            transport=transport,
            live=False,
        )

    def http(self) -> httpx.Client:
        """A bare httpx client with the sandbox's credentials."""
        return httpx.Client(base_url=self.base_url, auth=self.sandbox.credentials(), timeout=60)


@contextmanager
def serve(senders: int, db: str | None = None) -> Iterator[Server]:
    """A sandbox seeded with ``senders`` senders (``db``: a SQLite file, reused when it holds
    that account already; default in memory), served on 127.0.0.1 for the block."""
    sandbox = Sandbox(db or ":memory:", seed=SEED, senders=senders)
    try:
        with run_server(sandbox) as running:
            yield Server(sandbox, running.base_url)
    finally:
        sandbox.close()


@dataclass
class CountingTransport(httpx.BaseTransport):
    """An httpx transport over the network that counts requests by kind (method + route)."""

    inner: httpx.BaseTransport = field(default_factory=httpx.HTTPTransport)
    counts: Counter[str] = field(default_factory=Counter)
    page_sizes: dict[str, set[str]] = field(default_factory=dict)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind = f"{request.method} {route(request.url.path)}"
        self.counts[kind] += 1
        if "pageSize" in request.url.params:
            self.page_sizes.setdefault(kind, set()).add(request.url.params["pageSize"])
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def route(path: str) -> str:
    """A request path with its ids replaced by ``{id}``: ``/v1/SenderPools/{id}/Senders``."""
    parts = path.split("/")
    return "/".join("{id}" if part.startswith("comms_") else part for part in parts)


def raw_pages(
    http: httpx.Client, path: str, items: str, params: dict[str, Any] | None = None
) -> list[list[dict[str, Any]]]:
    """Every page of a listing at pageSize 1000, decoded with ``json``: the floor."""
    import json

    pages: list[list[dict[str, Any]]] = []
    query = {**(params or {}), "pageSize": 1000}
    while True:
        data = json.loads(http.get(path, params=query).content)
        pages.append(data[items])
        token = data["pagination"]["next"]
        if not token:
            return pages
        query["pageToken"] = token
