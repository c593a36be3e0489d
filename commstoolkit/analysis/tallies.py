"""The counts the findings test, whoever counts them: one row per part of the data (the window
or the one before it; the recent days or not), sender, pool, recipient country and UTC hour of
creation, with its messages, rated and delivered
messages and its last message's time.

Every finding (``findings.py``) is a sum over some of these keys: drift sums a sender's rows
before and in the recent days, *below pool* a pool's and a sender's in the window, a failure
cluster a country's or a country-hour's, *leans on one* / deactivated / idle a pool's and a
sender's messages. So the messages are counted once, into a table bounded by the account's
senders × pools × countries × 24 hours × 3 parts (not by its messages): by pandas for a
traffic frame (``frame_tallies``), or by an SQL engine over an exported dataset
(``dataset_tallies`` in DuckDB; ``findings_sql`` writes the same query for Spark SQL or Trino).

``in_window``: the message is in the window (else in the window of the same length before it,
when the data reaches back that far); ``recent``: it is in the last days drift looks at.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import metrics
from .dataset import TrafficDataset
from .sql import check_dialect, iso, sql_list
from .table import NO_COUNTRY, Window

__all__ = [
    "KEYS",
    "LABELS",
    "VALUES",
    "Tallies",
    "counted_tallies",
    "dataset_tallies",
    "findings_sql",
    "frame_tallies",
]

KEYS = ("in_window", "recent", "sender_id", "pool_id", "to_country", "hour")
# Per sender, the labels the sentences show (the smallest of the group: one in practice).
LABELS = ("sender_address", "channel")
VALUES = ("messages", "rated", "delivered", "last_at")


class Tallies:
    """The tallies of a window (``frame``: one row per ``KEYS``, with ``LABELS`` and
    ``VALUES``; ``pool_names``: pool id -> name)."""

    def __init__(self, frame: pd.DataFrame, window: Window, pool_names: dict[Any, str]):
        self.frame = frame
        self.window = window
        self.pool_names = pool_names

    @property
    def current(self) -> pd.DataFrame:
        """The window's rows."""
        return self.frame[self.frame["in_window"]]

    @property
    def has_previous(self) -> bool:
        return not bool(self.frame["in_window"].all())

    def sender_labels(self) -> dict[str, str]:
        """Sender id -> how a sentence names it: **address** (CHANNEL, `id`)."""
        seen = self.frame.dropna(subset=["sender_id"])
        seen = seen.groupby("sender_id", observed=True, sort=True)[list(LABELS)].min()
        return {
            str(s): f"**{a}** ({c}, `{s}`)"
            for s, a, c in zip(seen.index, seen["sender_address"], seen["channel"], strict=True)
        }


def frame_tallies(traffic: pd.DataFrame, window: Window, recent_from: pd.Timestamp) -> Tallies:
    """The tallies of a traffic frame's messages in ``[window start - its length, window end)``."""
    start, end = window
    created = traffic["created_at"]
    held = traffic[(created >= start - (end - start)) & (created < end)]
    created = held["created_at"]
    keys = pd.DataFrame(
        {
            "in_window": created >= start,
            "recent": created >= recent_from,
            "sender_id": held["sender_id"].astype("string"),
            "pool_id": held["pool_id"].astype("string"),
            "to_country": held["to_country"].astype("string").fillna(NO_COUNTRY),
            "hour": created.dt.hour.astype("int64"),
        },
        index=held.index,
    )
    # One integer code per row (mixed radix over the keys' codes), grouped with numpy:
    # five keys with missing values group several times slower in pandas, and its dropna
    # would drop the messages without a sender or a pool.
    codes = np.zeros(len(held), dtype="int64")
    for column in KEYS:
        column_codes, uniques = pd.factorize(keys[column], use_na_sentinel=False)
        codes = codes * max(len(uniques), 1) + column_codes
    _, first, position = np.unique(codes, return_index=True, return_inverse=True)
    frame = keys.iloc[first].reset_index(drop=True)
    status = held["status"]
    counted = pd.DataFrame(
        {
            "messages": np.ones(len(held), dtype="int64"),
            "rated": status.isin(metrics.RATED_STATUSES).to_numpy("int64"),
            "delivered": status.isin(metrics.DELIVERED_STATUSES).to_numpy("int64"),
        }
    ).groupby(position, sort=True)
    for label in LABELS:
        frame[label] = held[label].astype("string").reset_index(drop=True).groupby(position).min()
    sums = counted[["messages", "rated", "delivered"]].sum()
    for column in sums:
        frame[column] = sums[column].to_numpy()
    frame["last_at"] = created.reset_index(drop=True).groupby(position, sort=True).max()
    # Every pool is in some group's first row: its name is there too.
    return Tallies(_typed(frame), window, _pool_names(held.iloc[first]))


