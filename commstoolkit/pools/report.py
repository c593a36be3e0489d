"""Pool health at a glance: one row per pool (size, channels, fallback, overlap)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InvalidInputError
from ..frames import STRING, load_pool_members

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["REPORT_COLUMNS", "pool_report"]

REPORT_DTYPES: dict[str, Any] = {
    "pool_id": STRING,
    "name": STRING,
    "size": "int64",
    "channels": STRING,
    "n_activated": "int64",
    "n_deactivated": "int64",
    "has_rcs": "bool",
    "has_sms": "bool",
    "fallback_ok": "bool",
    "n_shared": "int64",
    "shared_with": STRING,
}
REPORT_COLUMNS = tuple(REPORT_DTYPES)


def pool_report(source: CommsClient | tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    """One row per pool: how big, which channels, whether RCS has an SMS fallback, overlap.

    ``source``: a client (loads every pool and its members) or a ``(pools, members)``
    pair of frames from ``load_pools`` and ``load_pool_members``.

    Columns: ``pool_id, name, size, channels`` (every channel present, sorted, comma
    separated), ``n_activated, n_deactivated``, ``has_rcs`` / ``has_sms`` (the pool has
    an ACTIVATED sender on that channel), ``fallback_ok`` (no activated RCS, or an
    activated SMS sender to fall back to), ``n_shared`` (members that also sit in
    another pool), ``shared_with`` (names of those other pools, sorted, comma separated;
    the id for a pool without a name). Pools in the order given (or listed).
    """
    if isinstance(source, (tuple, list)):
        pools, members = _frames(tuple(source))
    else:
        listed = list(source.sender_pools.list())
        pools = pd.DataFrame({"pool_id": [p.id for p in listed], "name": [p.name for p in listed]})
        members = load_pool_members(source)
    return _report(pools[["pool_id", "name"]], members)


def _frames(source: tuple[Any, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    needs = (
        ("pools", ("pool_id", "name")),
        ("members", ("pool_id", "sender_id", "channel", "status")),
    )
    if len(source) != 2 or not all(isinstance(f, pd.DataFrame) for f in source):
        raise InvalidInputError(
            "pool_report takes a client or a (pools, members) pair of DataFrames",
            field="source",
        )
    for frame, (label, columns) in zip(source, needs, strict=True):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InvalidInputError(
                f"pool_report: the {label} frame lacks {', '.join(missing)}; use "
                f"load_{'pools' if label == 'pools' else 'pool_members'}(client)",
                field="source",
                allowed=columns,
            )
    return source[0], source[1]


def _report(pools: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    members = members.drop_duplicates(["pool_id", "sender_id"])
    channel, status = members["channel"].astype(str), members["status"].astype(str)
    active = status == "ACTIVATED"
    by_pool = pd.DataFrame(
        {
            "pool_id": members["pool_id"].astype(str),
            "one": 1,
            "n_activated": active.astype("int64"),
            "rcs": (active & (channel == "RCS")),
            "sms": (active & (channel == "SMS")),
        }
    ).groupby("pool_id")
    sizes = by_pool["one"].sum()
    n_activated = by_pool["n_activated"].sum()
    channels = channel.groupby(members["pool_id"].astype(str)).agg(
        lambda c: ", ".join(sorted(set(c)))
    )
    names = dict(zip(pools["pool_id"].astype(str), _labels(pools), strict=True))
    shared_counts, shared_with = _overlap(members, names)
    ids = pools["pool_id"].astype(str)
    size = ids.map(sizes).fillna(0).astype("int64")
    activated = ids.map(n_activated).fillna(0).astype("int64")
    has_rcs = ids.map(by_pool["rcs"].any()).fillna(False).astype(bool)
    has_sms = ids.map(by_pool["sms"].any()).fillna(False).astype(bool)
    columns = {
        "pool_id": ids,
        "name": pools["name"],
        "size": size,
        "channels": ids.map(channels).fillna(""),
        "n_activated": activated,
        "n_deactivated": size - activated,
        "has_rcs": has_rcs,
        "has_sms": has_sms,
        "fallback_ok": ~has_rcs | has_sms,
        "n_shared": ids.map(shared_counts).fillna(0).astype("int64"),
        "shared_with": ids.map(shared_with).fillna(""),
    }
    return pd.DataFrame(
        {name: pd.Series(list(columns[name]), dtype=dtype) for name, dtype in REPORT_DTYPES.items()}
    )


def _labels(pools: pd.DataFrame) -> list[str]:
    return [
        str(name) if not pd.isna(name) else str(pool_id)
        for pool_id, name in zip(pools["pool_id"], pools["name"], strict=True)
    ]


def _overlap(members: pd.DataFrame, names: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Per pool: how many members sit in another pool too, and the names of those pools."""
    pairs = pd.DataFrame(
        {"pool_id": members["pool_id"].astype(str), "sender_id": members["sender_id"].astype(str)}
    )
    counts = pairs.groupby("sender_id")["pool_id"].transform("size")
    shared = pairs.loc[counts > 1]
    joined = shared.merge(shared, on="sender_id", suffixes=("", "_other"))
    joined = joined.loc[joined["pool_id"] != joined["pool_id_other"]]
    n_shared = joined.groupby("pool_id")["sender_id"].nunique()
    others = joined.groupby("pool_id")["pool_id_other"].agg(
        lambda ids: ", ".join(sorted({names.get(i, i) for i in ids}))
    )
    return n_shared, others
