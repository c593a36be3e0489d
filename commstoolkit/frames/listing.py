"""A full listing of senders (the account's, or a pool's members) split into independent
queries fetched side by side, reassembled in exactly the order one sequential listing gives.

Token pagination is sequential within one query, but the filters split a listing into
queries that can run at once (``client.concurrency``: a bounded thread pool and an AIMD
throttle). For each listing asked for (a channel / status filter, or none):

1. its first page, unsplit: a listing of one page is done in one request, as before;
2. with ``split``, the rest cut into slices of creation time (``startDate`` /
   ``endDate``) from where the first page ended, sized from that page's density so that
   they take about equal time, all fetched at once: slices of time are slices of ids, so
   they come back already in order;
3. without it, one query per channel x status (the API's enums, whose meaning is certain:
   every sender has one channel and one status; a page holding another value stops the
   split), each dropping what the first page held: their first pages at once, then the
   rest of each with its token; merged by id.

Reassembly relies on what the listing's order is: ascending sender id (ids embed their
creation time; the sandbox pages by id, as keyset pagination does). Every page is checked:
if any query's ids do not ascend, or a sender comes twice, the order is not the one assumed,
``OrderUnknown`` is raised and the loader falls back to one sequential listing, so a
concurrent load never returns other rows or another order than a sequential one.

What ``split`` assumes: that ``startDate`` / ``endDate`` filter senders on their creation
time (comms-api.md §11 decides so for the sandbox; Twilio's documentation only says "date
range"). Until confirmed on the live API it is off there by default: ``split=None`` splits
by time only when the server is a commstoolkit sandbox.
"""

from __future__ import annotations

import logging
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import chain, islice, pairwise
from typing import TYPE_CHECKING, Any

from ..models import SENDER_CHANNELS, SENDER_STATUSES

if TYPE_CHECKING:
    from ..client import CommsClient, Pager
    from ..client.concurrency import Throttle

__all__ = [
    "Listing",
    "OrderUnknown",
    "Walk",
    "fetch_listings",
    "split_by_time",
    "time_slices",
]

logger = logging.getLogger("commstoolkit.frames")

PAGE_SIZE = 1000
# Pages per time slice: fewer means more queries (each ends with a part page) and waves of
# them, more means longer sequential walks.
PAGES_PER_SLICE = 6

# (channel, status, start_date, end_date) -> the listing's pager.
PagerFactory = Callable[[str | None, str | None, datetime | None, datetime | None], "Pager[Any]"]
Objects = list[dict[str, Any]]


class OrderUnknown(Exception):
    """The server's order is not ascending ids: a concurrent load cannot reproduce it."""


@dataclass
class Walk:
    """What one query of a listing brought: its ids (ascending) and its objects as
    ``Listing.prepare`` read them (in the thread that fetched them)."""

    ids: list[str]
    part: Any


@dataclass
class Listing:
    """One listing to fetch: its pager factory, the filters asked for (None: all), and how
    to read a query's objects (``prepare``; default: keep them as they are)."""

    pager: PagerFactory
    channel: str | None = None
    status: str | None = None
    prepare: Callable[[Objects], Any] = list
    walks: list[Walk] = field(default_factory=list)

    def walk(self, objects: Objects, after: str | None = None) -> Walk:
        """``objects`` (those above ``after``) as a ``Walk``; ``OrderUnknown`` when their
        ids do not ascend."""
        kept = _after(objects, after)
        return Walk(_ascending_ids(kept), self.prepare(kept))


@dataclass(frozen=True)
class _Query:
    """One query of a listing: its filters, and the ids at or below ``after`` to drop
    (another query fetched them)."""

    listing: int
    channel: str | None
    status: str | None
    start: datetime | None = None
    end: datetime | None = None
    after: str | None = None


