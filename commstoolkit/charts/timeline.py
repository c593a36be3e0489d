"""The timeline chart: statuses over time, from a messages or an attempts frame."""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ..errors import InvalidInputError
from ._base import (
    COLORS,
    TEMPLATE,
    TIMELINE_ATTEMPTS,
    TIMELINE_MESSAGES,
    UNKNOWN,
    count_axis,
    counted,
    documented,
    empty_figure,
    finish,
    labelled,
    plural,
    status_levels,
    which_kind,
)

__all__ = ["send_timeline"]

# Candidate timeline bins, smallest first; the first giving at most _MAX_BINS bins is used.
TIMELINE_BINS = (
    "1s", "2s", "5s", "10s", "15s", "30s", "1min", "2min", "5min", "10min", "15min",
    "30min", "1h", "2h", "3h", "6h", "12h", "1D", "7D", "28D",
)  # fmt: skip
_MAX_BINS = 60
_MIN_BINS = 10  # the x axis spans at least this many bins
_SHORTEST_BIN = pd.Timedelta(seconds=1)
_BARE_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


@documented("messages_or_attempts", [TIMELINE_MESSAGES, TIMELINE_ATTEMPTS], "title")
def send_timeline(
    messages_or_attempts: pd.DataFrame,
    *,
    freq: str | timedelta | None = None,
    title: str | None = None,
) -> go.Figure:
    """Statuses over time: stacked counts per time bin, coloured by status.

    A messages frame shows each message at its latest status, when it last changed
    (``updated_at``); an attempts frame each attempt when it was made (``attempted_at``).
    ``freq``: the bin width, a pandas duration string with its unit ("5s", "30s", "1min",
    "2h", "1D") or a ``timedelta``, of at least one second (the API's timestamps are whole
    seconds); None picks one giving at most 60 bins. A bare number (5 or "5") is refused,
    not read as nanoseconds or guessed as seconds. A send spanning fewer than 10 bins (one
    message, say) is drawn on an axis 10 bins wide, so a bar is never the whole width.
    Times in UTC.
    """
    kind = which_kind(
        messages_or_attempts,
        (TIMELINE_MESSAGES, TIMELINE_ATTEMPTS),
        "messages_or_attempts",
        "send_timeline",
    )
    frame = messages_or_attempts
    attempts = kind is TIMELINE_ATTEMPTS
    time = "attempted_at" if attempts else "updated_at"
    title = title or ("Attempts over time" if attempts else "Message statuses over time")
    step = _bin_width(freq)
    if frame.empty:
        return empty_figure(title)
    times = pd.to_datetime(frame[time], utc=True)
    dated = times.notna()
    if not dated.any():
        return empty_figure(title, f"no {time}")
    times = times[dated]
    step = step or _auto_bin(times.max() - times.min())
    data = pd.DataFrame(
        {"time": times.dt.floor(step), "status": labelled(frame.loc[dated, "status"], UNKNOWN)}
    )
    statuses = status_levels(frame["status"])
    unit = "attempt" if attempts else "message"
    long = counted(data.groupby(["time", "status"]).size().rename("count").reset_index(), unit)
    fig = px.bar(
        long,
        template=TEMPLATE,
        x="time",
        y="count",
        color="status",
        category_orders={"status": statuses},
        color_discrete_map=COLORS,
        custom_data=["words"],
    )
    width_ms = step.total_seconds() * 1000
    fig.update_traces(
        width=0.9 * width_ms,
        offset=0,
        hovertemplate="%{x|%Y-%m-%d %H:%M:%S} UTC · %{fullData.name}<br>%{customdata[0]}"
        "<extra></extra>",
    )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=_time_range(long["time"].min(), long["time"].max(), step))
    count_axis(fig, "y", long.groupby("time")["count"].sum().max())
    subtitle = f"{plural(int(dated.sum()), unit)} by {time}, bins of {_duration(step)}"
    return finish(
        fig, title, subtitle=subtitle, x="Time (UTC)", y=unit.title() + "s", legend="Status"
    )


def _bin_width(freq: object) -> pd.Timedelta | None:
    """``freq`` as a bin width: a duration with its unit, at least a second; else an error."""
    if freq is None:
        return None
    step = None
    if isinstance(freq, (timedelta, np.timedelta64)) and not isinstance(freq, bool):
        step = pd.Timedelta(freq)
    elif isinstance(freq, str) and not _BARE_NUMBER.fullmatch(freq):
        try:
            step = pd.Timedelta(freq)
        except (TypeError, ValueError):
            step = None
    if step is None or pd.isna(step) or step < _SHORTEST_BIN:
        bare = isinstance(freq, str) and _BARE_NUMBER.fullmatch(freq) is not None
        if isinstance(freq, (int, float, np.number)) and not isinstance(freq, bool):
            bare = bool(freq == freq)  # not NaN
        if bare and float(str(freq)) > 0:
            why = f"; a bare number has no unit: write '{str(freq).strip()}s' for seconds"
        elif step is not None and not pd.isna(step):
            why = " (not positive)" if step <= pd.Timedelta(0) else " (shorter than one second)"
        else:
            why = ""
        raise InvalidInputError(
            "charts.send_timeline: freq must be a duration of at least one second with its "
            f"unit, such as '5s', '1min' or '1h', or a timedelta; got {freq!r}{why}",
            field="freq",
            allowed=TIMELINE_BINS,
        )
    return step


def _time_range(first: pd.Timestamp, last: pd.Timestamp, step: pd.Timedelta) -> list[str]:
    """The x range: the bins drawn, widened to ``_MIN_BINS`` bins around them if fewer."""
    start, end = first, last + step
    missing = _MIN_BINS * step - (end - start)
    if missing > pd.Timedelta(0):
        start, end = start - missing / 2, end + missing / 2
    return [_iso(start), _iso(end)]


def _iso(time: pd.Timestamp) -> str:
    return str(time.tz_convert("UTC").tz_localize(None).isoformat())


def _auto_bin(span: pd.Timedelta) -> pd.Timedelta:
    for candidate in TIMELINE_BINS:
        step = pd.Timedelta(candidate)
        if span / step < _MAX_BINS:
            return step
    return pd.Timedelta(TIMELINE_BINS[-1])


def _duration(step: pd.Timedelta) -> str:
    seconds = step.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"
