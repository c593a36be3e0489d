"""Inventory benchmarks: P1 (load_senders vs the raw floor), P3 (select_senders), P4
(PoolBuilder), P8 (frame memory), the P1 growth line and the sandbox's page-position line."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd

import commstoolkit as ct

from ._common import (
    Line,
    Server,
    Sizes,
    interleaved_medians,
    millis,
    raw_pages,
    seconds,
    timed,
    verdict,
)


def load_once(server: Server) -> pd.DataFrame:
    """The senders frame, loaded once (for the benchmarks that start from it)."""
    with server.client() as client:
        return ct.load_senders(client, progress=False)


def load_vs_floor(server: Server, repeats: int) -> tuple[dict[str, float], pd.DataFrame]:
    """Median seconds of ``load_senders`` and of the raw floor, interleaved; and the frame."""
    frames: list[pd.DataFrame] = []
    with server.client() as client, server.http() as http:

        def load() -> None:
            frames[:] = [ct.load_senders(client, progress=False)]

        medians = interleaved_medians(
            {"commstoolkit": load, "floor": lambda: raw_pages(http, "/Senders", "senders")},
            repeats,
        )
    return medians, frames[0]


def p1(server: Server, sizes: Sizes) -> tuple[Line, pd.DataFrame, float]:
    """P1: ``load_senders`` of every sender over HTTP vs bare httpx + json at pageSize 1000."""
    medians, frame = load_vs_floor(server, sizes.repeats)
    ratio = medians["commstoolkit"] / medians["floor"]
    line = Line(
        "P1",
        f"load_senders of {len(frame):,} senders over HTTP",
        f"commstoolkit {seconds(medians['commstoolkit'])}, floor (httpx + json, pageSize "
        f"1000) {seconds(medians['floor'])}, ratio {ratio:.2f}x",
        verdict(ratio <= 1.3),
        "<= 1.30x the floor",
    )
    return line, frame, medians["commstoolkit"]


def selection_filters(frame: pd.DataFrame) -> dict[str, Any]:
    """channel + status + search + tag filters that match some rows of this frame."""
    team = frame["tags.team"].value_counts().index[0]
    return {
        "channels": ["SMS", "RCS", "WHATSAPP"],
        "statuses": "ACTIVATED",
        "search": "support",
        "tags": {"team": [team]},
    }


def p3(frame: pd.DataFrame, sizes: Sizes) -> Line:
    """P3: ``select_senders`` with channel + status + search + tag filters."""
    filters = selection_filters(frame)
    ct.select_senders(frame, **filters)
    samples = [timed(lambda: ct.select_senders(frame, **filters))[0] for _ in range(25)]
    median = statistics.median(samples)
    matched = len(ct.select_senders(frame, **filters))
    return Line(
        "P3",
        f"select_senders on {len(frame):,} rows, channel + status + search + tag",
        f"median {millis(median)} of 25 ({matched:,} rows match)",
        verdict(median <= 0.020),
        "median <= 20 ms",
    )


def _builder_changes(builder: Any) -> Iterator[tuple[str, Any, Any]]:
    """(name, control, value) steps that each change the selection, cycling."""
    team = builder.tag_values
    steps = [
        ("status DEACTIVATED on", builder.status_buttons["DEACTIVATED"], True),
        ("channel SMS off", builder.channel_buttons["SMS"], False),
        ("search 'support'", builder.search_text, "support"),
        ("tag values", team, None),
        ("search cleared", builder.search_text, ""),
        ("channel SMS on", builder.channel_buttons["SMS"], True),
        ("status DEACTIVATED off", builder.status_buttons["DEACTIVATED"], False),
        ("tag values cleared", team, ()),
    ]
    while True:
        yield from steps


def p4(server: Server, frame: pd.DataFrame, sizes: Sizes) -> Line:
    """P4: PoolBuilder, one filter change (``.value =``) until the count label changed."""
    from commstoolkit.widgets import PoolBuilder

    with server.client() as client:
        builder = PoolBuilder(client, senders=frame)
    builder.tag_key.value = "team"
    some_team = tuple(builder.tag_values.options[:1])
    samples: list[float] = []
    unchanged = 0
    changes = _builder_changes(builder)
    for _ in range(4 * max(sizes.repeats, 6)):
        _, control, value = next(changes)
        before = builder.count_label.value
        start = time.perf_counter()
        control.value = some_team if value is None else value
        after = builder.count_label.value
        samples.append(time.perf_counter() - start)
        unchanged += after == before
    median = statistics.median(samples)
    note = f", {unchanged} changes left the count as it was" if unchanged else ""
    return Line(
        "P4",
        f"PoolBuilder filter change -> count + preview, {len(frame):,} senders",
        f"median {millis(median)}, max {millis(max(samples))} of {len(samples)} changes{note}",
        verdict(median <= 0.100 and not unchanged),
        "median <= 100 ms",
    )


def p1_growth(small: Server, large_seconds: float, large_n: int, sizes: Sizes) -> Line:
    """How ``load_senders`` grows from the small account to the large one."""
    medians, frame = load_vs_floor(small, sizes.repeats)
    factor = large_n / len(frame)
    growth = large_seconds / medians["commstoolkit"]
    return Line(
        "P1-grow",
        f"load_senders {len(frame):,} -> {large_n:,} senders ({factor:.0f}x the senders)",
        f"{seconds(medians['commstoolkit'])} -> {seconds(large_seconds)}, {growth:.1f}x the time",
        verdict(growth <= factor * 1.3),
        f"close to {factor:.0f}x (<= {factor * 1.3:.0f}x)",
    )


def page_position(server: Server, sizes: Sizes) -> Line:
    """The sandbox's time to serve a 1000-item page first, in the middle, last."""
    with server.http() as http:
        tokens: list[str | None] = [None]
        query: dict[str, Any] = {"pageSize": 1000}
        while True:
            data = http.get("/Senders", params=query).json()
            if not data["pagination"]["next"]:
                break
            tokens.append(data["pagination"]["next"])
            query["pageToken"] = tokens[-1]
        picks = {"first": tokens[0], "middle": tokens[len(tokens) // 2], "last": tokens[-1]}

        def fetch(token: str | None) -> None:
            params = {"pageSize": 1000, **({"pageToken": token} if token else {})}
            json.loads(http.get("/Senders", params=params).content)

        medians = interleaved_medians(
            {name: (lambda t=token: fetch(t)) for name, token in picks.items()},
            max(9, sizes.repeats * 2),
        )
    spread = max(medians.values()) / min(medians.values())
    return Line(
        "PAGE",
        f"sandbox serving a 1000-item page of {sizes.senders:,} senders by position",
        ", ".join(f"{name} {millis(value)}" for name, value in medians.items())
        + f", slowest/fastest {spread:.2f}x",
        verdict(spread <= 1.5),
        "near-constant (<= 1.5x)",
    )


class PagesTransport(httpx.BaseTransport):
    """Serves ``GET /Senders`` from pages held in memory (1000 items each), as the API would."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        index = int(request.url.params.get("pageToken") or 0)
        more = index + 1 < len(self.pages)
        body = {
            "senders": self.pages[index],
            "pagination": {"next": str(index + 1) if more else None, "self": str(index)},
        }
        return httpx.Response(200, content=json.dumps(body).encode(), request=request)


def scaled_pages(pages: list[list[dict[str, Any]]], rows: int) -> list[list[dict[str, Any]]]:
    """``rows`` sender objects in pages of 1000, repeating the seeded ones with unique ids."""
    items = [item for page in pages for item in page]
    out: list[dict[str, Any]] = []
    copy = 0
    while len(out) < rows:
        for item in items[: rows - len(out)]:
            out.append({**item, "id": f"{item['id'][:-4]}{copy:04d}" if copy else item["id"]})
        copy += 1
    return [out[i : i + 1000] for i in range(0, len(out), 1000)]


def string_bytes(pages: list[list[dict[str, Any]]]) -> int:
    """UTF-8 bytes of the string values a senders frame holds (timestamps are not strings
    there: they are 8-byte integers, and are left out)."""
    total = 0
    for page in pages:
        for item in page:
            for key in ("id", "displayName", "address", "channel", "status"):
                value = item.get(key)
                if value is not None:
                    total += len(value.encode())
            total += sum(len(str(v).encode()) for v in (item.get("tags") or {}).values())
    return total


def p8(server: Server, sizes: Sizes) -> Line:
    """P8: deep memory of a senders frame of ``frame_rows`` rows vs its raw string bytes.

    The frame is built by ``load_senders`` itself, from pages served in memory (the seeded
    senders repeated with unique ids), so it is the toolkit's own path end to end.
    """
    with server.http() as http:
        pages = scaled_pages(raw_pages(http, "/Senders", "senders"), sizes.frame_rows)
    raw = string_bytes(pages)
    client = ct.CommsClient(
        account_sid="AC" + "0" * 32,
        auth_token="token",
        base_url="https://pages.invalid/v1",
        transport=PagesTransport(pages),
        live=False,
    )
    with client:
        # One page after the other: the pages served here ignore the channel / status
        # filters a split would send (the split's own checks would refuse them and warn).
        frame = ct.load_senders(client, progress=False, concurrency=1)
    del pages
    used = int(frame.memory_usage(deep=True).sum())
    ratio = used / raw
    objects = [c for c in frame.columns if frame[c].dtype == object]
    enums = {c: str(frame[c].dtype) for c in ("channel", "status")}
    note = f", object columns: {objects}" if objects else ", no object columns"
    return Line(
        "P8",
        f"senders frame memory at {len(frame):,} rows",
        f"deep {used / 1e6:.1f} MB vs {raw / 1e6:.1f} MB of raw strings, ratio {ratio:.2f}x "
        f"(channel/status {enums['channel']}/{enums['status']}{note})",
        verdict(ratio <= 2.0 and not objects),
        "<= 2.00x the raw strings",
    )
