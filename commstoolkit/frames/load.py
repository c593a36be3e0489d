"""Loaders: list the account through the client, with progress bars, into the frames the
builders (``build``) make. Each checks its arguments before any request."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from ..client.concurrency import Throttle, resolve_concurrency, worth_hiding
from ..errors import InvalidInputError
from ..models import SENDER_CHANNELS, SENDER_STATUSES, Message, Sender
from ..rules import TAG_PATTERN, check_id
from .build import messages_frame, pools_frame, senders_columns_frame, typed_frame
from .cache import parse_max_age, read_cached, write_cached
from .listing import Listing, OrderUnknown, PagerFactory, fetch_listings, split_by_time
from .schema import MEMBER_COLUMNS, MEMBER_DTYPES, RUN_TAG
from .sender_columns import SenderColumns

if TYPE_CHECKING:
    from ..client import CommsClient, Pager

__all__ = [
    "DETAILS_LIMIT",
    "checked_flag",
    "fetch_each",
    "fetch_messages",
    "load_messages",
    "load_pool_members",
    "load_pools",
    "load_senders",
    "progress_pages",
]

P = TypeVar("P")
# What reading a sender object raises (Sender.from_api, SenderColumns.add).
UNREADABLE = (KeyError, TypeError, ValueError, AttributeError)
logger = logging.getLogger("commstoolkit.frames")

# Up to this many messages, load_messages fetches each one for its attempts by default.
DETAILS_LIMIT = 1000


def load_senders(
    client: CommsClient,
    channel: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    *,
    progress: bool | None = None,
    concurrency: int | None = None,
    split: bool | None = None,
    max_age: Any = None,
) -> pd.DataFrame:
    """Load every sender of the account into a DataFrame (one row per sender).

    ``channel`` and ``status`` take one value or a list of values (one of
    ``SMS, RCS, EMAIL, WHATSAPP, PUSH`` and ``ACTIVATED, DEACTIVATED``, in any letter
    case: "sms" is "SMS"); each value is a server-side filter. Columns: ``sender_id,
    display_name, address, channel, status, created_at, updated_at`` plus ``tags.<key>``
    per tag key. ``progress=None`` shows a progress bar once the listing spans several pages.

    ``concurrency``: requests in flight at most (None: 8 over a network, 1 on the embedded
    sandbox, which answers in this process; 1: one page after the other, as before): a
    listing longer than a page is split into queries fetched side by side
    (``frames.listing``), the same rows in the same order. ``split``: slice them by creation
    time (None: only on a sandbox, see ``frames.listing``). ``max_age`` (``"15m"``, seconds,
    a timedelta): reuse a frame this recent from the on-disk cache (``frames.cache``;
    default None: always ask the server). ``attrs["fetched_at"]`` says when the rows came
    from the server, ``attrs["cached"]`` whether they came from the cache.

    Raises ``InvalidInputError`` for an unknown channel or status (NA and NaN included), a
    bad ``concurrency``, ``split`` or ``max_age``, before any request.
    """
    channels = _enum_values("channel", channel, SENDER_CHANNELS)
    statuses = _enum_values("status", status, SENDER_STATUSES)
    checked_flag(progress, "progress")
    checked_flag(split, "split")
    adaptive = concurrency is None
    concurrency = resolve_concurrency(concurrency, client.sandbox is not None, client.round_trip())
    age = parse_max_age(max_age)
    key = ("senders", {"channel": channels, "status": statuses})
    cached = read_cached(client, *key, age)
    if cached is not None:
        return cached
    fetched_at = pd.Timestamp.now(tz="UTC")
    # Pages are read straight into columns: no Sender object per row (see SenderColumns).
    combos = [(ch, st) for ch in channels for st in statuses]
    listings = [Listing(_senders_pager(client), ch, st, _sender_columns) for ch, st in combos]
    found = _concurrent(client, listings, concurrency, adaptive, split, progress, "senders")
    if found is not None:
        parts = [SenderColumns.merged(walks, order) for walks, order in found]
        columns = (
            parts[0]
            if len(parts) == 1
            else SenderColumns.merged(parts, range(sum(map(len, parts))))
        )
    else:
        # Sequential: concurrency=1, or the server's order is not the one assumed.
        columns = SenderColumns()
        for ch, st in combos:
            pages = client.senders.list(channel=ch, status=st).read_pages(columns.add)
            for _ in progress_pages(pages, progress, "senders", size=int):
                pass
    frame = senders_columns_frame(columns)
    return write_cached(client, *key, frame, fetched_at, age)


def load_pools(
    client: CommsClient,
    *,
    progress: bool | None = None,
    concurrency: int | None = None,
    split: bool | None = None,
    max_age: Any = None,
) -> pd.DataFrame:
    """Load every sender pool with its composition (one row per pool).

    Columns: ``pool_id, name, created_at, updated_at, size, n_activated,
    n_deactivated, channels`` (the channels present, sorted, comma separated)
    plus ``tags.<key>`` per tag key. Lists each pool's members to count them, up to
    ``concurrency`` requests at once (see ``load_senders`` for it, ``split`` and
    ``max_age``).
    """
    checked_flag(progress, "progress")
    checked_flag(split, "split")
    adaptive = concurrency is None
    concurrency = resolve_concurrency(concurrency, client.sandbox is not None, client.round_trip())
    age = parse_max_age(max_age)
    cached = read_cached(client, "pools", {}, age)
    if cached is not None:
        return cached
    fetched_at = pd.Timestamp.now(tz="UTC")
    pools = list(_with_progress(client.sender_pools.list().pages(), progress, "pools"))
    found = _members_of(client, [pool.id for pool in pools], concurrency, adaptive, split, progress)
    members = {pool.id: senders for pool, senders in zip(pools, found, strict=True)}
    return write_cached(client, "pools", {}, pools_frame(pools, members), fetched_at, age)


def load_pool_members(
    client: CommsClient,
    pool_ids: str | Iterable[str] | None = None,
    *,
    progress: bool | None = None,
    concurrency: int | None = None,
    split: bool | None = None,
    max_age: Any = None,
) -> pd.DataFrame:
    """Load pool memberships as a long frame: one row per (pool, sender).

    ``pool_ids`` limits the load to these pools (default: every pool).
    Columns: ``pool_id, pool_name, sender_id, address, channel, status``.
    ``concurrency``, ``split``, ``max_age``: as ``load_senders``.
    Raises ``NotFoundError`` for a pool id that does not exist.
    """
    checked_flag(progress, "progress")
    checked_flag(split, "split")
    adaptive = concurrency is None
    concurrency = resolve_concurrency(concurrency, client.sandbox is not None, client.round_trip())
    age = parse_max_age(max_age)
    ids = None if pool_ids is None else _checked_pool_ids(pool_ids)  # all, before any request
    key = ("members", {"pool_ids": ids})
    cached = read_cached(client, *key, age)
    if cached is not None:
        return cached
    fetched_at = pd.Timestamp.now(tz="UTC")
    if ids is None:
        pools = list(client.sender_pools.list())
    else:
        pools = [client.sender_pools.get(pool_id) for pool_id in dict.fromkeys(ids)]
    found = _members_of(client, [pool.id for pool in pools], concurrency, adaptive, split, progress)
    rows: dict[str, list[Any]] = {column: [] for column in MEMBER_COLUMNS}
    for pool, senders in zip(pools, found, strict=True):
        for sender in senders:
            rows["pool_id"].append(pool.id)
            rows["pool_name"].append(pool.name)
            rows["sender_id"].append(sender.id)
            rows["address"].append(sender.address)
            rows["channel"].append(sender.channel)
            rows["status"].append(sender.status)
    return write_cached(client, *key, typed_frame(rows, MEMBER_DTYPES), fetched_at, age)


def _members_of(
    client: CommsClient,
    pool_ids: list[str],
    concurrency: int,
    adaptive: bool,
    split: bool | None,
    progress: bool | None,
) -> list[list[Sender]]:
    """Each pool's members, in the server's order."""
    listings = [Listing(_members_pager(client, pool_id), prepare=_senders) for pool_id in pool_ids]
    found = _concurrent(client, listings, concurrency, adaptive, split, progress, "members")
    if found is not None:
        return [_reordered(walks, order) for walks, order in found]
    members = client.sender_pools.members
    return [
        list(_with_progress(members.list(pool_id).pages(), progress, "members"))
        for pool_id in pool_ids
    ]


def _concurrent(
    client: CommsClient,
    listings: list[Listing],
    concurrency: int,
    adaptive: bool,
    split: bool | None,
    progress: bool | None,
    unit: str,
) -> list[tuple[list[Any], Sequence[int]]] | None:
    """Each listing's parts (``Listing.prepare`` of each query's objects) and their order,
    fetched side by side (``frames.listing``); None (the caller lists sequentially) for
    ``concurrency=1``, when the server's order is not the one a concurrent load can
    reproduce, or when a page does not read (the sequential listing raises the pager's
    error for it)."""
    if concurrency == 1:
        return None
    try:
        orders = fetch_listings(
            listings,
            concurrency=concurrency,
            split=lambda: split_by_time(client, split),
            now=client.server_now,
            throttle=Throttle(concurrency),
            side_by_side=lambda: not adaptive or worth_hiding(client.round_trip()),
        )
    except OrderUnknown as reason:
        logger.warning("listing %s one page at a time: %s", unit, reason)
        return None
    except UNREADABLE:
        # What a page cannot read is the pager's UnexpectedResponseError: listed again.
        logger.warning("a page of %s did not read; listing them one page at a time", unit)
        return None
    found = [
        ([w.part for w in listing.walks], order)
        for listing, order in zip(listings, orders, strict=True)
    ]
    for _ in progress_pages(iter(found), progress, unit, size=lambda item: len(item[1])):
        pass
    return found


def _sender_columns(objects: list[Any]) -> SenderColumns:
    columns = SenderColumns()
    columns.add(objects)
    return columns


def _senders(objects: list[Any]) -> list[Sender]:
    return [Sender.from_api(data) for data in objects]


def _reordered(parts: list[list[Sender]], order: Sequence[int]) -> list[Sender]:
    flat = list(chain.from_iterable(parts))
    return [flat[i] for i in order]


def _senders_pager(client: CommsClient) -> PagerFactory:
    def pager(ch: str | None, st: str | None, start: Any, end: Any) -> Pager[Any]:
        return client.senders.list(channel=ch, status=st, start_date=start, end_date=end)

    return pager


def _members_pager(client: CommsClient, pool_id: str) -> PagerFactory:
    def pager(ch: str | None, st: str | None, start: Any, end: Any) -> Pager[Any]:
        members = client.sender_pools.members
        return members.list(pool_id, channel=ch, status=st, start_date=start, end_date=end)

    return pager


def load_messages(
    client: CommsClient,
    operation_id: str | None = None,
    run_id: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    details: bool | None = None,
    *,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Load messages into a DataFrame (one row per message), filtered server-side.

    ``operation_id``: one send; ``run_id``: one test send (its messages carry the tag
    ``ct_run:<run_id>``); ``status`` (QUEUED, SENT, DELIVERED, ...) and ``channel``
    (SMS, RCS, WHATSAPP; both in any letter case) narrow further. ``details`` fetches each
    message for its attempts (``fallback``, ``n_attempts``, ``error_code``); None does so
    up to 1,000 messages and leaves those columns NA above that (never guessed). Columns:
    ``message_id, operation_id, to, to_channel, status, sender_id, sender_address,
    channel, fallback, n_attempts, error_code, created_at, updated_at, latency_s,
    seen_delivered_s`` (see ``messages_frame``).

    Raises ``InvalidInputError`` for a bad filter, before any request.
    """
    messages = fetch_messages(
        client, operation_id, run_id, status, channel, details, progress=progress
    )
    return messages_frame(messages)


