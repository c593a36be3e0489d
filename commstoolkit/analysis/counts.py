"""Counting a traffic frame per group with pandas: the window and the previous one, the
group keys (no sender / no pool / unknown country labelled, UTC day and hour), and the
counts ``table.assemble`` turns into the health table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import metrics
from ..errors import InvalidInputError
from ..frames import NO_SENDER
from .table import NO_COUNTRY, NO_POOL, Window

__all__ = ["KEY", "frame_counts", "split_window", "traffic_window", "with_keys"]

KEY = "__group__"  # the column the filled group key is kept in while grouping


def traffic_window(traffic: pd.DataFrame) -> Window:
    """The window ``[start, end)`` a traffic frame covers: ``attrs["window"]`` when the
    loader set it, else from its first message to just after its last."""
    window = traffic.attrs.get("window")
    if window is not None:
        start, end = window
        return _utc(start), _utc(end)
    if traffic.empty:
        raise InvalidInputError(
            "an empty traffic frame without attrs['window'] covers no window", field="traffic"
        )
    created = traffic["created_at"]
    return created.min(), created.max() + pd.Timedelta(1, "ns")


def split_window(traffic: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, Window]:
    """(the window's messages, the previous window's, the window): the previous window
    has the same length and ends where the window starts; it is empty when the frame
    does not reach back that far."""
    start, end = traffic_window(traffic)
    created = traffic["created_at"]
    current = traffic[(created >= start) & (created < end)]
    previous = traffic[(created >= start - (end - start)) & (created < start)]
    return current, previous, (start, end)


def frame_counts(traffic: pd.DataFrame, key: str, labels: Sequence[str]) -> pd.DataFrame:
    """Per value of ``key``: the labels and ``table.COUNTS`` of ``traffic``'s messages."""
    return _counts(with_keys(traffic, key, labels), key, labels)


def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def with_keys(traffic: pd.DataFrame, key: str, labels: Sequence[str]) -> pd.DataFrame:
    """The columns the grouping and the metrics need, with the group key in ``KEY`` (filled:
    labels for no sender / pool / country, the UTC day or hour of creation); the metrics'
    own columns are left as they are (a missing sender means no sender to them)."""
    keyed = traffic[["status", "channel", "sender_id", "latency_s", "seen_delivered_s"]].copy(
        deep=False
    )
    missing = pd.Series(pd.NA, index=traffic.index, dtype="string")
    keyed["channel"] = traffic["channel"].astype("string")
    if key == "day":
        keyed[KEY] = traffic["created_at"].dt.floor("D")
    elif key == "hour":
        keyed[KEY] = traffic["created_at"].dt.hour.astype("int64")
    else:
        fill = {"sender_id": NO_SENDER, "pool_id": NO_POOL, "to_country": NO_COUNTRY}
        fill["channel"] = NO_SENDER
        keyed[KEY] = traffic.get(key, missing).astype("string").fillna(fill[key])
    for label in labels:
        default = keyed[KEY] if label == "pool_name" else missing
        keyed[label] = traffic.get(label, default).astype("string")
        if label == "pool_name":
            keyed[label] = keyed[label].fillna(keyed[KEY])
    return keyed


def _counts(keyed: pd.DataFrame, key: str, labels: Sequence[str]) -> pd.DataFrame:
    """Per group: messages, rated, delivered, errors, read_eligible, read, and the time to
    delivered's count, median and 90th percentile; indexed by the key, in its order."""
    # Grouping by integer codes: a million tz-aware timestamps or Arrow strings group
    # several times slower than their codes.
    codes, uniques = pd.factorize(keyed[KEY], sort=True)
    status = keyed["status"]
    delivered = status.isin(metrics.DELIVERED_STATUSES).to_numpy(bool)
    reporting = keyed["channel"].isin(metrics.READ_CHANNELS).to_numpy(bool)
    flags = pd.DataFrame(
        {
            "messages": np.ones(len(keyed), dtype="int64"),
            "rated": status.isin(metrics.RATED_STATUSES).to_numpy(bool),
            "delivered": delivered,
            "errors": status.isin(metrics.ERROR_STATUSES).to_numpy(bool),
            "read_eligible": delivered & reporting,
            "read": (status == "READ").to_numpy(bool) & reporting,
        }
    )
    counts = flags.groupby(codes, sort=True).sum().astype("int64")
    index = pd.Index(uniques.take(counts.index.to_numpy()), name=key)
    counts.index = index
    for label in labels:
        # The smallest label of the group (one per key in practice: a sender's address and
        # channel, a pool's name); the SQL engines compute the same with min().
        smallest = keyed[label].groupby(codes, sort=True).min()
        counts[label] = smallest.to_numpy()
    # Time to delivered as metrics defines it, measured on the whole frame, then grouped.
    seconds = metrics.time_to_delivered(keyed).seconds
    at = keyed.index.get_indexer(seconds.index)
    timed = pd.Series(seconds.to_numpy(float)).groupby(codes[at])
    size, p50, p90 = timed.size(), timed.quantile(0.5), timed.quantile(0.9)
    positions = np.arange(len(uniques))
    counts["ttd_n"] = size.reindex(positions, fill_value=0).to_numpy("int64")
    counts["ttd_p50_s"] = p50.reindex(positions).to_numpy(float)
    counts["ttd_p90_s"] = p90.reindex(positions).to_numpy(float)
    if labels:
        counts = counts[[*labels, *[c for c in counts.columns if c not in labels]]]
    return counts
