"""API objects -> pandas DataFrames. Column names and dtypes are defined here, once.

Every loader returns a tidy frame with the same columns and dtypes whether it holds
one row or none: ``channel`` and ``status`` are categoricals holding every value of
their enum (empty categories still show in counts), timestamps are tz-aware UTC, and
text columns use pandas' string dtype. Tags become one ``tags.<key>`` column per key.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import InvalidInputError
from .models import SENDER_CHANNELS, SENDER_STATUSES, Sender, SenderPool

if TYPE_CHECKING:
    from .client import CommsClient

__all__ = [
    "MEMBER_COLUMNS",
    "POOL_COLUMNS",
    "SENDER_COLUMNS",
    "load_pool_members",
    "load_pools",
    "load_senders",
    "pools_frame",
    "senders_frame",
]

STRING = pd.StringDtype()
UTC_TIMESTAMP = pd.DatetimeTZDtype("ns", "UTC")
CHANNEL = pd.CategoricalDtype(SENDER_CHANNELS)
STATUS = pd.CategoricalDtype(SENDER_STATUSES)
TAG_PREFIX = "tags."

SENDER_DTYPES: dict[str, Any] = {
    "sender_id": STRING,
    "display_name": STRING,
    "address": STRING,
    "channel": CHANNEL,
    "status": STATUS,
    "created_at": UTC_TIMESTAMP,
    "updated_at": UTC_TIMESTAMP,
}
POOL_DTYPES: dict[str, Any] = {
    "pool_id": STRING,
    "name": STRING,
    "created_at": UTC_TIMESTAMP,
    "updated_at": UTC_TIMESTAMP,
    "size": "int64",
    "n_activated": "int64",
    "n_deactivated": "int64",
    "channels": STRING,
}
MEMBER_DTYPES: dict[str, Any] = {
    "pool_id": STRING,
    "pool_name": STRING,
    "sender_id": STRING,
    "address": STRING,
    "channel": CHANNEL,
    "status": STATUS,
}
SENDER_COLUMNS = tuple(SENDER_DTYPES)
POOL_COLUMNS = tuple(POOL_DTYPES)
MEMBER_COLUMNS = tuple(MEMBER_DTYPES)


def load_senders(
    client: CommsClient,
    channel: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    *,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Load every sender of the account into a DataFrame (one row per sender).

    ``channel`` and ``status`` take one value or a list of values (one of
    ``SMS, RCS, EMAIL, WHATSAPP, PUSH`` and ``ACTIVATED, DEACTIVATED``); each
    value is a server-side filter. Columns: ``sender_id, display_name, address,
    channel, status, created_at, updated_at`` plus ``tags.<key>`` per tag key.
    ``progress=None`` shows a progress bar once the listing spans several pages.

    Raises ``InvalidInputError`` for an unknown channel or status, before any request.
    """
    channels = _enum_values("channel", channel, SENDER_CHANNELS)
    statuses = _enum_values("status", status, SENDER_STATUSES)
    senders: list[Sender] = []
    for ch in channels:
        for st in statuses:
            pager = client.senders.list(channel=ch, status=st)
            senders.extend(_with_progress(pager.pages(), progress, "senders"))
    return senders_frame(senders)


def load_pools(client: CommsClient, *, progress: bool | None = None) -> pd.DataFrame:
    """Load every sender pool with its composition (one row per pool).

    Columns: ``pool_id, name, created_at, updated_at, size, n_activated,
    n_deactivated, channels`` (the channels present, sorted, comma separated)
    plus ``tags.<key>`` per tag key. Lists each pool's members to count them.
    """
    pools = list(_with_progress(client.sender_pools.list().pages(), progress, "pools"))
    members = {pool.id: list(client.sender_pools.members.list(pool.id)) for pool in pools}
    return pools_frame(pools, members)


