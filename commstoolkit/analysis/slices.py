"""A window of ``GET /Messages`` fetched as slices of creation time side by side.

Token pagination is sequential within one query; ``startDate`` / ``endDate`` filter on a
message's creation time (inclusive start, exclusive end: comms-api.md §11, the same reading
``load_traffic``'s window relies on), so slices of a window are independent queries. For
each window (a day of an export, or ``load_traffic``'s whole window):

1. its first page (a window of one page costs one request, as before);
2. the rest, from the second of the first page's last message, cut into slices of about
   ``PAGES_PER_SLICE`` pages by the first page's density (enough of them in all windows for
   ``concurrency``), fetched by up to ``concurrency`` requests at once
   (``client.concurrency``: AIMD on 429, ``Retry-After`` honoured); the next windows'
   slices while a window is handed over.

Each slice is read into a ``STORED_SCHEMA`` table as it arrives; a message the first page
already held (same second as its last one) is dropped from the first slice by id. Tables come
out in window and time order, a few slices ahead at most (``run_concurrently``'s bound), so an
export stays in constant memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..client.concurrency import Throttle, run_concurrently
from .columns import TrafficColumns

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["Window", "window_tables"]

Window = tuple[pd.Timestamp, pd.Timestamp]
PAGE_SIZE = 1000
# Pages per slice: each slice ends with a part page (one request more); a window's first
# page says how many pages the rest holds (roughly: traffic has its hours).
PAGES_PER_SLICE = 8
# Messages a slice's thread reads before turning them into Arrow (memory vs. conversions).
ARROW_EVERY = 4 * PAGE_SIZE


def window_tables(
    client: CommsClient,
    windows: Sequence[Window],
    filters: Mapping[str, Any],
    concurrency: int,
) -> Iterator[tuple[int, pa.Table]]:
    """``(window index, table)`` for every slice of every window, in order (see the module);
    a window's first table is its first page. ``filters``: ``channel``, ``status``, ``tags``."""
    throttle = Throttle(concurrency)

    def pages(begin: pd.Timestamp, end: pd.Timestamp | None) -> Any:
        return client.messages.list(start_date=begin, end_date=end, **filters)

    def first(window: Window) -> Callable[[], tuple[pa.Table, str | None]]:
        def task() -> tuple[pa.Table, str | None]:
            columns = TrafficColumns()
            _, cursor = pages(*window).first_page(columns.add)
            return columns.table(), cursor

        return task

    firsts = list(run_concurrently([first(w) for w in windows], concurrency, throttle=throttle))
    tasks: list[Callable[[], pa.Table]] = []
    owners: list[int] = []
    for index, (window, (table, cursor)) in enumerate(zip(windows, firsts, strict=True)):
        if cursor is None or not len(table):
            continue
        # Enough slices in all for the concurrency; a long window in slices of about
        # PAGES_PER_SLICE pages (several windows share the threads: fewer, longer ones).
        least = math.ceil(concurrency / len(windows))
        for n, (low, high) in enumerate(_rest(window, table, least)):
            owners.append(index)
            tasks.append(_slice(pages, low, high, table["message_id"] if n == 0 else None))
    # Few slices ahead of the one being written: an export's memory stays constant.
    fetched = run_concurrently(tasks, concurrency, throttle=throttle, ahead=concurrency)
    rest = zip(owners, fetched, strict=True)
    pending = next(rest, None)  # starts the slices before the first table is handed over
    for index, (table, _) in enumerate(firsts):
        yield index, table
        while pending is not None and pending[0] == index:
            yield pending
            pending = next(rest, None)


def _rest(window: Window, table: pa.Table, least: int) -> list[tuple[Any, Any]]:
    """Slices of ``window`` after its first page ``table`` (whole seconds, consecutive): at
    least ``least``, and about ``PAGES_PER_SLICE`` pages each by the page's density."""
    end = window[1]
    created = table["created_at"]
    first = pd.Timestamp(pc.min(created).as_py())
    last = pd.Timestamp(pc.max(created).as_py()).floor("s")
    span = max((last - first).total_seconds(), 1.0)
    ahead = max((end - last).total_seconds(), 1.0)
    pages = len(table) * ahead / span / PAGE_SIZE
    seconds = math.ceil(ahead)
    count = max(1, min(max(least, math.ceil(pages / PAGES_PER_SLICE)), seconds))
    cuts = [last + timedelta(seconds=seconds * i // count) for i in range(count)] + [end]
    return list(pairwise(cuts))


def _slice(
    pages: Callable[[pd.Timestamp, pd.Timestamp | None], Any],
    begin: pd.Timestamp,
    end: pd.Timestamp,
    seen: pa.ChunkedArray | None,
) -> Callable[[], pa.Table]:
    def task() -> pa.Table:
        # To Arrow every few pages: a thread holds a few pages as Python objects, not a slice.
        columns = TrafficColumns()
        parts = []
        for _ in pages(begin, end).read_pages(columns.add):
            if len(columns) >= ARROW_EVERY:
                parts.append(columns.table())
                columns.clear()
        parts.append(columns.table())
        table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        if seen is not None and len(table):
            table = table.filter(pc.invert(pc.is_in(table["message_id"], value_set=seen)))
        return table

    return task
