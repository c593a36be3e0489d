"""Drift: flagged senders' daily delivery rate against their own baseline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import metrics
from ..errors import InvalidInputError
from ._base import (
    DRIFT,
    UNKNOWN,
    checked,
    documented,
    empty_figure,
    interval_bars,
    labelled,
    plural,
    rate_colors,
)
from ._traffic import (
    BASELINE,
    DAY,
    LINE,
    RATE_RULE,
    RECENT,
    _counted,
    _interval_text,
    _naive,
    _rgba,
    _span,
    _tally,
    _titled,
    _unrated,
    _window_text,
    _windowed,
)

__all__ = ["drift"]


# -- drift: flagged senders against their own baseline --------------------------------------


@documented("traffic", [DRIFT], "title")
def drift(
    traffic: pd.DataFrame,
    senders: Any,
    *,
    recent: str | pd.Timedelta = RECENT,
    title: str | None = None,
) -> go.Figure:
    """One panel per sender: its delivery rate per day (24 hours counted back from the
    window's end: UTC days when the window ends at midnight) with 95% Wilson error bars,
    against its own rate before the last ``recent`` of the window (dashed, with its
    interval as a band) and its rate over them (solid), as ``analysis.traffic_findings``
    compares them for a drift finding.

    ``senders``: a sender id, several, or findings (``traffic_findings(...).of("drift")``:
    each one's ``subject["sender_id"]``), drawn in that order. A sender with no rated
    message in the window is left out and named in the subtitle. ``recent``: a pandas
    duration shorter than the traffic drawn (default ``"3D"``). The frame's window is drawn
    (``attrs["window"]``, else its first to its last message), and the window before it
    when the frame holds it (``load_traffic(..., compare=True)``): the baseline then
    reaches back into it, as the drift finding's does.
    """
    frame = checked(traffic, DRIFT, "traffic", "drift")
    wanted = _sender_ids(senders)
    span = _recent(recent)
    title = title or "Delivery rate drift by sender"
    if frame.empty:
        return empty_figure(title)
    inside, window, left_out = _windowed(frame)
    if inside.empty:
        return empty_figure(title, "no message in the window")
    start, end = _span(inside, window)
    # The baseline reaches into the previous window when the frame holds it (a
    # compare=True load), as traffic_findings' drift does.
    created_all = pd.to_datetime(frame["created_at"], utc=True)
    earlier = ((created_all >= start - (end - start)) & (created_all < start)).to_numpy(bool)
    if window is not None and earlier.any():
        start = start - (end - start)
        loaded = ((created_all >= start) & (created_all < end)).to_numpy(bool)
        inside = frame[loaded]
        left_out.pop("outside the window", None)
        outside = int((created_all.notna().to_numpy(bool) & ~loaded).sum())
        if outside:
            left_out["outside the window and the one before"] = outside
    since = end - span
    if not start < since < end:
        raise InvalidInputError(
            f"charts.drift: recent={recent!r} must be shorter than the traffic drawn "
            f"({end - start}), to leave a baseline before it",
            field="recent",
        )
    sender = inside["sender_id"].astype("string")
    drawn = [
        s for s in wanted if metrics.delivery_rate(inside[(sender == s).fillna(False)]).denominator
    ]
    missing = [s for s in wanted if s not in drawn]
    if not drawn:
        return empty_figure(title, f"no rated message from {', '.join(missing)} in the window")
    created = pd.to_datetime(inside["created_at"], utc=True)
    # Bins of 24 hours counted back from the end: the last ``recent`` days are whole bins.
    back = np.ceil(((end - created) / DAY).to_numpy(float)).astype("int64")
    bin_start = end - pd.to_timedelta(back, unit="D")
    part = np.where((created >= since).to_numpy(bool), "recent", "before")
    keyed = inside.assign(sender_id=sender)
    titles = []
    panels = []
    for sender_id in drawn:
        mine = (sender == sender_id).fillna(False).to_numpy(bool)
        rows = keyed[mine]
        daily = _tally(rows, {"bin": bin_start[mine].to_numpy()})
        daily["bin"] = pd.to_datetime(daily["bin"], utc=True)
        daily = daily.sort_values("bin").reset_index(drop=True)
        parts = _tally(rows, {"part": part[mine]}).set_index("part")
        before = parts.loc["before"] if "before" in parts.index else None
        latest = parts.loc["recent"] if "recent" in parts.index else None
        first = rows.iloc[0]
        label = labelled(pd.Series([first["sender_address"]]), sender_id).iloc[0]
        channel = labelled(pd.Series([first["channel"]]), UNKNOWN).iloc[0]
        titles.append(
            f"{label} ({channel}, {sender_id}): {_part_text(before)} before → "
            f"{_part_text(latest)} in the last {_duration(span)}"
        )
        panels.append((daily, before, latest, label))
    fig = make_subplots(
        rows=len(drawn),
        cols=1,
        shared_xaxes=True,
        subplot_titles=titles,
        vertical_spacing=min(0.1, 0.45 / len(drawn)),
    )
    for row, (daily, before, latest, label) in enumerate(panels, start=1):
        first_row = row == 1
        # The baseline across the whole window (dashed), the recent rate over its days.
        for rate, x0, name, dash, color in (
            (before, start, "Before the last days", "dash", BASELINE),
            (latest, since, "The last days", "solid", None),
        ):
            if rate is None or not rate["rated"]:
                continue
            color = color or rate_colors([float(rate["rate"])])[0]
            x_from, x_to = _naive(pd.DatetimeIndex([x0, end]))
            fig.add_trace(
                go.Scatter(
                    x=[x_from, x_to, x_to, x_from],
                    y=[rate["low"], rate["low"], rate["high"], rate["high"]],
                    fill="toself",
                    fillcolor=_rgba(color, 0.15),
                    line={"width": 0},
                    mode="lines",
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=name,
                ),
                row=row,
                col=1,
            )
            text = _interval_text(
                int(rate["delivered"]), int(rate["rated"]), rate["low"], rate["high"]
            )
            fig.add_trace(
                go.Scatter(
                    x=[x_from, x_to],
                    y=[float(rate["rate"])] * 2,
                    mode="lines",
                    line={"color": color, "dash": dash, "width": 2},
                    name=f"{name} (95% CI band)",
                    legendgroup=name,
                    showlegend=first_row,
                    hovertemplate=f"{label}: {name.lower()}<br>{text}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        low_end = daily["bin"].clip(lower=start)
        middle = low_end + (daily["bin"] + DAY - low_end) / 2
        fig.add_trace(
            go.Scatter(
                x=_naive(pd.DatetimeIndex(middle)),
                y=[float(r) for r in daily["rate"]],
                mode="markers+lines",
                name="Per day (95% CI)",
                legendgroup="daily",
                showlegend=first_row,
                line={"color": LINE, "width": 1},
                marker={"color": LINE, "size": 7},
                connectgaps=False,
                error_y=interval_bars(daily["rate"], daily["low"], daily["high"], color=LINE),
                customdata=np.column_stack(
                    [
                        _naive(pd.DatetimeIndex(low_end)),
                        _naive(pd.DatetimeIndex(daily["bin"] + DAY)),
                        [_day_text(r) for _, r in daily.iterrows()],
                    ]
                ).astype(object),
                hovertemplate=f"{label}<br>%{{customdata[0]|%Y-%m-%d %H:%M}} – "
                "%{customdata[1]|%Y-%m-%d %H:%M} UTC<br>%{customdata[2]}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.add_vline(
            x=_naive(pd.DatetimeIndex([since]))[0],
            line={"color": "#999999", "width": 1, "dash": "dot"},
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="Delivery rate", tickformat=".0%", row=row, col=1)
    fig.update_xaxes(title_text="Time (UTC)", row=len(drawn), col=1)
    fig.update_layout(height=180 + 230 * len(drawn))
    first = (
        f"{plural(len(drawn), 'sender')}: per day, and before / in the last {_duration(span)} "
        f"(since {since:%Y-%m-%d %H:%M} UTC){_window_text(window)}"
    )
    drawn_rows = sender.isin(drawn).fillna(False).to_numpy(bool)
    dropped = _counted({**left_out, **_unrated(inside[drawn_rows])})
    if missing:
        dropped.append(f"{', '.join(missing)} (no rated message in the window)")
    return _titled(fig, title, [first, RATE_RULE], dropped, above=24)


def _sender_ids(senders: Any) -> list[str]:
    """The sender ids ``senders`` names (an id, ids, or findings), in order, once each."""
    items = [senders] if isinstance(senders, str) else senders
    try:
        items = list(items)
    except TypeError:
        items = None
    ids: list[str] = []
    for item in items or []:
        subject = getattr(item, "subject", None)
        value = subject.get("sender_id") if isinstance(subject, Mapping) else item
        if not isinstance(value, str) or not value:
            items = None
            break
        ids.append(value)
    if not items:
        raise InvalidInputError(
            "charts.drift: senders must name at least one sender: a sender id, several, or "
            "findings with a subject['sender_id'] (traffic_findings(...).of('drift')); "
            f"got {senders!r}",
            field="senders",
            allowed="sender ids or findings",
        )
    return list(dict.fromkeys(ids))


def _recent(recent: Any) -> pd.Timedelta:
    try:
        span = pd.Timedelta(recent)
    except (TypeError, ValueError):
        span = None
    if span is None or pd.isna(span) or span <= pd.Timedelta(0) or isinstance(recent, (int, float)):
        raise InvalidInputError(
            f"charts.drift: recent must be a positive duration with its unit ('3D', '36h'); "
            f"got {recent!r}",
            field="recent",
            allowed="a pandas duration such as '3D'",
        )
    return span


def _duration(span: pd.Timedelta) -> str:
    """``"3 days"``, ``"day"`` (as in "the last day"), ``"36 hours"``, ``"1.5 hours"``."""
    if span == DAY:
        return "day"
    if span % DAY == pd.Timedelta(0):
        return plural(span // DAY, "day")
    hours = span / pd.Timedelta(hours=1)
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


def _part_text(rate: pd.Series | None) -> str:
    if rate is None or not rate["rated"]:
        return "n/a"
    return f"{float(rate['rate']):.1%} ({int(rate['delivered']):,}/{int(rate['rated']):,})"


def _day_text(row: pd.Series) -> str:
    if not row["rated"]:
        return f"{plural(int(row['messages']), 'message')}, none rated"
    text = _interval_text(int(row["delivered"]), int(row["rated"]), row["low"], row["high"])
    return f"{text}<br>{plural(int(row['messages']), 'message')}"
