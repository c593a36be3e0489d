"""The health table's event columns in SQL: ``health_events_sql(by, dialect)`` writes the
query over two tables, the traffic (the Parquet files) and the message events (one row per
event), for DuckDB, Spark SQL or Trino; ``dataset_event_columns`` runs it in DuckDB over an
exported dataset, the events read where they lie (``read_json`` over the JSON-lines files a
sink's data ends in, or an events frame handed to DuckDB as it is), so no message and no
event is loaded in pandas; only the counts per group come back. The numbers are
``event_counts``' (``metrics.time_to_delivered`` / ``time_to_read`` / ``error_codes`` with
events), written in SQL: tests/analysis/test_health_events.py checks that both agree,
tests/analysis/test_spark_sql.py runs the Spark query, test_trino_sql.py parses the Trino
one. ``attempts_sql`` counts, over the same two tables, the attempts the findings judge
(``event_counts.attempt_tallies``' rows); ``dataset_attempt_tallies`` runs it in DuckDB."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from .. import metrics
from ..errors import InvalidInputError
from ..events.records import COMMS, SUFFIXES
from .dataset import TrafficDataset
from .event_counts import (
    ATTEMPT_KEYS,
    ATTEMPT_VALUES,
    HEALTH_EVENT_COLUMNS,
    check_events,
    typed_attempts,
    typed_events,
)
from .sql import PERCENTILE, check_dialect, group_key_sql, iso, sql_list, typed_keys
from .table import BY, Window, check_by

__all__ = [
    "EVENT_ROW_COLUMNS",
    "EVENT_TABLE_COLUMNS",
    "EventSource",
    "attempts_sql",
    "counted_events",
    "dataset_attempt_tallies",
    "dataset_event_columns",
    "event_files",
    "health_events_sql",
    "register_events",
]

# The events of a window: an events frame, or the files and folders a sink's data ends in.
EventSource: TypeAlias = pd.DataFrame | str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
_OUTCOMES = sql_list(metrics.DELIVERY_MOMENT_STATUSES)
_FAILED = sql_list(metrics.ERROR_STATUSES)
_STAGES = sql_list(metrics.EVENT_STAGES)


def event_files(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """The event files of files and folders (searched recursively, as ``load_events`` does);
    a path that does not exist is named."""
    if isinstance(paths, (str, os.PathLike)):
        given: list[Any] = [paths]
    elif isinstance(paths, Iterable):
        given = list(paths)
    else:
        raise InvalidInputError(
            "events: expected the events frame (ct.load_events, EventReceiver.frame()) or the "
            f"event files / folders a sink's data ends in; got {type(paths).__name__}",
            field="events",
        )
    if not all(isinstance(p, (str, os.PathLike)) for p in given):
        raise InvalidInputError("events: expected paths of event files or folders", field="events")
    found: list[str] = []
    for path in map(Path, given):
        if path.is_dir():
            found += sorted(str(p) for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        elif path.is_file():
            found.append(str(path))
        else:
            raise InvalidInputError(f"events: {path} does not exist", field="events")
    if not found:
        raise InvalidInputError(
            f"events: no event files ({', '.join(SUFFIXES)}) in {', '.join(map(str, given))}",
            field="events",
        )
    return found


# How the engines spell what the event columns add to health_sql's (sql.py: the seconds
# between two times, the percentile). The value at the earliest time with its NULL kept
# (a failed event's missing code is "no code", as pandas keeps the first event's): DuckDB's
# arg_min / min_by skip a NULL value, its arg_min_null does not; Spark's and Trino's min_by
# do not. Milliseconds since the epoch (the events' times are whole milliseconds). The
# aggregate FILTER (WHERE ...) clause is spelled alike in all three.
_FIRST = {
    "duckdb": "arg_min_null({x}, {t})",
    "spark": "min_by({x}, {t})",
    "trino": "min_by({x}, {t})",
}
_MILLIS = {
    "duckdb": "epoch_ms(CAST({t} AS TIMESTAMPTZ))",
    "spark": "unix_millis({t})",
    "trino": "to_unixtime({t}) * 1000",
}
# The columns of health_events_sql's rows.
EVENT_ROW_COLUMNS = (
    "part", "group_key", "error_code", "ev_messages", "ev_ttd_n", "ev_ttd_p50_s",
    "ev_ttd_p90_s", "ev_ttr_n", "ev_ttr_p50_s", "ev_ttr_p90_s", "n", "sender", "sender_channel",
)  # fmt: skip
# The events table's columns: one row per message event.
EVENT_TABLE_COLUMNS = (
    "message_id", "attempt", "status", "time", "error_code", "sender", "sender_channel",
)  # fmt: skip


def register_events(con: Any, events: EventSource) -> None:
    """The message events as DuckDB's view ``events`` (``EVENT_TABLE_COLUMNS``): over the
    files with ``read_json`` (a CloudEvent's ``data`` may be an object or a JSON-encoded
    string), or an events frame registered as it is."""
    if isinstance(events, pd.DataFrame):
        check_events(events)
        con.register("events", events[list(EVENT_TABLE_COLUMNS)])
        return
    files = event_files(events)
    source = (
        f"read_json([{sql_list(files)}], format = 'auto', "
        "columns = {type: 'VARCHAR', time: 'VARCHAR', data: 'JSON'})"
    )
    data = "(CASE WHEN json_type(data) = 'VARCHAR' THEN CAST(data->>'$' AS JSON) ELSE data END)"
    con.execute(f"""CREATE TEMP VIEW events AS
