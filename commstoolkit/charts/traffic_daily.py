"""Traffic over time: daily volume and delivery rate per pool; failures by UTC weekday and hour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..frames.schema import NO_POOL
from ._base import (
    FAILURES,
    FAILURES_MESSAGES,
    POOL_DAILY,
    checked,
    documented,
    empty_figure,
    interval_bars,
    plural,
    shortened,
    which_kind,
)
from ._traffic import (
    ERROR_SCALE,
    NO_POOL_COLOR,
    POOL_PALETTE,
    RATE_RULE,
    WEEKDAYS,
    _check_top,
    _counted,
    _distinct,
    _interval_text,
    _naive,
    _span,
    _tally,
    _titled,
    _unrated,
    _window_text,
    _windowed,
)

__all__ = ["failure_heatmap", "pool_daily"]


# -- daily volume and delivery rate per pool ------------------------------------------------


@documented("traffic", [POOL_DAILY], "top", "title")
def pool_daily(
    traffic: pd.DataFrame, *, top: int | None = None, title: str | None = None
) -> go.Figure:
    """Per UTC day and pool: the delivery rate with its 95% Wilson interval (above, a line
    per pool with error bars) and the messages sent (below, stacked bars), every day of the
    window shown (a day without a rated message has no rate point).

    Only the frame's window is drawn (``attrs["window"]``): the previous window's messages
    a ``compare=True`` load carries are left out and counted in the subtitle. Traffic sent
    outside a pool is the "no pool" group; pools are ordered by volume, the busiest first,
    and ``top`` keeps the ``top`` busiest. Rate = DELIVERED or READ over rated (DELIVERED,
    READ, UNDELIVERED, FAILED); canceled messages and messages in flight count in the
    volume, not in the rate (the subtitle says how many).
    """
    frame = checked(traffic, POOL_DAILY, "traffic", "pool_daily")
    _check_top(top, "pool_daily")
    title = title or "Daily volume and delivery rate by pool"
    if frame.empty:
        return empty_figure(title)
    inside, window, left_out = _windowed(frame)
    if inside.empty:
        return empty_figure(title, "no message in the window")
    pool_id = inside["pool_id"].astype("string").fillna(NO_POOL)
    name = inside["pool_name"].astype("string").fillna(pool_id)
    day = pd.to_datetime(inside["created_at"], utc=True).dt.floor("D")
    stats = _tally(inside, {"pool_id": pool_id, "day": day})
    stats["day"] = pd.to_datetime(stats["day"], utc=True)
    names = pd.DataFrame({"pool_id": pool_id, "name": name}).groupby("pool_id")["name"].min()
    volume = stats.groupby("pool_id")["messages"].sum()
    order = sorted(volume.index, key=lambda p: (-volume[p], p == NO_POOL, str(names[p]), p))
    shown = order if top is None else order[:top]
    labels = _distinct(pd.Series([str(names[p]) for p in order]), pd.Series(order))
    label = dict(zip(order, labels, strict=True))
    start, end = _span(inside, window)
    days = pd.date_range(start.floor("D"), (end - pd.Timedelta(1, "ns")).floor("D"), freq="D")
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.06
    )
    x = _naive(days)
    for rank, pool in enumerate(shown):
        color = NO_POOL_COLOR if pool == NO_POOL else POOL_PALETTE[rank % len(POOL_PALETTE)]
        per_day = stats[stats["pool_id"] == pool].set_index("day").reindex(days)
        messages = per_day["messages"].fillna(0).astype("int64")
        rated = per_day["rated"].fillna(0).astype("int64")
        delivered = per_day["delivered"].fillna(0).astype("int64")
        rate, low, high = per_day["rate"], per_day["low"], per_day["high"]
        shown_label = shortened(label[pool])
        customdata = np.column_stack(
            [delivered, rated, low.to_numpy(float), high.to_numpy(float), messages]
        ).astype(object)
        customdata = np.column_stack([customdata, np.full(len(days), label[pool], dtype=object)])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=list(rate.astype(float)),
                mode="lines+markers",
                name=shown_label,
                legendgroup=pool,
                line={"color": color, "width": 2},
                marker={"color": color, "size": 7},
                connectgaps=False,
                error_y=interval_bars(rate, low, high, color=color),
                customdata=customdata,
                hovertemplate="%{customdata[5]} · %{x|%Y-%m-%d}<br>"
                "%{customdata[0]:,} of %{customdata[1]:,} rated delivered: %{y:.1%} "
                "(95% CI %{customdata[2]:.1%}–%{customdata[3]:.1%})<br>"
                "%{customdata[4]:,} messages<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=x,
                y=list(messages),
                name=shown_label,
                legendgroup=pool,
                showlegend=False,
                marker={"color": color},
                customdata=np.column_stack(
                    [rated, np.full(len(days), label[pool], dtype=object)]
                ).astype(object),
                hovertemplate="%{customdata[1]} · %{x|%Y-%m-%d}<br>%{y:,} messages "
                "(%{customdata[0]:,} rated)<extra></extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_layout(barmode="stack", height=560, hovermode="closest")
    fig.update_yaxes(title_text="Delivery rate", tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text="Messages", tickformat=",d", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="Day (UTC)", row=2, col=1)
    first = f"{plural(len(inside), 'message')}, {plural(len(order), 'pool')}"
    if len(shown) < len(order):
        first += f", the {len(shown)} busiest shown"
    not_rated = {
        f"{reason} (in the volume, not rated)": n for reason, n in _unrated(inside).items()
    }
    return _titled(
        fig,
        title,
        [first + _window_text(window), RATE_RULE],
        _counted({**left_out, **not_rated}),
        legend="Pool",
    )


# -- failures by hour and weekday -----------------------------------------------------------


@documented("traffic", [FAILURES, FAILURES_MESSAGES], "title")
def failure_heatmap(traffic: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """The error rate (UNDELIVERED or FAILED over rated: DELIVERED, READ, UNDELIVERED,
    FAILED) by UTC weekday and hour of creation, on the delivery rate's colours turned
    round (0% green, 30% amber, 100% red). A cell with no rated message is blank, not 0;
    the hover text gives each cell's counts and 95% Wilson interval.

    Only the frame's window is drawn (``attrs["window"]``): the previous window's messages
    a ``compare=True`` load carries are left out and counted in the subtitle, with the
    canceled and in-flight ones. A test send's messages frame works too.
    """
    which_kind(traffic, (FAILURES, FAILURES_MESSAGES), "traffic", "failure_heatmap")
    frame: pd.DataFrame = traffic
    title = title or "Failures by hour and weekday (UTC)"
    if frame.empty:
        return empty_figure(title)
    inside, window, left_out = _windowed(frame)
    if inside.empty:
        return empty_figure(title, "no message in the window")
    created = pd.to_datetime(inside["created_at"], utc=True)
    cells = _tally(
        inside,
        {"weekday": created.dt.day_of_week.to_numpy(), "hour": created.dt.hour.to_numpy()},
    ).set_index(["weekday", "hour"])
    every = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    cells = cells.reindex(every)
    rated = cells["rated"].fillna(0).astype("int64")
    blank = (rated == 0).to_numpy(bool)
    z = cells["error_rate"].to_numpy(float).reshape(7, 24)
    messages = cells["messages"].fillna(0).astype("int64")
    hover = [
        f"no rated message ({plural(int(m), 'message')})"
        if empty
        else _interval_text(int(e), int(n), lo, hi, "failed (UNDELIVERED or FAILED)")
        + f"<br>{plural(int(m), 'message')}"
        for empty, e, n, lo, hi, m in zip(
            blank,
            cells["errors"].fillna(0),
            rated,
            cells["error_low"],
            cells["error_high"],
            messages,
            strict=True,
        )
    ]
    fig = go.Figure(
        go.Heatmap(
            z=[[None if np.isnan(v) else float(v) for v in row] for row in z],
            x=list(range(24)),
            y=list(WEEKDAYS),
            zmin=0,
            zmax=1,
            colorscale=ERROR_SCALE,
            colorbar={"title": {"text": "Error rate"}, "tickformat": ".0%"},
            customdata=np.array(hover, dtype=object).reshape(7, 24),
            hoverongaps=False,
            xgap=1,
            ygap=1,
            hovertemplate="%{y} %{x:02d}:00–%{x:02d}:59 UTC<br>%{customdata}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")  # Monday on top
    fig.update_xaxes(
        tickmode="array",
        tickvals=list(range(0, 24, 3)),
        ticktext=[f"{h:02d}:00" for h in range(0, 24, 3)],
    )
    errors, total = int(cells["errors"].fillna(0).sum()), int(rated.sum())
    first = f"{plural(len(inside), 'message')}, {total:,} rated, {errors:,} failed"
    if total:
        first += f" ({errors / total:.1%})"
    rule = (
        "Error rate = UNDELIVERED or FAILED over rated (DELIVERED, READ, UNDELIVERED, FAILED); "
        f"blank: no rated message ({plural(int(blank.sum()), 'cell')})"
    )
    fig = _titled(
        fig,
        title,
        [first + _window_text(window), rule],
        _counted({**left_out, **_unrated(inside)}),
        x="Hour of creation (UTC)",
        y="Weekday (UTC)",
    )
    fig.update_layout(height=420 + 18 * 3)
    return fig
