"""Traffic at any volume: a Parquet dataset on disk, one partition per UTC day.

``export_traffic(client, "30d", None, "traffic/")`` streams ``GET /Messages`` pages into
``traffic/day=YYYY-MM-DD/part-0.parquet`` (Hive-style partitions, which Spark, Trino,
DuckDB and pyarrow all read), holding at most ``rows_per_group`` messages in memory. A
partition is written to a ``.partial`` file and renamed when complete, and the manifest
(``_traffic.json``: filters, pools, and for each day the range exported and when) is
rewritten after each one, so an interrupted export re-run with the same arguments keeps
every complete day and redoes only the others: never a message twice, never one missing.
A day that had not ended when it was exported is exported again (its last messages may
have come since, and statuses move on).

``read_traffic(path, ...)`` reads it back as a traffic frame (the same columns, values and
dtypes as ``load_traffic``), filters pushed down to the files (days outside the window are
not opened). ``open_traffic(path)`` gives a ``TrafficDataset`` that ``traffic_health``
aggregates in DuckDB without loading the messages: the SQL is ``health_sql`` (plain
SQL with ``SUM(CASE ...)`` and ``GROUP BY``; only the seconds between two times and the
percentile differ by engine, and ``health_sql(by, dialect="spark" | "trino")`` writes them
for Spark SQL or Trino over the same files).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .. import metrics
from ..errors import ConfigurationError, InvalidInputError
from ..frames import NO_SENDER
from ..frames.load import progress_pages
from .columns import STORED_SCHEMA, TrafficColumns, traffic_frame
from .table import ALPHA, BY, COUNTS, NO_COUNTRY, NO_POOL, assemble, check_by
from .traffic import pool_names, resolve_pools, server_window
from .window import days_of, parse_window

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = [
    "DIALECTS",
    "MANIFEST",
    "ExportResult",
    "TrafficDataset",
    "export_traffic",
    "health_sql",
    "open_traffic",
    "read_traffic",
]

MANIFEST = "_traffic.json"
FORMAT = "commstoolkit-traffic/1"
PART = "part-0.parquet"
ROWS_PER_GROUP = 100_000
PARTITIONING = ds.partitioning(pa.schema([("day", pa.date32())]), flavor="hive")


@dataclass(frozen=True)
class ExportResult:
    """What an export did: ``written`` days (with their message counts) and ``kept`` days
    (complete from an earlier run), the window, the dataset's folder."""

    path: Path
    window: tuple[pd.Timestamp, pd.Timestamp]
    written: dict[date, int] = field(default_factory=dict)
    kept: dict[date, int] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        """Messages in the window's partitions (written now or kept)."""
        return sum(self.written.values()) + sum(self.kept.values())

    def __str__(self) -> str:
        kept = f"; {len(self.kept)} kept from an earlier run" if self.kept else ""
        return (
            f"{self.messages:,} messages of {self.window[0]:%Y-%m-%d %H:%M} – "
            f"{self.window[1]:%Y-%m-%d %H:%M} UTC in {self.path}: {len(self.written)} day "
            f"partition{'s' if len(self.written) != 1 else ''} written{kept}"
        )


