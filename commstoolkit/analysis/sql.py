"""Counting a traffic dataset in SQL: ``health_sql`` writes the query that counts
``traffic_health``'s numbers per group over the Parquet files, ``dataset_health`` runs it in
DuckDB (memory bounded by the groups, not the messages) and assembles the same table as the
pandas counting does. The SQL is plain (``SUM(CASE ...)``, ``GROUP BY``): only the seconds
between two times and the percentile differ by engine, and ``health_sql(by, dialect="spark"
| "trino")`` writes them for Spark SQL or Trino over the same files (run in a local Spark
session by tests/analysis/test_spark_sql.py; Trino's parsed and transpiled to DuckDB by
test_trino_sql.py). ``counted_health`` makes the health table of any engine's rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from .. import metrics
from ..errors import InvalidInputError
from ..frames import NO_SENDER
from .dataset import TrafficDataset, window_of
from .table import ALPHA, BY, COUNTS, NO_COUNTRY, NO_POOL, assemble, check_by

__all__ = [
    "DIALECTS",
    "PERCENTILE",
    "check_dialect",
    "counted_health",
    "dataset_health",
    "group_key_sql",
    "health_sql",
    "iso",
    "sql_list",
    "typed_keys",
]


DIALECTS = ("duckdb", "spark", "trino")
# The two expressions SQL engines spell differently: the seconds from a to b, and the
# linear-interpolation percentile (numpy's and pandas' default).
_SECONDS = {
    "duckdb": "date_diff('second', {a}, {b})",
    "spark": "timestampdiff(SECOND, {a}, {b})",
    "trino": "date_diff('second', {a}, {b})",
}
PERCENTILE = {
    "duckdb": "quantile_cont({x}, {q})",
    "spark": "percentile({x}, {q})",
    # Trino has no exact percentile: approx_percentile's answer is within ~1% of rank.
    "trino": "approx_percentile({x}, {q})",
}


def sql_list(values: Iterable[str]) -> str:
    """SQL string literals, a quote in a value doubled (a folder's name may hold one)."""
    return ", ".join("'{}'".format(str(v).replace("'", "''")) for v in values)


def check_dialect(dialect: Any) -> None:
    """Refuse an SQL dialect the queries are not written for, naming the allowed ones."""
    if dialect not in DIALECTS:
        raise InvalidInputError(
            f"dialect={dialect!r}: expected one of {', '.join(map(repr, DIALECTS))}",
            field="dialect",
            allowed=DIALECTS,
        )


def group_key_sql(by: str) -> str:
    """The SQL expression of a traffic row's group (no sender / pool / country labelled)."""
    return {
        "sender": f"coalesce(sender_id, '{NO_SENDER}')",
        "pool": f"coalesce(pool_id, '{NO_POOL}')",
        "channel": f"coalesce(channel, '{NO_SENDER}')",
        "country": f"coalesce(to_country, '{NO_COUNTRY}')",
        "day": "date_trunc('day', created_at)",
        "hour": "extract(hour FROM created_at)",
    }[by]


def typed_keys(keys: pd.Series, by: str) -> pd.Series:
    """Group keys as an SQL engine gave them, in the health table's dtype."""
    if by == "day":
        return pd.Series(pd.to_datetime(keys, utc=True), index=keys.index)
    if by == "hour":
        return keys.astype("int64")
    return keys.astype("string")


def health_sql(by: str, dialect: str = "duckdb", table: str = "traffic") -> str:
    """The SQL that counts ``traffic_health``'s numbers per group over the traffic table
    ``table`` (the Parquet files: ``read_parquet('DIR/*/*.parquet')`` in DuckDB, a table or
    view over the folder in Spark / Trino). Parameters, in order: the window's start, its
    end, and the previous window's start (``?`` placeholders; timestamps in UTC, with the
    session time zone UTC for the day and hour). One row per (group, window) with
    ``is_current`` true for the window, false for the previous one."""
    check_by(by)
    check_dialect(dialect)
    key = group_key_sql(by)
    # A pool's name is the account's (the manifest's), not in the files.
    labels = ("sender_address", "channel") if by == "sender" else ()
    delivered = f"status IN ({sql_list(metrics.DELIVERED_STATUSES)})"
    reads = f"channel IN ({sql_list(metrics.READ_CHANNELS)})"
    # Time to delivered (metrics.time_to_delivered): at DELIVERED / UNDELIVERED / FAILED
    # with a sender; a READ message's delivery moment is not in the data.
    timed = f"status IN ({sql_list(metrics.DELIVERY_MOMENT_STATUSES)}) AND sender_id IS NOT NULL"
    seconds = _SECONDS[dialect].format(a="created_at", b="updated_at")
    ttd = f"CASE WHEN {timed} THEN {seconds} END"
    percentile = PERCENTILE[dialect]
    label_sql = "".join(f",\n  min({label}) AS {label}" for label in labels)
    return f"""SELECT
  {key} AS group_key,
  created_at >= ? AS is_current{label_sql},
  count(*) AS messages,
  sum(CASE WHEN status IN ({sql_list(metrics.RATED_STATUSES)}) THEN 1 ELSE 0 END) AS rated,
  sum(CASE WHEN {delivered} THEN 1 ELSE 0 END) AS delivered,
  sum(CASE WHEN status IN ({sql_list(metrics.ERROR_STATUSES)}) THEN 1 ELSE 0 END) AS errors,
  sum(CASE WHEN {delivered} AND {reads} THEN 1 ELSE 0 END) AS read_eligible,
  sum(CASE WHEN status = 'READ' AND {reads} THEN 1 ELSE 0 END) AS read,
  count({ttd}) AS ttd_n,
  {percentile.format(x=ttd, q=0.5)} AS ttd_p50_s,
  {percentile.format(x=ttd, q=0.9)} AS ttd_p90_s
FROM {table}
WHERE created_at < ? AND created_at >= ?
GROUP BY 1, 2"""


def dataset_health(
    dataset: TrafficDataset,
    by: str = "sender",
    members: pd.DataFrame | None = None,
    *,
    start: Any = None,
    end: Any = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """``traffic_health`` of a dataset, counted in DuckDB over its Parquet files (memory
    bounded by the groups, not the messages)."""
    import duckdb

    check_by(by)
    window = window_of(dataset, start, end)
    previous_start = window[0] - (window[1] - window[0])
    files = dataset.files()
    key, labels = BY[by]
    empty = pd.DataFrame(columns=[*labels, *COUNTS], index=pd.Index([], name=key))
    if not files:
        return assemble(empty, empty, by, window, members=members, alpha=alpha)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        source = f"read_parquet([{sql_list(files)}], hive_partitioning = false)"
        sql = health_sql(by, "duckdb", table=source)
        params = [iso(window[0]), iso(window[1]), iso(previous_start)]
        counts = con.execute(sql.replace("?", "CAST(? AS TIMESTAMPTZ)"), params).df()
    return counted_health(counts, by, window, dataset.pools, members=members, alpha=alpha)


def counted_health(
    counts: pd.DataFrame,
    by: str,
    window: tuple[pd.Timestamp, pd.Timestamp],
    pool_names: dict[str, str | None],
    members: pd.DataFrame | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """The health table of ``health_sql``'s rows (``counts``, whichever engine counted them:
    DuckDB here, Spark in the tests), a pool named by ``pool_names`` (id -> name)."""
    key, labels = BY[by]
    counts = counts.copy()
    if by == "pool":
        keys = counts["group_key"].astype("string")
        counts["pool_name"] = keys.map(pool_names, na_action="ignore").astype("string")
        counts["pool_name"] = counts["pool_name"].fillna(keys)
    counts["group_key"] = typed_keys(counts["group_key"], by)
    for label in labels:
        counts[label] = counts[label].astype("string")
    for column in COUNTS:
        kind = "float64" if column.startswith("ttd_p") else "int64"
        counts[column] = counts[column].astype(kind)
    counts = counts.rename(columns={"group_key": key}).set_index(key).sort_index()
    current = counts["is_current"].astype(bool)
    now = counts[current].drop(columns="is_current")
    before = counts[~current].drop(columns="is_current")
    return assemble(now, before[list(COUNTS)], by, window, members=members, alpha=alpha)


def iso(stamp: pd.Timestamp) -> str:
    return str(stamp.tz_convert("UTC").isoformat())
