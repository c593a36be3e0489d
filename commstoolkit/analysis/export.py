"""Traffic at any volume, written: ``export_traffic`` streams a window's ``GET /Messages``
pages into a Parquet dataset, one partition per UTC day.

``export_traffic(client, "30d", None, "traffic/")`` writes
``traffic/day=YYYY-MM-DD/part-0.parquet`` (Hive-style partitions, which Spark, Trino,
DuckDB and pyarrow all read), holding at most ``rows_per_group`` messages in memory. A
partition is written to a ``.partial`` file and renamed when complete, and the manifest
(``manifest.py``) is rewritten after each one, so an interrupted export re-run with the
same arguments keeps every complete day and redoes only the others: never a message twice,
never one missing. A day that had not ended when it was exported is exported again (its
last messages may have come since, and statuses move on).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..client.concurrency import resolve_concurrency, worth_hiding
from ..errors import InvalidInputError
from ..frames.load import progress_pages
from .columns import STORED_SCHEMA, TrafficColumns
from .manifest import PART, read_manifest, write_manifest
from .slices import window_tables
from .traffic import pool_names, server_window
from .window import days_of, parse_window

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["ROWS_PER_GROUP", "ExportResult", "export_traffic"]

ROWS_PER_GROUP = 100_000


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
    concurrency: int | None = None,
) -> ExportResult:
    """Export every message created in ``[start, end)`` into the Parquet dataset at
    ``path`` (a folder, made if missing), one partition per UTC day; see the module.

    ``start`` / ``end`` as ``load_traffic`` (``end`` None: now). ``channel`` / ``status``
    / ``tags``: the API's filters; a dataset holds one set of them, and a re-run with other
    filters is refused (name another folder). ``concurrency``: requests in flight at most
    (None: 8 over a network, 1 on the embedded sandbox; 1: one page after the other): each
    day is fetched as slices of creation time side by side (``slices``), and still written
    whole, in order, one day at a time.
    Raises ``InvalidInputError`` for bad input and ``ConfigurationError`` for a folder that
    holds something else, before any request.
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
    adaptive = concurrency is None
    concurrency = resolve_concurrency(concurrency, client.sandbox is not None, client.round_trip())
    folder = Path(path)
    filters = {"channel": channel, "status": status, "tags": dict(tags) if tags else None}
    manifest = read_manifest(folder, filters)
    # Check the filters now: each day's pager asks for nothing until iterated.
    client.messages.list(channel=channel, status=status, tags=tags)
    names = pool_names(client)
    if adaptive and not worth_hiding(client.round_trip()):
        concurrency = 1  # answers come within milliseconds: no round trip to hide
    window = server_window(client, start, end, window)
    folder.mkdir(parents=True, exist_ok=True)
    manifest["pools"] = {**manifest.get("pools", {}), **names}
    result = ExportResult(folder, window)
    todo = []
    for day, begin, finish in days_of(*window):
        done = manifest["days"].get(day.isoformat())
        if done and _complete(done, begin, finish):
            result.kept[day] = int(done["messages"])
        else:
            todo.append((day, begin, finish))
    query = {"channel": channel, "status": status, "tags": tags}
    exported_at = datetime.now(timezone.utc)
    for day, begin, finish, count in _export_days(
        client, folder, todo, query, rows_per_group, progress, concurrency
    ):
        manifest["days"][day.isoformat()] = {
            "from": begin.isoformat(),
            "to": finish.isoformat(),
            "messages": count,
            "exported_at": exported_at.isoformat(),
        }
        write_manifest(folder, manifest)
        result.written[day] = count
        exported_at = datetime.now(timezone.utc)
    return result


def _export_days(
    client: CommsClient,
    folder: Path,
    todo: list[tuple[date, pd.Timestamp, pd.Timestamp]],
    filters: dict[str, Any],
    rows_per_group: int,
    progress: bool | None,
    concurrency: int,
) -> Iterator[tuple[date, pd.Timestamp, pd.Timestamp, int]]:
    """Write each day of ``todo`` in order; yield it with its count once its partition is in
    place. With ``concurrency`` > 1 the days' creation-time slices are fetched side by side
    (``slices``), a few ahead of the day being written."""
    if concurrency == 1:
        for day, begin, finish in todo:
            pager = client.messages.list(start_date=begin, end_date=finish, **filters)
            pages = (columns for columns in _pages(pager, progress))
            yield day, begin, finish, _write_day(folder, day, pages, rows_per_group)
        return
    windows = [(begin, finish) for _, begin, finish in todo]
    tables = window_tables(client, windows, filters, concurrency)
    for index, group in groupby(progress_pages(tables, progress, "messages", size=_rows), _day):
        day, begin, finish = todo[index]
        parts = (table for _, table in group)
        yield day, begin, finish, _write_day(folder, day, parts, rows_per_group)


def _day(item: tuple[int, pa.Table]) -> int:
    return item[0]


def _rows(item: tuple[int, pa.Table]) -> int:
    return len(item[1])


def _pages(pager: Any, progress: bool | None) -> Iterator[pa.Table]:
    """A day's pages as tables, one per page."""
    columns = TrafficColumns()
    for _ in progress_pages(pager.read_pages(columns.add), progress, "messages", size=int):
        yield columns.table()
        columns.clear()


def _complete(done: Mapping[str, Any], begin: pd.Timestamp, finish: pd.Timestamp) -> bool:
    """A day exported before counts when it covered this range and had ended by then."""
    covered = pd.Timestamp(done["from"]) <= begin and pd.Timestamp(done["to"]) >= finish
    return bool(covered and pd.Timestamp(done["exported_at"]) >= pd.Timestamp(done["to"]))


def _write_day(folder: Path, day: date, tables: Iterator[pa.Table], rows_per_group: int) -> int:
    """Stream one day's tables into its partition (``.partial``, renamed when complete), in
    row groups of about ``rows_per_group``; return how many messages it holds."""
    partition = folder / f"day={day.isoformat()}"
    partition.mkdir(exist_ok=True)
    for leftover in partition.glob("*.partial"):
        leftover.unlink()
    partial = partition / f"{PART}.partial"
    held: list[pa.Table] = []
    count = 0
    # Times stored to the microsecond (the API's are whole seconds): Spark cannot read
    # Parquet's nanosecond timestamps (PARQUET_TYPE_ILLEGAL), nor can older readers.
    with pq.ParquetWriter(
        partial, STORED_SCHEMA, compression="zstd", coerce_timestamps="us"
    ) as writer:
        for table in tables:
            held.append(table)
            if sum(len(t) for t in held) >= rows_per_group:
                count += _flush(writer, held)
        count += _flush(writer, held)
    os.replace(partial, partition / PART)
    return count


def _flush(writer: pq.ParquetWriter, held: list[pa.Table]) -> int:
    """Write the tables held as one row group (an empty day: an empty file); clear them."""
    table = pa.concat_tables(held) if held else STORED_SCHEMA.empty_table()
    n = len(table)
    if n or writer.file_handle is not None:
        writer.write_table(table)
    held.clear()
    return n