def split_by_time(client: CommsClient, split: bool | None) -> bool:
    """Whether to slice sender listings by creation time: ``split`` if given, else only when
    the server is known to be a commstoolkit sandbox (see the module)."""
    if split is not None:
        return bool(split)
    return client.sandbox is not None or client.server_is_sandbox is True


def fetch_listings(
    listings: Sequence[Listing],
    *,
    concurrency: int,
    split: Callable[[], bool],
    now: Callable[[], datetime | None],
    throttle: Throttle,
    side_by_side: Callable[[], bool] = lambda: True,
) -> list[Sequence[int]]:
    """Each listing's order: positions in its walks' rows (``Listing.walks``, one after
    the other) in the order one sequential listing gives.

    ``split()``, ``now()`` and ``side_by_side()`` are asked after the first pages (the
    server's answers say whether it is a sandbox, its clock, and how long a request takes:
    when ``side_by_side()`` is False, each listing goes on from its first page one page
    after the other). Raises ``OrderUnknown`` (see the module).
    """
    from ..client.concurrency import run_concurrently

    def run(tasks: list[Callable[[], Any]]) -> list[Any]:
        return list(run_concurrently(tasks, concurrency, throttle=throttle))

    asked = [_Query(i, item.channel, item.status) for i, item in enumerate(listings)]
    firsts = run([_first(listings[query.listing].pager, query) for query in asked])
    probes: list[_Query] = []
    owners: list[int] = []
    tasks: list[Callable[[], Walk]] = []
    concurrent = side_by_side()
    for query, (objects, cursor) in zip(asked, firsts, strict=True):
        listing = listings[query.listing]
        listing.walks.append(listing.walk(objects))
        if cursor is None or not objects:
            continue
        if not concurrent:
            owners.append(query.listing)
            tasks.append(_rest(listing, query, cursor))
            continue
        if not split():
            _check_enums(objects)
            probes.extend(_partitions(query, objects))
            continue
        moment = now() or datetime.now(timezone.utc)
        for piece in _planned(query, objects, moment, concurrency):
            owners.append(query.listing)
            tasks.append(_walk(listing, piece))
    found = run([_first(listings[q.listing].pager, q) for q in probes]) if probes else []
    for query, (objects, cursor) in zip(probes, found, strict=True):
        listing = listings[query.listing]
        listing.walks.append(listing.walk(objects, query.after))
        if cursor is not None:
            owners.append(query.listing)
            tasks.append(_rest(listing, query, cursor))
    done = run(tasks) if concurrent else list(run_concurrently(tasks, 1, throttle=throttle))
    for owner, walk in zip(owners, done, strict=True):
        listings[owner].walks.append(walk)
    return [_order(listing.walks) for listing in listings]


def _combinations(query: _Query) -> list[tuple[str, str]]:
    """The channel x status values a listing asked for spans (the API's enums)."""
    channels = [query.channel] if query.channel else list(SENDER_CHANNELS)
    statuses = [query.status] if query.status else list(SENDER_STATUSES)
    return [(ch, st) for ch in channels for st in statuses]


def _partitions(query: _Query, first: Objects) -> list[_Query]:
    """The channel x status queries of a listing whose first page was ``first``, each
    dropping what that page held (ids up to its last)."""
    after = _id(first[-1])
    return [_Query(query.listing, ch, st, after=after) for ch, st in _combinations(query)]


def _planned(query: _Query, page: Objects, now: datetime, concurrency: int) -> list[_Query]:
    """The rest of a listing after its first ``page``: slices of creation time from the
    second of the page's last sender to ``now`` (the last one open-ended), about
    ``PAGES_PER_SLICE`` pages each by the page's density. Slices of time are slices of ids
    too: their walks come one after the other in id order, nothing to merge."""
    first, last = _created(page[0]), _created(page[-1])
    begin = _second(last)
    span = max((last - first).total_seconds(), 1.0)
    ahead = max((now - begin).total_seconds(), 1.0)
    pages = len(page) * ahead / span / PAGE_SIZE
    # Whole waves of slices (a multiple of the concurrency) of about PAGES_PER_SLICE pages;
    # a short rest in as many slices as pages.
    waves = max(1, round(pages / (concurrency * PAGES_PER_SLICE)))
    count = max(1, min(waves * concurrency, math.ceil(pages)))
    bounds = time_slices(begin, begin + timedelta(seconds=math.ceil(ahead)), count)
    return [
        _Query(
            query.listing,
            query.channel,
            query.status,
            start=low,
            end=high if i < len(bounds) - 1 else None,
            after=_id(page[-1]) if i == 0 else None,
        )
        for i, (low, high) in enumerate(bounds)
    ]