def fetch_messages(
    client: CommsClient,
    operation_id: str | None = None,
    run_id: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    details: bool | None = None,
    *,
    tags: dict[str, str] | None = None,
    progress: bool | None = None,
) -> list[Message]:
    """The ``Message`` objects behind ``load_messages`` (``tags`` adds tag filters)."""
    checked_flag(details, "details")
    checked_flag(progress, "progress")
    wanted = dict(tags or {})
    if run_id is not None:
        wanted[RUN_TAG] = _checked_run_id(run_id)
    pager = client.messages.list(
        operation_id=operation_id, status=status, channel=channel, tags=wanted or None
    )
    messages = list(_with_progress(pager.pages(), progress, "messages"))
    if details is True or (details is None and len(messages) <= DETAILS_LIMIT):
        return _with_attempts(client, messages, progress)
    return messages


def _with_attempts(
    client: CommsClient, messages: list[Message], progress: bool | None
) -> list[Message]:
    """Each message fetched again for its attempts."""
    return fetch_each(client, [m.id for m in messages], progress)


def fetch_each(client: CommsClient, ids: Sequence[str], progress: bool | None) -> list[Message]:
    """The messages ``ids``, fetched one GET each (with their attempts); a bar when
    ``progress`` is True, or (None) from 100 messages on."""
    if not (progress or (progress is None and len(ids) >= 100)):
        return [client.messages.get(message_id) for message_id in ids]
    from tqdm.auto import tqdm

    with tqdm(ids, desc="Loading attempts", unit=" messages") as bar:
        return [client.messages.get(message_id) for message_id in bar]


