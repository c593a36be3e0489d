"""Traffic at any volume, read: an exported dataset (``export.py``) back as a traffic frame.

``read_traffic(path, ...)`` gives the same columns, values and dtypes as ``load_traffic``,
with the window and filters pushed down to the Parquet files (days outside the window are
not opened). ``open_traffic(path)`` gives a ``TrafficDataset``, which ``traffic_health``
counts in DuckDB without loading the messages (``sql.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from ..errors import InvalidInputError
from .columns import STORED_SCHEMA, traffic_frame
from .manifest import MANIFEST, PART, read_manifest, stored_filters
from .traffic import resolve_pools
from .window import parse_window

__all__ = ["PARTITIONING", "TrafficDataset", "open_traffic", "read_traffic", "window_of"]

PARTITIONING = ds.partitioning(pa.schema([("day", pa.date32())]), flavor="hive")
# The files' columns as read: times at the frame's nanoseconds whether a file stores them to
# the microsecond (exports since Spark reads them) or to the nanosecond (older exports).
_READ_SCHEMA = STORED_SCHEMA.append(pa.field("day", pa.date32()))


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
    manifest = read_manifest(folder, stored_filters(manifest_path))
    return TrafficDataset(folder, dict(manifest.get("pools", {})), dict(manifest["days"]))


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
    window = window_of(dataset, start, end)
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
            files,
            schema=_READ_SCHEMA,
            format="parquet",
            partitioning=PARTITIONING,
            partition_base_dir=str(dataset.path),
        )
        table = source.to_table(columns=list(STORED_SCHEMA.names), filter=expression)
    else:
        table = STORED_SCHEMA.empty_table()
    frame = traffic_frame(table, dataset.pools)
    frame = frame.sort_values(["created_at", "message_id"], kind="stable").reset_index(drop=True)
    frame.attrs = {"window": window, "path": str(dataset.path)}
    return frame


def window_of(dataset: TrafficDataset, start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    if start is None and end is None:
        return dataset.window
    return parse_window(dataset.window[0] if start is None else start, end or dataset.window[1])
