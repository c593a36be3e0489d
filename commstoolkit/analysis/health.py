"""Health of an account's real traffic: one row per sender, pool, channel, country, day or
hour, each number defined once in ``commstoolkit.metrics`` (design.md §4a).

``traffic_health(traffic, by="sender")`` reads a traffic frame — the messages frame's
columns plus ``pool_id``, ``pool_name`` and ``to_country`` — over its window (the frame's
``attrs["window"]``, or the span of its ``created_at``), and compares each group with the
window of the same length just before it when the frame holds that too
(``load_traffic(..., compare=True)`` loads both).

Every rate carries its numerator, its denominator and its 95% Wilson interval; a change
against the previous window carries a two-sided Fisher exact p-value, corrected for the
number of groups compared (Benjamini-Hochberg), and is flagged only below ``alpha``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import metrics
from ..errors import InvalidInputError
from ..frames import NO_SENDER

__all__ = [
    "BY",
    "HEALTH_COLUMNS",
    "NO_COUNTRY",
    "NO_POOL",
    "Window",
    "split_window",
    "traffic_health",
    "traffic_window",
]

# The label of traffic sent from a sender or an address directly, not through a pool.
NO_POOL = "no pool"
# The label of a recipient whose number names no country (or no number: WhatsApp ids).
NO_COUNTRY = "unknown"
ALPHA = 0.05
KEY = "__group__"  # the column the filled group key is kept in while grouping

# by -> (the key column, the label columns shown beside it)
BY: dict[str, tuple[str, tuple[str, ...]]] = {
    "sender": ("sender_id", ("sender_address", "channel")),
    "pool": ("pool_id", ("pool_name",)),
    "channel": ("channel", ()),
    "country": ("to_country", ()),
    "day": ("day", ()),
    "hour": ("hour", ()),
}
# The measures, after the key and label columns (see traffic_health's docstring).
HEALTH_COLUMNS = (
    "messages",
    "rated",
    "delivered",
    "delivery_rate",
    "delivery_low",
    "delivery_high",
    "errors",
    "error_rate",
    "error_low",
    "error_high",
    "read_eligible",
    "read",
    "read_rate",
    "read_low",
    "read_high",
    "ttd_n",
    "ttd_p50_s",
    "ttd_p90_s",
    "prev_rated",
    "prev_delivered",
    "prev_delivery_rate",
    "change_pts",
    "change_p",
    "change_significant",
)

Window = tuple[pd.Timestamp, pd.Timestamp]


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


def traffic_health(
    traffic: pd.DataFrame,
    by: str = "sender",
    members: pd.DataFrame | None = None,
    *,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """One row per group of the window's traffic, ``by`` one of ``sender``, ``pool``,
    ``channel``, ``country``, ``day``, ``hour`` (UTC), most messages first.

    Columns: the key (``sender_id``, ``pool_id``, ``channel``, ``to_country``, ``day`` or
    ``hour``) and its labels (a sender's ``sender_address`` and ``channel``, a pool's
    ``pool_name``); ``messages``; ``rated`` / ``delivered`` and ``delivery_rate`` with its
    95% interval (``delivery_low`` / ``delivery_high``); ``errors`` (UNDELIVERED or FAILED)
    and ``error_rate`` with its interval; ``read_eligible`` (delivered on a channel that
    reports reads), ``read`` and ``read_rate`` with its interval; ``ttd_n`` (messages whose
    time to delivered is known) and its median and 90th percentile in seconds; the previous
    window's ``prev_rated`` / ``prev_delivered`` / ``prev_delivery_rate``, ``change_pts``
    (percentage points, now minus then), ``change_p`` (two-sided Fisher exact,
    Benjamini-Hochberg-adjusted over the groups compared) and ``change_significant``
    (``change_p < alpha``).

    ``members`` (a pool members frame, ``load_pool_members``): with ``by="sender"`` or
    ``"pool"``, members that carried nothing in the window get a row of zeros, so an idle
    sender shows. Messages no sender took are the ``no sender`` group; messages sent
    outside a pool the ``no pool`` group.

    ``attrs``: ``window`` (start, end), ``previous`` (its start, end) and ``by``.
    """
    if by not in BY:
        raise InvalidInputError(
            f"by={by!r}: expected one of {', '.join(map(repr, BY))}", field="by", allowed=tuple(BY)
        )
    current, previous, (start, end) = split_window(traffic)
    key, labels = BY[by]
    now = _counts(_with_keys(current, key, labels), key, labels)
    before = _counts(_with_keys(previous, key, ()), key, ())
    if members is not None and by in ("sender", "pool"):
        now = _add_idle_members(now, members, by)
    health = now.join(
        before[["rated", "delivered"]].rename(
            columns={"rated": "prev_rated", "delivered": "prev_delivered"}
        ),
        how="left",
    )
    for column in ("prev_rated", "prev_delivered"):
        health[column] = health[column].fillna(0).astype("int64")
    _rates(health, alpha)
    health = health.sort_values(["messages", key], ascending=[False, True], kind="stable")
    health = health.reset_index()[[key, *labels, *HEALTH_COLUMNS]]
    health.attrs = {"window": (start, end), "previous": (start - (end - start), start), "by": by}
    return health


def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _with_keys(traffic: pd.DataFrame, key: str, labels: Sequence[str]) -> pd.DataFrame:
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
        first = keyed[label].groupby(codes, sort=True).first()
        counts[label] = first.to_numpy()
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


def _add_idle_members(now: pd.DataFrame, members: pd.DataFrame, by: str) -> pd.DataFrame:
    """Rows of zeros for the members (by sender) or pools (by pool) that carried nothing."""
    if by == "sender":
        idle = members.drop_duplicates("sender_id").set_index("sender_id")
        idle = idle.loc[~idle.index.isin(now.index)]
        labels = {"sender_address": idle["address"], "channel": idle["channel"].astype("string")}
    else:
        idle = members.drop_duplicates("pool_id").set_index("pool_id")
        idle = idle.loc[~idle.index.isin(now.index)]
        labels = {"pool_name": idle["pool_name"]}
    if idle.empty:
        return now
    zeros = pd.DataFrame(labels, index=idle.index)
    for column in now.columns:
        if column not in zeros:
            zeros[column] = 0 if now[column].dtype.kind in "iu" else np.nan
    zeros.index.name = now.index.name
    return pd.concat([now, zeros[now.columns]]).astype(
        {c: now[c].dtype for c in now.columns if now[c].dtype.kind in "iuf"}
    )


def _rates(health: pd.DataFrame, alpha: float) -> None:
    """Add the rates, their intervals and the change against the previous window."""
    for name, numerator, denominator in (
        ("delivery", "delivered", "rated"),
        ("error", "errors", "rated"),
        ("read", "read", "read_eligible"),
    ):
        k, n = health[numerator].to_numpy(), health[denominator].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            health[f"{name}_rate"] = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        bounds = [metrics.wilson_interval(int(a), int(b)) for a, b in zip(k, n, strict=True)]
        health[f"{name}_low"] = [low for low, _ in bounds]
        health[f"{name}_high"] = [high for _, high in bounds]
    prev_n = health["prev_rated"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        prev_rate = np.where(prev_n > 0, health["prev_delivered"] / np.maximum(prev_n, 1), np.nan)
    health["prev_delivery_rate"] = prev_rate
    health["change_pts"] = (health["delivery_rate"] - prev_rate) * 100
    compared = (health["rated"] > 0) & (health["prev_rated"] > 0)
    raw = [
        metrics.fisher_two_sided_p(int(d), int(n), int(pd_), int(pn))
        for d, n, pd_, pn in health.loc[
            compared, ["delivered", "rated", "prev_delivered", "prev_rated"]
        ].itertuples(index=False)
    ]
    adjusted = pd.Series(np.nan, index=health.index)
    adjusted[compared] = metrics.benjamini_hochberg(raw)
    health["change_p"] = adjusted
    health["change_significant"] = (adjusted < alpha).fillna(False).astype(bool)