def _checked_pool_ids(pool_ids: Any) -> list[str]:
    if isinstance(pool_ids, str):
        pool_ids = [pool_ids]
    elif not isinstance(pool_ids, Iterable) or isinstance(pool_ids, (bytes, dict)):
        raise InvalidInputError(
            f"pool_ids: expected a sender pool id or a list of them, got {pool_ids!r}",
            field="pool_ids",
        )
    return [check_id(pool_id, "sender pool", "pool_ids") for pool_id in pool_ids]


def checked_flag(value: Any, field: str) -> None:
    """None, True or False (a NumPy bool too); anything else, NA and NaN included, is refused
    rather than read as true or false."""
    if value is not None and not isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(
            f"{field} must be True, False or None, got {value!r}",
            field=field,
            allowed=(True, False, None),
        )


def _checked_run_id(run_id: Any) -> str:
    if isinstance(run_id, str) and 0 < len(run_id) <= 256 and TAG_PATTERN.fullmatch(run_id):
        return run_id
    raise InvalidInputError(
        f"run_id: {run_id!r} is not a test-send run id (1-256 characters from letters, "
        "digits and . _ ~ -, e.g. TestSend.run_id)",
        field="run_id",
        allowed=TAG_PATTERN.pattern,
    )


def _enum_values(
    field: str, value: str | Sequence[str] | None, allowed: tuple[str, ...]
) -> list[str | None]:
    if value is None:
        return [None]
    if isinstance(value, str):
        values: list[Any] = [value]
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, dict)):
        values = list(value)
    else:
        values = [value]
    # A value that is not text (pd.NA, NaN, None, a number) is refused without comparing it:
    # pd.NA == "SMS" is NA, which has no truth value. Text is read in any letter case.
    bad = [v for v in values if not isinstance(v, str) or v.upper() not in allowed]
    if bad or not values:
        raise InvalidInputError(
            f"{field} must be one of {', '.join(allowed)} (or a list of them, any letter "
            f"case); got {bad or values!r}",
            field=field,
            allowed=allowed,
        )
    return list(dict.fromkeys(v.upper() for v in values))


def _with_progress(pages: Iterator[list[Any]], progress: bool | None, unit: str) -> Iterator[Any]:
    """Yield the items of ``pages``; show a bar (tqdm.auto) as the pages arrive.

    ``progress=None`` shows it only once a second page arrives, so small
    accounts load silently; ``False`` never shows it.
    """
    for page in progress_pages(pages, progress, unit, size=len):
        yield from page


def progress_pages(
    pages: Iterator[P], progress: bool | None, unit: str, *, size: Callable[[P], int]
) -> Iterator[P]:
    """Yield each of ``pages`` (``size(page)`` items each) while a bar counts the items."""
    bar = None
    loaded = 0
    try:
        for index, page in enumerate(pages):
            if bar is None and progress is not False and (progress or index == 1):
                from tqdm.auto import tqdm

                bar = tqdm(desc=f"Loading {unit}", unit=f" {unit}", initial=loaded)
            count = size(page)
            loaded += count
            if bar is not None:
                bar.update(count)
            yield page
    finally:
        if bar is not None:
            bar.close()