SELECT d->>'message_id' AS message_id, CAST(d->>'attempt' AS BIGINT) AS attempt, status,
    time, CAST(d->>'error_code' AS BIGINT) AS error_code,
    d->'from'->>'address' AS sender, d->'from'->>'channel' AS sender_channel
  FROM (SELECT {data} AS d, upper(replace(substr(type, {len(COMMS) + 9}), '-', '_')) AS status,
               CAST(time AS TIMESTAMPTZ) AS time
        FROM {source} WHERE type LIKE '{COMMS}message.%')""")


def health_events_sql(
    by: str,
    dialect: str = "duckdb",
    traffic: str = "traffic",
    events: str = "events",
    members: str | None = None,
) -> str:
    """The SQL that counts ``traffic_health``'s event columns (``HEALTH_EVENT_COLUMNS``) per
    group: the events table ``events`` joined by message id to the traffic table ``traffic``
    (as ``health_sql``'s: the Parquet files). ``events`` has one row per message event:
    ``message_id``, ``attempt``, ``status`` (``SENT``, ``DELIVERED``, ... as the event
    type's last part), ``time`` (a timestamp), ``error_code``, ``sender`` (the attempt's
    sender address) and ``sender_channel``. ``members`` names a table of pool members
    (``address``, ``channel``, ``sender_id``) that places the attempts of a sender the
    traffic does not show. Parameters (``?``, UTC timestamps, the session time zone UTC):
    the window's start and end. In Spark SQL, ``events`` is a view over the sink's JSON
    files (README: "The same queries on Spark SQL or Trino"); in DuckDB,
    ``register_events`` makes it of the files or of an events frame.

    The rows: ``part`` ``'times'`` (per group: ``ev_messages`` and the times' counts and
    percentiles), ``'attempts'`` (per group: attempts ``n``, the sender's labels; group
    NULL: attempts no sender is known for) and ``'codes'`` (per group and ``error_code``:
    failed attempts ``n``)."""
    check_by(by)
    check_dialect(dialect)
    if members is not None and not isinstance(members, str):
        raise InvalidInputError(
            f"members: expected the name of a table of pool members, got {type(members).__name__}",
            field="members",
        )
    first = _FIRST[dialect]
    percentile = PERCENTILE[dialect]
    # Where an attempt counts (event_counts' module docstring): joins, not subqueries, so
    # that the engine hashes them at any volume.
    attempt_key, attempt_join = {
        "sender": (
            "k.sender_id",
            "LEFT JOIN lookup k ON k.sender_address = a.sender AND k.channel = a.sender_channel",
        ),
        "channel": ("a.sender_channel", ""),
    }.get(by, ("w.group_key", "LEFT JOIN win w USING (message_id)"))
    # The API's creation times are whole seconds.
    created = _MILLIS[dialect].format(t="w.created_at")
    seconds = "(" + _MILLIS[dialect].format(t="{b}") + f" - {created}) / 1000.0"
    ttd = (
        f"CASE WHEN w.sender_id IS NOT NULL AND w.status = 'READ' "
        f"THEN {seconds.format(b='m.delivered_at')} "
        f"WHEN w.sender_id IS NOT NULL AND w.status IN ({_OUTCOMES}) AND m.outcome = w.status "
        f"THEN {seconds.format(b='m.outcome_at')} END"
    )
    ttr = f"CASE WHEN w.status = 'READ' THEN {seconds.format(b='m.read_at')} END"
    known = f"SELECT sender_address, channel, sender_id FROM {traffic}"
    if members is not None:
        known += f" UNION ALL SELECT address, channel, sender_id FROM {members}"
    outcome = f"s.attempt = l.n AND s.status IN ({_OUTCOMES})"
    times = ",\n  ".join(
        f"count({t}) AS ev_{t}_n, "
        + ", ".join(f"{percentile.format(x=t, q=q / 100)} AS ev_{t}_p{q}_s" for q in (50, 90))
        for t in ("ttd", "ttr")
    )
    return f"""WITH ev AS (
  SELECT message_id, coalesce(attempt, 0) AS attempt, status, time, error_code, sender,
    sender_channel
  FROM {events} WHERE message_id IS NOT NULL AND status IN ({_STAGES})),
steps AS (
  SELECT message_id, attempt, status, min(time) AS time,
    {first.format(x="error_code", t="time")} AS error_code,
    min(sender) AS sender, min(sender_channel) AS sender_channel
  FROM ev GROUP BY 1, 2, 3),
win AS (
  SELECT message_id, status, sender_id, created_at, {group_key_sql(by)} AS group_key
  FROM {traffic} WHERE created_at >= ? AND created_at < ?),
lookup AS (
  SELECT sender_address, channel, min(sender_id) AS sender_id FROM ({known}) known
  GROUP BY 1, 2),
latest AS (SELECT message_id, max(attempt) AS n FROM steps GROUP BY 1),
moments AS (
  SELECT s.message_id,
    {first.format(x="s.status", t="s.time")} FILTER (WHERE {outcome}) AS outcome,
    min(s.time) FILTER (WHERE {outcome}) AS outcome_at,
    min(s.time) FILTER (WHERE s.status = 'DELIVERED') AS delivered_at,
    min(s.time) FILTER (WHERE s.status = 'READ') AS read_at
  FROM steps s JOIN latest l USING (message_id) GROUP BY 1),
timed AS (
  SELECT w.group_key, m.message_id IS NOT NULL AS seen, {ttd} AS ttd, {ttr} AS ttr
  FROM win w LEFT JOIN moments m USING (message_id)),
attempts AS (
  SELECT message_id, attempt, min(sender) AS sender, min(sender_channel) AS sender_channel,
    bool_or(status IN ({_FAILED})) AS failed,
    {first.format(x="error_code", t="time")} FILTER (WHERE status IN ({_FAILED})) AS error_code
  FROM steps WHERE attempt >= 1 AND message_id IN (SELECT message_id FROM win) GROUP BY 1, 2),
placed AS (SELECT a.*, {attempt_key} AS group_key FROM attempts a {attempt_join})
SELECT 'times' AS part, group_key, NULL AS error_code,
  count(*) FILTER (WHERE seen) AS ev_messages,
  {times},
  NULL AS n, NULL AS sender, NULL AS sender_channel
FROM timed GROUP BY 2
UNION ALL
SELECT 'attempts', group_key, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, count(*),
  min(sender), min(sender_channel)
FROM placed GROUP BY 2
UNION ALL
SELECT 'codes', group_key, error_code, NULL, NULL, NULL, NULL, NULL, NULL, NULL, count(*),
  NULL, NULL
FROM placed WHERE failed GROUP BY 2, 3"""


def dataset_event_columns(
    dataset: TrafficDataset,
    events: EventSource,
    by: str,
    window: Window,
    members: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """``event_counts.event_columns`` of a dataset's window, counted in DuckDB: the event
    columns per group (with a sender's labels, for senders only events show) and
    ``{"unattributed_attempts": n}``."""
    import duckdb

    files = dataset.files()
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        register_events(con, events)
        traffic = f"read_parquet([{sql_list(files)}], hive_partitioning = false)"
        if members is not None:
            named = members[["address", "channel", "sender_id"]].astype("string")
            con.register("members", named)
        sql = health_events_sql(
            by, "duckdb", traffic=traffic, members=None if members is None else "members"
        )
        params = [iso(window[0]), iso(window[1])]
        sql = sql.replace("?", "CAST(? AS TIMESTAMPTZ)")
        counts = con.execute(sql, params).df() if files else pd.DataFrame()
    return counted_events(counts, by)


def counted_events(counts: pd.DataFrame, by: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """The event columns per group from ``health_events_sql``'s rows (``counts``, whichever
    engine counted them: DuckDB here, Spark in the tests), the top error code and its
    share's Wilson interval as ``metrics.error_codes`` orders and computes them; and
    ``{"unattributed_attempts": n}``."""
    key, labels = BY[by]
    if counts.empty:
        empty = pd.DataFrame(columns=list(HEALTH_EVENT_COLUMNS), index=pd.Index([], name=key))
        return typed_events(empty), {"unattributed_attempts": 0}
    attempts = counts[counts["part"] == "attempts"]
    unattributed = int(attempts.loc[attempts["group_key"].isna(), "n"].sum())
    counts = counts[counts["group_key"].notna()].copy()
    counts["group_key"] = typed_keys(counts["group_key"], by)
    times = counts[counts["part"] == "times"].set_index("group_key")
    attempts = counts[counts["part"] == "attempts"].set_index("group_key")
    codes = counts[counts["part"] == "codes"].astype({"n": "int64", "error_code": "Int64"})
    codes = codes.sort_values(
        ["group_key", "n", "error_code"], ascending=[True, False, True], na_position="last"
    )
    failed = codes.groupby("group_key")["n"].sum()
    top = codes.drop_duplicates("group_key").set_index("group_key")  # the most frequent
    table = times[[c for c in HEALTH_EVENT_COLUMNS if c in times.columns]].join(
        attempts["n"].rename("ev_attempts"), how="outer"
    )
    table["ev_failed_attempts"] = failed
    table["ev_top_error_code"] = top["error_code"]
    table["ev_top_error_count"] = top["n"]
    shares = [
        (k / n, *metrics.wilson_interval(int(k), int(n)))
        for k, n in zip(top["n"], failed.reindex(top.index), strict=True)
    ]
    frame = pd.DataFrame(shares, index=top.index, columns=["share", "low", "high"])
    table["ev_top_error_share"] = frame["share"]
    table["ev_top_error_low"] = frame["low"]
    table["ev_top_error_high"] = frame["high"]
    table = typed_events(table.reindex(columns=list(HEALTH_EVENT_COLUMNS)))
    table.index.name = key
    if labels and by == "sender":
        table["sender_address"] = attempts["sender"].reindex(table.index).astype("string")
        table["channel"] = attempts["sender_channel"].reindex(table.index).astype("string")
    elif labels:
        for label in labels:
            table[label] = pd.Series(table.index, index=table.index).astype("string")
    return table, {"unattributed_attempts": unattributed}


def attempts_sql(
    dialect: str = "duckdb",
    traffic: str = "traffic",
    events: str = "events",
    members: str | None = None,
) -> str:
    """The SQL that counts the findings' attempts per pool, attempt channel and sender
    (``event_counts.attempt_tallies``' rows: ``ATTEMPT_KEYS`` and ``ATTEMPT_VALUES``), over
    the tables ``health_events_sql`` reads (the same spelling in DuckDB, Spark SQL and
    Trino). Parameters (``?``, UTC timestamps): the window's start and end."""
    check_dialect(dialect)
    known = f"SELECT sender_address, channel, sender_id FROM {traffic}"
    if members is not None:
        known += f" UNION ALL SELECT address, channel, sender_id FROM {members}"
    delivered = sql_list(metrics.DELIVERED_STATUSES)
    return f"""WITH win AS (
  SELECT message_id, min(pool_id) AS pool_id, min(sender_id) AS carried_by,
    min(status) AS status
  FROM {traffic} WHERE created_at >= ? AND created_at < ? AND pool_id IS NOT NULL
  GROUP BY 1),
lookup AS (
  SELECT sender_address, channel, min(sender_id) AS sender_id FROM ({known}) known
  GROUP BY 1, 2),
attempts AS (
  SELECT message_id, attempt, min(sender) AS sender, min(sender_channel) AS sender_channel,
    bool_or(status IN ({_FAILED})) AS failed
  FROM {events}
  WHERE message_id IS NOT NULL AND attempt >= 1 AND status IN ({_STAGES})
  GROUP BY 1, 2),
placed AS (
  SELECT w.pool_id, a.sender_channel AS channel, k.sender_id, a.sender, a.message_id,
    a.failed,
    a.failed AND w.status IN ({delivered}) AND w.carried_by <> k.sender_id AS rescued
  FROM attempts a JOIN win w USING (message_id)
  JOIN lookup k ON k.sender_address = a.sender AND k.channel = a.sender_channel)
SELECT pool_id, channel, sender_id, min(sender) AS sender_address, count(*) AS attempts,
  sum(CASE WHEN failed THEN 1 ELSE 0 END) AS failed,
  count(DISTINCT CASE WHEN failed THEN message_id END) AS failed_messages,
  count(DISTINCT CASE WHEN rescued THEN message_id END) AS rescued
FROM placed GROUP BY 1, 2, 3"""


def dataset_attempt_tallies(
    dataset: TrafficDataset,
    events: EventSource,
    window: Window,
    members: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``event_counts.attempt_tallies`` of a dataset's window, counted in DuckDB over its
    Parquet files and the events where they lie (``register_events``)."""
    import duckdb

    files = dataset.files()
    if not files:
        return typed_attempts(pd.DataFrame(columns=[*ATTEMPT_KEYS, *ATTEMPT_VALUES]))
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        register_events(con, events)
        traffic = f"read_parquet([{sql_list(files)}], hive_partitioning = false)"
        if members is not None:
            con.register("members", members[["address", "channel", "sender_id"]].astype("string"))
        sql = attempts_sql("duckdb", traffic, members=None if members is None else "members")
        sql = sql.replace("?", "CAST(? AS TIMESTAMPTZ)")
        rows = con.execute(sql, [iso(window[0]), iso(window[1])]).df()
    return typed_attempts(rows)
