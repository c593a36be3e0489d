"""The health table's event columns of an exported dataset, counted in DuckDB: the events read
where they lie (``read_json`` over the JSON-lines files a sink's data ends in, or an events
frame handed to DuckDB as it is) joined to the Parquet traffic by message id, so no message
and no event is loaded in pandas; only the counts per group come back. The numbers are
``event_counts``' (``metrics.time_to_delivered`` / ``time_to_read`` / ``error_codes`` with
events), written in SQL: tests/analysis/test_health_events.py checks that both agree."""

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
from .event_counts import HEALTH_EVENT_COLUMNS, check_events, typed_events
from .sql import group_key_sql, iso, sql_list, typed_keys
from .table import BY, Window

__all__ = ["EventSource", "dataset_event_columns", "event_files"]

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


def _events_sql(con: Any, events: EventSource) -> str:
    """A query of the message events as ``message_id, attempt, status, time, error_code,
    sender, sender_channel``: over the files with ``read_json`` (a CloudEvent's ``data`` may
    be an object or a JSON-encoded string), or over an events frame registered as it is."""
    if isinstance(events, pd.DataFrame):
        check_events(events)
        columns = ["message_id", "attempt", "status", "time", "error_code", "sender"]
        columns.append("sender_channel")
        con.register("events_frame", events[columns])
        return (
            "SELECT message_id, coalesce(attempt, 0) AS attempt, status, time, error_code, "
            f"sender, sender_channel FROM events_frame WHERE message_id IS NOT NULL AND "
            f"status IN ({_STAGES})"
        )
    files = event_files(events)
    source = (
        f"read_json([{sql_list(files)}], format = 'auto', "
        "columns = {type: 'VARCHAR', time: 'VARCHAR', data: 'JSON'})"
    )
    data = "(CASE WHEN json_type(data) = 'VARCHAR' THEN CAST(data->>'$' AS JSON) ELSE data END)"
    return f"""SELECT d->>'message_id' AS message_id,
    coalesce(CAST(d->>'attempt' AS BIGINT), 0) AS attempt, status, time,
    CAST(d->>'error_code' AS BIGINT) AS error_code,
    d->'from'->>'address' AS sender, d->'from'->>'channel' AS sender_channel
  FROM (SELECT {data} AS d, upper(replace(substr(type, {len(COMMS) + 9}), '-', '_')) AS status,
               CAST(time AS TIMESTAMPTZ) AS time
        FROM {source} WHERE type LIKE '{COMMS}message.%')
  WHERE d->>'message_id' IS NOT NULL AND status IN ({_STAGES})"""


def _query(by: str, events_sql: str, traffic: str, lookup: str) -> str:
    """The per-group counts of the event columns (parameters: the window's start, end)."""
    # Where an attempt counts (event_counts' module docstring): joins, not subqueries, so
    # that the engine hashes them at any volume.
    attempt_key, attempt_join = {
        "sender": (
            "k.sender_id",
            "LEFT JOIN lookup k ON k.sender_address = a.sender AND k.channel = a.sender_channel",
        ),
        "channel": ("a.sender_channel", ""),
    }.get(by, ("w.group_key", "LEFT JOIN win w USING (message_id)"))
    # The events' times are whole milliseconds, the API's creation times whole seconds.
    seconds = (
        "(epoch_ms(CAST({b} AS TIMESTAMPTZ)) - epoch_ms(CAST(w.created_at AS TIMESTAMPTZ))) "
        "/ 1000.0"
    )
    ttd = (
        f"CASE WHEN w.sender_id IS NOT NULL AND w.status = 'READ' "
        f"THEN {seconds.format(b='m.delivered_at')} "
        f"WHEN w.sender_id IS NOT NULL AND w.status IN ({_OUTCOMES}) AND m.outcome = w.status "
        f"THEN {seconds.format(b='m.outcome_at')} END"
    )
    ttr = f"CASE WHEN w.status = 'READ' THEN {seconds.format(b='m.read_at')} END"
    return f"""WITH ev AS ({events_sql}),
steps AS (
  SELECT message_id, attempt, status, min(time) AS time, arg_min(error_code, time) AS error_code,
         min(sender) AS sender, min(sender_channel) AS sender_channel
  FROM ev GROUP BY 1, 2, 3),
win AS (
  SELECT message_id, status, sender_id, created_at, {group_key_sql(by)} AS group_key
  FROM {traffic} WHERE created_at >= ? AND created_at < ?),
lookup AS (SELECT sender_address, channel, min(sender_id) AS sender_id FROM ({lookup})
  GROUP BY 1, 2),
last AS (SELECT message_id, max(attempt) AS n FROM steps GROUP BY 1),
moments AS (
  SELECT s.message_id,
    arg_min(s.status, s.time) FILTER (WHERE s.attempt = l.n AND s.status IN ({_OUTCOMES}))
      AS outcome,
    min(s.time) FILTER (WHERE s.attempt = l.n AND s.status IN ({_OUTCOMES})) AS outcome_at,
    min(s.time) FILTER (WHERE s.status = 'DELIVERED') AS delivered_at,
    min(s.time) FILTER (WHERE s.status = 'READ') AS read_at
  FROM steps s JOIN last l USING (message_id) GROUP BY 1),
timed AS (
  SELECT w.group_key, m.message_id IS NOT NULL AS seen, {ttd} AS ttd, {ttr} AS ttr
  FROM win w LEFT JOIN moments m USING (message_id)),
attempts AS (
  SELECT message_id, attempt, min(sender) AS sender, min(sender_channel) AS sender_channel,
    bool_or(status IN ({_FAILED})) AS failed,
    arg_min(error_code, time) FILTER (WHERE status IN ({_FAILED})) AS error_code
  FROM steps WHERE attempt >= 1 AND message_id IN (SELECT message_id FROM win) GROUP BY 1, 2),
placed AS (SELECT a.*, {attempt_key} AS group_key FROM attempts a {attempt_join})
SELECT 'times' AS part, group_key, NULL AS error_code,
  count(*) FILTER (WHERE seen) AS ev_messages,
  count(ttd) AS ev_ttd_n, quantile_cont(ttd, 0.5) AS ev_ttd_p50_s,
  quantile_cont(ttd, 0.9) AS ev_ttd_p90_s,
  count(ttr) AS ev_ttr_n, quantile_cont(ttr, 0.5) AS ev_ttr_p50_s,
  quantile_cont(ttr, 0.9) AS ev_ttr_p90_s,
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

    key, labels = BY[by]
    files = dataset.files()
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        events_sql = _events_sql(con, events)
        traffic = f"read_parquet([{sql_list(files)}], hive_partitioning = false)"
        lookup = f"SELECT DISTINCT sender_address, channel, sender_id FROM {traffic}"
        if members is not None:
            named = members[["address", "channel", "sender_id"]].astype("string")
            con.register("members_frame", named)
            lookup += " UNION SELECT address, channel, sender_id FROM members_frame"
        params = [iso(window[0]), iso(window[1])]
        sql = _query(by, events_sql, traffic, lookup).replace("?", "CAST(? AS TIMESTAMPTZ)")
        counts = con.execute(sql, params).df() if files else pd.DataFrame()
    return _assembled(counts, by, key, labels)


def _assembled(
    counts: pd.DataFrame, by: str, key: str, labels: tuple[str, ...]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The event columns per group from the query's three parts (the top error code and its
    share's Wilson interval as ``metrics.error_codes`` orders and computes them)."""
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