def export_traffic(
    client: CommsClient,
    start: Any,
    end: Any,
    path: str | os.PathLike[str],
    *,
    channel: str | None = None,
    status: str | None = None,
    tags: Mapping[str, str] | None = None,
    rows_per_group: int = ROWS_PER_GROUP,
    progress: bool | None = None,
) -> ExportResult:
    """Export every message created in ``[start, end)`` into the Parquet dataset at
    ``path`` (a folder, made if missing), one partition per UTC day; see the module.

    ``start`` / ``end`` as ``load_traffic`` (``end`` None: now). ``channel`` / ``status``
    / ``tags``: the API's filters; a dataset holds one set of them, and a re-run with other
    filters is refused (name another folder). Raises ``InvalidInputError`` for bad input
    and ``ConfigurationError`` for a folder that holds something else, before any request.
    """
    window = parse_window(start, end)
    if (
        isinstance(rows_per_group, bool)
        or not isinstance(rows_per_group, int)
        or (rows_per_group < 1)
    ):
        raise InvalidInputError(
            f"rows_per_group={rows_per_group!r}: expected a whole number >= 1",
            field="rows_per_group",
        )
    folder = Path(path)
    filters = {"channel": channel, "status": status, "tags": dict(tags) if tags else None}
    manifest = _read_manifest(folder, filters)
    # Check the filters now: each day's pager asks for nothing until iterated.
    client.messages.list(channel=channel, status=status, tags=tags)
    names = pool_names(client)
    window = server_window(client, start, end, window)
    folder.mkdir(parents=True, exist_ok=True)
    manifest["pools"] = {**manifest.get("pools", {}), **names}
    result = ExportResult(folder, window)
    for day, begin, finish in days_of(*window):
        done = manifest["days"].get(day.isoformat())
        if done and _complete(done, begin, finish):
            result.kept[day] = int(done["messages"])
            continue
        exported_at = datetime.now(timezone.utc)
        pager = client.messages.list(
            channel=channel, status=status, tags=tags, start_date=begin, end_date=finish
        )
        count = _write_day(folder, day, pager, rows_per_group, progress)
        manifest["days"][day.isoformat()] = {
            "from": begin.isoformat(),
            "to": finish.isoformat(),
            "messages": count,
            "exported_at": exported_at.isoformat(),
        }
        _write_manifest(folder, manifest)
        result.written[day] = count
    return result


def _complete(done: Mapping[str, Any], begin: pd.Timestamp, finish: pd.Timestamp) -> bool:
    """A day exported before counts when it covered this range and had ended by then."""
    covered = pd.Timestamp(done["from"]) <= begin and pd.Timestamp(done["to"]) >= finish
    return bool(covered and pd.Timestamp(done["exported_at"]) >= pd.Timestamp(done["to"]))


def _write_day(
    folder: Path, day: date, pager: Any, rows_per_group: int, progress: bool | None
) -> int:
    """Stream one day's pages into its partition; return how many messages it holds."""
    partition = folder / f"day={day.isoformat()}"
    partition.mkdir(exist_ok=True)
    for leftover in partition.glob("*.partial"):
        leftover.unlink()
    partial = partition / f"{PART}.partial"
    columns = TrafficColumns()
    count = 0
    with pq.ParquetWriter(partial, STORED_SCHEMA, compression="zstd") as writer:
        pages = pager.read_pages(columns.add)
        for _ in progress_pages(pages, progress, f"messages of {day}", size=int):
            if len(columns) >= rows_per_group:
                count += _flush(writer, columns)
        count += _flush(writer, columns)
    os.replace(partial, partition / PART)
    return count


def _flush(writer: pq.ParquetWriter, columns: TrafficColumns) -> int:
    n = len(columns)
    if n or writer.file_handle is not None:
        writer.write_table(columns.table())
    columns.clear()
    return n


def _read_manifest(folder: Path, filters: Mapping[str, Any]) -> dict[str, Any]:
    """The folder's manifest (a new one for a new or empty folder); refuses a folder that
    holds something else, or an export made with other filters."""
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        if folder.exists() and any(folder.iterdir()):
            raise ConfigurationError(
                f"{folder} is not empty and holds no traffic export ({MANIFEST} is missing): "
                "name an empty or new folder"
            )
        return {"format": FORMAT, "filters": dict(filters), "pools": {}, "days": {}}
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"{manifest_path} cannot be read: {error}") from None
    if manifest.get("format") != FORMAT:
        raise ConfigurationError(
            f"{manifest_path} is not a traffic export of this version (format "
            f"{manifest.get('format')!r}, expected {FORMAT!r})"
        )
    if manifest.get("filters") != dict(filters):
        raise ConfigurationError(
            f"{folder} holds an export with the filters {manifest.get('filters')}, not "
            f"{dict(filters)}: one dataset, one set of filters; name another folder"
        )
    return manifest