def load_pool_members(
    client: CommsClient,
    pool_ids: str | Iterable[str] | None = None,
    *,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Load pool memberships as a long frame: one row per (pool, sender).

    ``pool_ids`` limits the load to these pools (default: every pool).
    Columns: ``pool_id, pool_name, sender_id, address, channel, status``.
    Raises ``NotFoundError`` for a pool id that does not exist.
    """
    if pool_ids is None:
        pools = list(client.sender_pools.list())
    else:
        ids = [pool_ids] if isinstance(pool_ids, str) else list(pool_ids)
        pools = [client.sender_pools.get(pool_id) for pool_id in dict.fromkeys(ids)]
    rows: dict[str, list[Any]] = {column: [] for column in MEMBER_COLUMNS}
    for pool in pools:
        for sender in _iter_items(client.sender_pools.members.list(pool.id).pages(), progress):
            rows["pool_id"].append(pool.id)
            rows["pool_name"].append(pool.name)
            rows["sender_id"].append(sender.id)
            rows["address"].append(sender.address)
            rows["channel"].append(sender.channel)
            rows["status"].append(sender.status)
    return _typed_frame(rows, MEMBER_DTYPES)


def senders_frame(senders: Sequence[Sender]) -> pd.DataFrame:
    """Build the senders frame from ``Sender`` objects (see ``load_senders``)."""
    columns: dict[str, list[Any]] = {
        "sender_id": [s.id for s in senders],
        "display_name": [s.display_name for s in senders],
        "address": [s.address for s in senders],
        "channel": [s.channel for s in senders],
        "status": [s.status for s in senders],
        "created_at": [s.created_at for s in senders],
        "updated_at": [s.updated_at for s in senders],
    }
    frame = _typed_frame(columns, SENDER_DTYPES)
    return _add_tag_columns(frame, [s.tags for s in senders])


def pools_frame(pools: Sequence[SenderPool], members: dict[str, Sequence[Sender]]) -> pd.DataFrame:
    """Build the pools frame from pools and their members (see ``load_pools``)."""
    sizes, n_activated, n_deactivated, channels = [], [], [], []
    for pool in pools:
        pool_members = members.get(pool.id, ())
        active = sum(1 for s in pool_members if s.status == "ACTIVATED")
        sizes.append(len(pool_members))
        n_activated.append(active)
        n_deactivated.append(len(pool_members) - active)
        channels.append(", ".join(sorted({s.channel for s in pool_members})))
    columns: dict[str, list[Any]] = {
        "pool_id": [p.id for p in pools],
        "name": [p.name for p in pools],
        "created_at": [p.created_at for p in pools],
        "updated_at": [p.updated_at for p in pools],
        "size": sizes,
        "n_activated": n_activated,
        "n_deactivated": n_deactivated,
        "channels": channels,
    }
    frame = _typed_frame(columns, POOL_DTYPES)
    return _add_tag_columns(frame, [p.tags for p in pools])


def _typed_frame(columns: dict[str, list[Any]], dtypes: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(columns[name], dtype=dtypes[name]) for name in dtypes})


def _add_tag_columns(frame: pd.DataFrame, tags: Sequence[dict[str, str]]) -> pd.DataFrame:
    keys = sorted({key for tag_map in tags for key in tag_map})
    if not keys:
        return frame
    tag_columns = {
        TAG_PREFIX + key: pd.Series([t.get(key) for t in tags], dtype=STRING, index=frame.index)
        for key in keys
    }
    return pd.concat([frame, pd.DataFrame(tag_columns, index=frame.index)], axis=1)


def _enum_values(
    field: str, value: str | Sequence[str] | None, allowed: tuple[str, ...]
) -> list[str | None]:
    if value is None:
        return [None]
    values = [value] if isinstance(value, str) else list(value)
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise InvalidInputError(
            f"{field} must be one of {', '.join(allowed)} (or a list of them); "
            f"got {bad or values!r}",
            field=field,
            allowed=allowed,
        )
    return list(dict.fromkeys(values))


def _with_progress(pages: Iterator[list[Any]], progress: bool | None, unit: str) -> Iterator[Any]:
    """Yield the items of ``pages``; show a bar (tqdm.auto) as the pages arrive.

    ``progress=None`` shows it only once a second page arrives, so small
    accounts load silently; ``False`` never shows it.
    """
    bar = None
    loaded = 0
    try:
        for index, page in enumerate(pages):
            if bar is None and progress is not False and (progress or index == 1):
                from tqdm.auto import tqdm

                bar = tqdm(desc=f"Loading {unit}", unit=f" {unit}", initial=loaded)
            loaded += len(page)
            if bar is not None:
                bar.update(len(page))
            yield from page
    finally:
        if bar is not None:
            bar.close()


def _iter_items(pages: Iterator[list[Any]], progress: bool | None) -> Iterator[Any]:
    return _with_progress(pages, progress, "members")