def _check_enums(page: Objects) -> None:
    """A sender outside the API's channels and statuses would fall between the queries."""
    for item in page:
        if item.get("channel") not in SENDER_CHANNELS or item.get("status") not in SENDER_STATUSES:
            raise OrderUnknown("a sender outside the API's channels and statuses")


def _first(pager: PagerFactory, query: _Query) -> Callable[[], tuple[Objects, str | None]]:
    def task() -> tuple[Objects, str | None]:
        objects, cursor = pager(query.channel, query.status, query.start, query.end).first_page(
            list
        )
        return objects, cursor

    return task


def _rest(listing: Listing, query: _Query, cursor: str) -> Callable[[], Walk]:
    """The rest of ``query``'s walk, from ``cursor``."""

    def task() -> Walk:
        pages = listing.pager(query.channel, query.status, query.start, query.end)
        return listing.walk(list(chain.from_iterable(pages.read_pages_from(list, cursor))))

    return task


def _walk(listing: Listing, query: _Query) -> Callable[[], Walk]:
    def task() -> Walk:
        pages = listing.pager(query.channel, query.status, query.start, query.end)
        return listing.walk(list(chain.from_iterable(pages.read_pages(list))), query.after)

    return task


def time_slices(begin: datetime, end: datetime, count: int) -> list[tuple[Any, Any]]:
    """``[begin, end)`` cut into ``count`` (or fewer) consecutive slices of whole seconds."""
    seconds = max(1, math.ceil((end - begin).total_seconds()))
    count = max(1, min(count, seconds))
    cuts = [begin + timedelta(seconds=seconds * i // count) for i in range(count + 1)]
    return list(pairwise(cuts))


def _ascending_ids(objects: Objects) -> list[str]:
    try:
        ids = [item["id"] for item in objects]
    except (KeyError, TypeError):
        raise OrderUnknown("a sender without an id") from None
    if any(type(i) is not str for i in ids):
        raise OrderUnknown("a sender without an id")
    if not all(map(operator.lt, ids, islice(ids, 1, None))):
        raise OrderUnknown("a listing's ids do not ascend")
    return ids


def _order(walks: list[Walk]) -> Sequence[int]:
    """Positions of the walks' rows (one walk after the other) in ascending id;
    ``OrderUnknown`` when an id comes twice."""
    ids = list(chain.from_iterable(walk.ids for walk in walks))
    if all(map(operator.lt, ids, islice(ids, 1, None))):
        return range(len(ids))  # slices of time: already in order
    order = sorted(range(len(ids)), key=ids.__getitem__)
    if any(ids[a] == ids[b] for a, b in pairwise(order)):
        raise OrderUnknown("a sender came in two queries")
    return order


def _after(objects: Objects, after: str | None) -> Objects:
    return objects if after is None else [o for o in objects if _id(o) > after]


def _id(item: Any) -> str:
    value = item.get("id") if isinstance(item, dict) else None
    if not isinstance(value, str):
        raise OrderUnknown("a sender without an id")
    return value


def _created(item: dict[str, Any]) -> datetime:
    text = item.get("createdAt")
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise OrderUnknown("a sender without a readable createdAt") from None
    if moment.tzinfo is None:
        raise OrderUnknown("a sender's createdAt has no time zone")
    return moment


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