def _write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    temporary = folder / f"{MANIFEST}.partial"
    temporary.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(temporary, folder / MANIFEST)


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrafficDataset:
    """An exported traffic dataset: its folder, the pools' names and the days it holds.
    ``traffic_health(dataset, by=...)`` aggregates it in DuckDB; ``read(...)`` loads it."""

    path: Path
    pools: dict[str, str | None]
    days: dict[str, dict[str, Any]]

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """From the start of its first exported range to the end of its last."""
        if not self.days:
            raise InvalidInputError(f"{self.path} holds no exported day yet", field="path")
        return (
            min(pd.Timestamp(d["from"]) for d in self.days.values()),
            max(pd.Timestamp(d["to"]) for d in self.days.values()),
        )

    def files(self) -> list[str]:
        """The complete partitions' files (never a ``.partial`` one)."""
        found = (self.path / f"day={day}" / PART for day in sorted(self.days))
        return [str(f) for f in found if f.exists()]

    def read(self, start: Any = None, end: Any = None, **filters: Any) -> pd.DataFrame:
        return read_traffic(self, start, end, **filters)

    def __repr__(self) -> str:
        return f"TrafficDataset({str(self.path)!r}, {len(self.days)} days)"


def open_traffic(path: str | os.PathLike[str] | TrafficDataset) -> TrafficDataset:
    """The traffic dataset exported into ``path``."""
    if isinstance(path, TrafficDataset):
        return path
    folder = Path(path)
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        raise InvalidInputError(
            f"{folder} holds no traffic export ({MANIFEST} is missing); make one with "
            "export_traffic or `commstoolkit traffic export`",
            field="path",
        )
    manifest = _read_manifest(folder, _stored_filters(manifest_path))
    return TrafficDataset(folder, dict(manifest.get("pools", {})), dict(manifest["days"]))


def _stored_filters(manifest_path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(manifest_path.read_text()).get("filters") or {})
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"{manifest_path} cannot be read: {error}") from None


