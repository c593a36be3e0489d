"""Health of an account's real traffic: one row per sender, pool, channel, country, day or
hour, each number defined once in ``commstoolkit.metrics`` (design.md §4a).

``traffic_health(traffic, by="sender")`` reads a traffic frame — the messages frame's
columns plus ``pool_id``, ``pool_name`` and ``to_country`` — over its window (the frame's
``attrs["window"]``, or the span of its ``created_at``), and compares each group with the
window of the same length just before it when the frame holds that too
(``load_traffic(..., compare=True)`` loads both). Given an exported dataset
(``open_traffic(path)``) it counts in DuckDB over the Parquet files instead.

Every rate carries its numerator, its denominator and its 95% Wilson interval; a change
against the previous window carries a two-sided Fisher exact p-value, corrected for the
number of groups compared (Benjamini-Hochberg), and is flagged only below ``alpha``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..errors import InvalidInputError
from ..events import load_events
from .counts import frame_counts, split_window
from .dataset import TrafficDataset
from .event_counts import check_events, event_columns, join_health
from .event_sql import (
    EVENT_ROW_COLUMNS,
    EventSource,
    counted_events,
    dataset_event_columns,
    event_files,
)
from .sql import counted_health, dataset_health
from .table import ALPHA, BY, COUNTS, assemble, check_by, check_rows, pool_names
from .window import bound_window

__all__ = ["health_from_counts", "traffic_health"]


def traffic_health(
    traffic: pd.DataFrame | TrafficDataset,
    by: str = "sender",
    members: pd.DataFrame | None = None,
    *,
    start: Any = None,
    end: Any = None,
    alpha: float = ALPHA,
    events: EventSource | None = None,
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

    ``traffic`` may be an exported dataset (``open_traffic``): the counting then runs in
    DuckDB over its files, over ``[start, end)`` (default: all it holds) and the window of
    the same length before it.

    ``events`` (the window's events: the events frame of ``ct.load_events`` /
    ``EventReceiver.frame()``, or the files and folders a sink's data ends in, JSON lines or
    arrays of CloudEvents) adds what only events give, at full volume
    (``HEALTH_EVENT_COLUMNS``, each number ``metrics``'): ``ev_messages`` (the group's
    messages with events); ``ev_ttd_n`` / ``ev_ttd_p50_s`` / ``ev_ttd_p90_s``, the exact time
    to delivered (READ messages kept by their DELIVERED event) and ``ev_ttr_*`` the time to
    read; ``ev_attempts`` and ``ev_failed_attempts`` (UNDELIVERED or FAILED), and the most
    frequent error code of the failed attempts, ``ev_top_error_code``, its
    ``ev_top_error_count`` and ``ev_top_error_share`` of ``ev_failed_attempts`` with its 95%
    interval (``ev_top_error_low`` / ``ev_top_error_high``); ``ct.analysis.error_codes``
    gives every code. An attempt counts where it was made (by sender, the attempt's sender,
    so a sender whose attempts all fell back shows too; by channel, its channel). With an
    exported dataset the events are counted in DuckDB beside the Parquet files (``read_json``
    over the event files: neither messages nor events are loaded in pandas).

    ``attrs``: ``window`` (start, end), ``previous`` (its start, end) and ``by``; with
    events, ``unattributed_attempts`` (attempts whose sender neither the traffic nor the
    members know).
    """
    check_by(by)
    # Named before any counting: an events frame, or files that exist.
    if isinstance(events, pd.DataFrame):
        check_events(events)
    elif events is not None:
        events = event_files(events)
    if isinstance(traffic, TrafficDataset):
        health = dataset_health(traffic, by, members, start=start, end=end, alpha=alpha)
        if events is None:
            return health
        table, placed = dataset_event_columns(traffic, events, by, health.attrs["window"], members)
        joined = join_health(health, table, by)
        joined.attrs.update(placed)
        return joined
    if events is not None and not isinstance(events, pd.DataFrame):
        events = load_events(events)
    if start is not None or end is not None:
        raise InvalidInputError(
            "start / end choose a window of an exported dataset; a frame's window is its own "
            "(attrs['window']: load the window wanted)",
            field="start" if start is not None else "end",
        )
    current, previous, window = split_window(traffic)
    key, labels = BY[by]
    now = frame_counts(current, key, labels)
    before = frame_counts(previous, key, ())
    health = assemble(now, before, by, window, members=members, alpha=alpha)
    if events is None:
        return health
    table, placed = event_columns(current, events, by, members, lookup_from=traffic)
    joined = join_health(health, table, by)
    joined.attrs.update(placed)
    return joined


def health_from_counts(
    counts: pd.DataFrame,
    by: str,
    window: tuple[Any, Any],
    pools: pd.DataFrame | Mapping[str, str | None] | None = None,
    members: pd.DataFrame | None = None,
    *,
    event_counts: pd.DataFrame | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """``traffic_health``'s table from the rows another engine counted (Spark SQL, Trino,
    DuckDB run by hand): the rates, their intervals and the change tests are computed here,
    as ``traffic_health`` computes them, so a cluster's counts get the same numbers.

    ``counts``: the rows of ``health_sql(by, dialect)`` (a DataFrame: Spark's
    ``.toPandas()``, Trino's cursor rows), run with the window's start, its end and the
    previous window's start (``start - (end - start)``) bound to its parameters;
    ``window``: that ``(start, end)``. ``event_counts``: the rows of
    ``health_events_sql(by, dialect)`` over the same window, for the ``ev_*`` columns.
    ``pools``: the pools' names (``load_pools``' frame, or pool id -> name; default: a pool
    named by its id); ``members`` and ``alpha`` as for ``traffic_health``.
    ``InvalidInputError`` names a missing column or a window that does not read.
    """
    check_by(by)
    start, end = bound_window(window)
    names = pool_names(pools)
    labels = BY[by][1] if by == "sender" else ()  # a pool's name is not in the files
    check_rows(
        counts, ("group_key", "is_current", *labels, *COUNTS), "counts", f"health_sql({by!r})"
    )
    health = counted_health(counts, by, (start, end), names, members=members, alpha=alpha)
    if event_counts is None:
        return health
    check_rows(event_counts, EVENT_ROW_COLUMNS, "event_counts", f"health_events_sql({by!r})")
    table, placed = counted_events(event_counts, by)
    joined = join_health(health, table, by)
    joined.attrs.update(placed)
    return joined