def findings_sql(dialect: str = "duckdb", table: str = "traffic") -> str:
    """The SQL that counts the findings' tallies over the traffic table ``table`` (as
    ``health_sql``: the Parquet files as a table or view). Parameters, in order (``?``
    placeholders, UTC timestamps, the session time zone UTC for the hour): the window's
    start, the recent days' start, the previous window's start, the window's end."""
    check_dialect(dialect)
    return f"""SELECT
  created_at >= ? AS in_window,
  created_at >= ? AS recent,
  sender_id,
  pool_id,
  coalesce(to_country, '{NO_COUNTRY}') AS to_country,
  extract(hour FROM created_at) AS hour,
  min(sender_address) AS sender_address,
  min(channel) AS channel,
  count(*) AS messages,
  sum(CASE WHEN status IN ({sql_list(metrics.RATED_STATUSES)}) THEN 1 ELSE 0 END) AS rated,
  sum(CASE WHEN status IN ({sql_list(metrics.DELIVERED_STATUSES)}) THEN 1 ELSE 0 END)
    AS delivered,
  max(created_at) AS last_at
FROM {table}
WHERE created_at >= ? AND created_at < ?
GROUP BY 1, 2, 3, 4, 5, 6"""


def dataset_tallies(dataset: TrafficDataset, window: Window, recent_from: pd.Timestamp) -> Tallies:
    """The tallies of an exported dataset, counted in DuckDB over its Parquet files (memory
    bounded by the tallies, not the messages)."""
    import duckdb

    start, end = window
    files = dataset.files()
    if not files:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in (*KEYS, *LABELS, *VALUES)})
        return counted_tallies(empty, window, dataset.pools)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        source = f"read_parquet([{sql_list(files)}], hive_partitioning = false)"
        sql = findings_sql("duckdb", table=source).replace("?", "CAST(? AS TIMESTAMPTZ)")
        params = [iso(start), iso(recent_from), iso(start - (end - start)), iso(end)]
        frame = con.execute(sql, params).df()
    return counted_tallies(frame, window, dataset.pools)


def counted_tallies(
    frame: pd.DataFrame, window: Window, pool_names: dict[str, str | None]
) -> Tallies:
    """The tallies of ``findings_sql``'s rows (``frame``, whichever engine counted them:
    DuckDB here, Spark in the tests), a pool named by ``pool_names`` (id -> name)."""
    return Tallies(_typed(frame), window, {k: v or k for k, v in pool_names.items()})


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """One set of dtypes whoever counted; rows in a stable order."""
    frame = frame[[*KEYS, *LABELS, *VALUES]].astype(
        {
            "in_window": bool,
            "recent": bool,
            **{c: pd.StringDtype() for c in ("sender_id", "pool_id", "to_country", *LABELS)},
            "hour": "int64",
            "messages": "int64",
            "rated": "int64",
            "delivered": "int64",
        }
    )
    # The frame's nanoseconds, whatever unit the engine gave (DuckDB, Spark: microseconds).
    frame["last_at"] = pd.to_datetime(frame["last_at"], utc=True).astype("datetime64[ns, UTC]")
    order = frame.sort_values(list(KEYS), kind="stable", na_position="first")
    return order.reset_index(drop=True)


def _pool_names(traffic: pd.DataFrame) -> dict[Any, str]:
    if "pool_name" not in traffic:
        return {}
    seen = traffic.dropna(subset=["pool_id"]).drop_duplicates("pool_id")
    return dict(zip(seen["pool_id"], seen["pool_name"].fillna(seen["pool_id"]), strict=True))