def read_traffic(
    path: str | os.PathLike[str] | TrafficDataset,
    start: Any = None,
    end: Any = None,
    *,
    pools: str | Iterable[str] | None = None,
    channel: str | Iterable[str] | None = None,
    status: str | Iterable[str] | None = None,
    countries: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """The dataset's messages of ``[start, end)`` (default: all it holds) as a traffic
    frame, filtered by pools (ids or names), channels, statuses and recipient countries;
    the filters are pushed down to the Parquet files. ``attrs["window"]`` is the window."""
    dataset = open_traffic(path)
    window = _window(dataset, start, end)
    expression = (ds.field("created_at") >= window[0]) & (ds.field("created_at") < window[1])
    expression &= ds.field("day") >= window[0].date()
    expression &= ds.field("day") <= window[1].date()
    if pools is not None:
        expression &= ds.field("pool_id").isin(resolve_pools(pools, dataset.pools))
    for name, values in (("channel", channel), ("status", status), ("to_country", countries)):
        if values is not None:
            chosen = [values] if isinstance(values, str) else list(values)
            expression &= ds.field(name).isin([str(v).upper() for v in chosen])
    files = dataset.files()
    if files:
        source = ds.dataset(
            files, format="parquet", partitioning=PARTITIONING, partition_base_dir=str(dataset.path)
        )
        table = source.to_table(columns=list(STORED_SCHEMA.names), filter=expression)
    else:
        table = STORED_SCHEMA.empty_table()
    frame = traffic_frame(table, dataset.pools)
    frame = frame.sort_values(["created_at", "message_id"], kind="stable").reset_index(drop=True)
    frame.attrs = {"window": window, "path": str(dataset.path)}
    return frame


def _window(dataset: TrafficDataset, start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    if start is None and end is None:
        return dataset.window
    return parse_window(dataset.window[0] if start is None else start, end or dataset.window[1])


# -- aggregating in SQL -------------------------------------------------------------------


DIALECTS = ("duckdb", "spark", "trino")
# The two expressions SQL engines spell differently: the seconds from a to b, and the
# linear-interpolation percentile (numpy's and pandas' default).
_SECONDS = {
    "duckdb": "date_diff('second', {a}, {b})",
    "spark": "timestampdiff(SECOND, {a}, {b})",
    "trino": "date_diff('second', {a}, {b})",
}
_PERCENTILE = {
    "duckdb": "quantile_cont({x}, {q})",
    "spark": "percentile({x}, {q})",
    # Trino has no exact percentile: approx_percentile's answer is within ~1% of rank.
    "trino": "approx_percentile({x}, {q})",
}


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def health_sql(by: str, dialect: str = "duckdb", table: str = "traffic") -> str:
    """The SQL that counts ``traffic_health``'s numbers per group over the traffic table
    ``table`` (the Parquet files: ``read_parquet('DIR/*/*.parquet')`` in DuckDB, a table or
    view over the folder in Spark / Trino). Parameters, in order: the window's start, its
    end, and the previous window's start (``?`` placeholders; timestamps in UTC, with the
    session time zone UTC for the day and hour). One row per (group, window) with
    ``is_current`` true for the window, false for the previous one."""
    check_by(by)
    if dialect not in DIALECTS:
        raise InvalidInputError(
            f"dialect={dialect!r}: expected one of {', '.join(map(repr, DIALECTS))}",
            field="dialect",
            allowed=DIALECTS,
        )
    key = {
        "sender": f"coalesce(sender_id, '{NO_SENDER}')",
        "pool": f"coalesce(pool_id, '{NO_POOL}')",
        "channel": f"coalesce(channel, '{NO_SENDER}')",
        "country": f"coalesce(to_country, '{NO_COUNTRY}')",
        "day": "date_trunc('day', created_at)",
        "hour": "extract(hour FROM created_at)",
    }[by]
    # A pool's name is the account's (the manifest's), not in the files.
    labels = ("sender_address", "channel") if by == "sender" else ()
    delivered = f"status IN ({_sql_list(metrics.DELIVERED_STATUSES)})"
    reads = f"channel IN ({_sql_list(metrics.READ_CHANNELS)})"
    # Time to delivered (metrics.time_to_delivered): at DELIVERED / UNDELIVERED / FAILED
    # with a sender; a READ message's delivery moment is not in the data.
    timed = f"status IN ({_sql_list(metrics.DELIVERY_MOMENT_STATUSES)}) AND sender_id IS NOT NULL"
    seconds = _SECONDS[dialect].format(a="created_at", b="updated_at")
    ttd = f"CASE WHEN {timed} THEN {seconds} END"
    percentile = _PERCENTILE[dialect]
    label_sql = "".join(f",\n  min({label}) AS {label}" for label in labels)
    return f"""SELECT
  {key} AS group_key,
  created_at >= ? AS is_current{label_sql},
  count(*) AS messages,
  sum(CASE WHEN status IN ({_sql_list(metrics.RATED_STATUSES)}) THEN 1 ELSE 0 END) AS rated,
  sum(CASE WHEN {delivered} THEN 1 ELSE 0 END) AS delivered,
  sum(CASE WHEN status IN ({_sql_list(metrics.ERROR_STATUSES)}) THEN 1 ELSE 0 END) AS errors,
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
    window = _window(dataset, start, end)
    previous_start = window[0] - (window[1] - window[0])
    files = dataset.files()
    key, labels = BY[by]
    empty = pd.DataFrame(columns=[*labels, *COUNTS], index=pd.Index([], name=key))
    if not files:
        return assemble(empty, empty, by, window, members=members, alpha=alpha)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        source = f"read_parquet([{_sql_list(files)}], hive_partitioning = false)"
        sql = health_sql(by, "duckdb", table=source)
        params = [_iso(window[0]), _iso(window[1]), _iso(previous_start)]
        counts = con.execute(sql.replace("?", "CAST(? AS TIMESTAMPTZ)"), params).df()
    if by == "pool":
        keys = counts["group_key"].astype("string")
        counts["pool_name"] = keys.map(dataset.pools, na_action="ignore").astype("string")
        counts["pool_name"] = counts["pool_name"].fillna(keys)
    if by == "day":
        counts["group_key"] = pd.to_datetime(counts["group_key"], utc=True)
    elif by == "hour":
        counts["group_key"] = counts["group_key"].astype("int64")
    else:
        counts["group_key"] = counts["group_key"].astype("string")
    for label in labels:
        counts[label] = counts[label].astype("string")
    for column in COUNTS:
        kind = "float64" if column.startswith("ttd_p") else "int64"
        counts[column] = counts[column].astype(kind)
    counts = counts.rename(columns={"group_key": key}).set_index(key).sort_index()
    now = counts[counts["is_current"]].drop(columns="is_current")
    before = counts[~counts["is_current"]].drop(columns="is_current")
    return assemble(now, before[list(COUNTS)], by, window, members=members, alpha=alpha)


def _iso(stamp: pd.Timestamp) -> str:
    return str(stamp.tz_convert("UTC").isoformat())
