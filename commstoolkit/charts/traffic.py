"""Traffic charts: an account's real traffic (a traffic frame, ``analysis.load_traffic``)
or its health table (``analysis.traffic_health``) in, a plotly Figure out.

Every rate is ``commstoolkit.metrics``' (delivery rate: DELIVERED or READ over rated —
DELIVERED, READ, UNDELIVERED, FAILED; error rate: UNDELIVERED or FAILED over rated) with
its 95% Wilson interval; CANCELED messages and messages in flight are not rated, and each
chart's subtitle says how many it left out. A traffic frame loaded with ``compare=True``
also holds the previous window: the charts of a traffic frame draw its window only
(``attrs["window"]``) and say how many messages they left out. Times are UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, qualitative, unlabel_rgb
from plotly.subplots import make_subplots

from .. import metrics
from ..errors import InvalidInputError
from ..frames.schema import NO_COUNTRY, NO_POOL, NO_SENDER
from ._base import (
    COLORS,
    COUNTRY_HEALTH,
    COUNTRY_TRAFFIC,
    DRIFT,
    FAILURES,
    FAILURES_MESSAGES,
    LEAGUE,
    POOL_DAILY,
    RATE_SCALE,
    UNKNOWN,
    checked,
    documented,
    empty_figure,
    finish,
    labelled,
    plural,
    rate_colors,
    shortened,
    which_kind,
)

__all__ = ["country_delivery", "drift", "failure_heatmap", "pool_daily", "sender_league"]

RATED = "rated: DELIVERED, READ, UNDELIVERED or FAILED"
# Pools are the account's own, not fixed kinds: a colour-blind-safe palette by volume,
# the busiest pool first; traffic outside a pool in the "no sender" grey.
POOL_PALETTE = tuple(qualitative.Safe)
NO_POOL_COLOR = COLORS[NO_SENDER]
# Error rate 0..1: the delivery rate's scale turned round (an error rate is 1 minus it).
ERROR_SCALE = [[round(1 - stop, 6), color] for stop, color in reversed(RATE_SCALE)]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY = pd.Timedelta(days=1)
RECENT = "3D"  # as analysis.traffic_findings' drift
LINE = "#4a5a70"  # the daily points of the drift chart
BASELINE = "#7f7f7f"

Window = tuple[pd.Timestamp, pd.Timestamp]


# -- shared: the window, counting, labels ---------------------------------------------------


def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _windowed(frame: pd.DataFrame) -> tuple[pd.DataFrame, Window | None, dict[str, int]]:
    """(the frame's messages inside its window, the window or None, what was left out):
    the window is ``attrs["window"]`` when the loader set it; messages without a creation
    time are left out too (none in a loaded frame)."""
    created = pd.to_datetime(frame["created_at"], utc=True)
    keep = created.notna().to_numpy(bool).copy()
    left_out = {"without created_at": int((~keep).sum())}
    window = frame.attrs.get("window")
    if window is not None:
        start, end = _utc(window[0]), _utc(window[1])
        inside = ((created >= start) & (created < end)).to_numpy(bool)
        left_out["outside the window"] = int((keep & ~inside).sum())
        keep &= inside
        span: Window | None = (start, end)
    else:
        span = None
    return frame[keep], span, {reason: n for reason, n in left_out.items() if n}


def _span(frame: pd.DataFrame, window: Window | None) -> Window:
    """The window, or the frame's first message to just after its last."""
    if window is not None:
        return window
    created = pd.to_datetime(frame["created_at"], utc=True)
    return created.min(), created.max() + pd.Timedelta(1, "ns")


def _tally(frame: pd.DataFrame, keys: Mapping[str, pd.Series | np.ndarray]) -> pd.DataFrame:
    """One row per combination of ``keys`` found in ``frame`` (key columns first): its
    ``messages``, and ``metrics.delivery_rate`` / ``error_rate`` as ``rated``,
    ``delivered``, ``rate``, ``low``, ``high``, ``errors``, ``error_rate``,
    ``error_low``, ``error_high`` (NaN rates over no rated message)."""
    names = list(keys)
    columns = [*names, "messages", "rated", "delivered", "rate", "low", "high"]
    columns += ["errors", "error_rate", "error_low", "error_high"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    status = frame[["status"]]
    # Series aligned with the frame (a tz-aware day stays a datetime: no Timestamp objects).
    grouper = [
        keys[name]
        if isinstance(keys[name], pd.Series)
        else pd.Series(keys[name], index=frame.index)
        for name in names
    ]
    rows = []
    for key, group in status.groupby(grouper, sort=False, observed=True):
        delivery, errors = metrics.delivery_rate(group), metrics.error_rate(group)
        low, high = delivery.interval()
        error_low, error_high = errors.interval()
        values = key if isinstance(key, tuple) else (key,)
        rows.append(
            [
                *values,
                len(group),
                delivery.denominator,
                delivery.numerator,
                delivery.value,
                low,
                high,
                errors.numerator,
                errors.value,
                error_low,
                error_high,
            ]
        )
    return pd.DataFrame(rows, columns=columns)


def _left_out(phrases: Iterable[str]) -> str:
    """``"Left out: 3 messages outside the window, 2 canceled (not rated)"``, or ""."""
    shown = [phrase for phrase in phrases if phrase]
    return f"Left out: {', '.join(shown)}" if shown else ""


def _counted(parts: Mapping[str, int], what: str = "message") -> list[str]:
    """``["3 messages outside the window", ...]``, leaving out the reasons counting none."""
    return [f"{plural(n, what)} {reason}" for reason, n in parts.items() if n]


def _titled(
    fig: go.Figure,
    title: str,
    lines: Iterable[str],
    left_out: Iterable[str],
    *,
    above: int = 0,
    **axes: Any,
) -> go.Figure:
    """``finish`` with a subtitle of ``lines`` then what was left out, one line each; the
    top margin makes room for them (and ``above`` pixels more: panel titles)."""
    shown = [line for line in (*lines, _left_out(left_out)) if line]
    fig = finish(fig, title, subtitle="<br>".join(shown), **axes)
    fig.update_layout(margin={"t": 72 + 18 * len(shown) + above})
    return fig


def _unrated(frame: pd.DataFrame) -> dict[str, int]:
    """The messages the delivery rate leaves out, by reason: "canceled", "in flight"."""
    excluded = metrics.delivery_rate(frame).excluded
    return {reason.replace("_", " "): n for reason, n in excluded.items()}


RATE_RULE = (
    "Delivery rate = DELIVERED or READ over rated (DELIVERED, READ, UNDELIVERED, FAILED), "
    "with 95% Wilson intervals"
)


def _window_text(window: Window | None) -> str:
    """``"; window 2026-11-08 – 2026-11-15 UTC"`` (``[start, end)``; times unless midnight)."""
    if window is None:
        return ""
    start, end = window
    midnight = start == start.floor("D") and end == end.floor("D")
    shape = "%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M"
    return f"; window {start:{shape}} – {end:{shape}} UTC"


def _distinct(labels: pd.Series, ids: pd.Series) -> pd.Series:
    """``labels``, with the id added to a label two ids share ("East (pool_…)")."""
    pairs = pd.DataFrame({"label": labels.to_numpy(), "id": ids.to_numpy()})
    clash = pairs.drop_duplicates().duplicated("label", keep=False)
    shared = pairs["label"].isin(pairs.loc[clash.index[clash], "label"])
    named = pairs["label"].where(~shared, pairs["label"] + " (" + pairs["id"] + ")")
    return pd.Series(named.to_numpy(), index=labels.index)


def _rgba(color: str, alpha: float) -> str:
    red, green, blue = hex_to_rgb(color) if color.startswith("#") else unlabel_rgb(color)
    return f"rgba({int(red)}, {int(green)}, {int(blue)}, {alpha})"


def _check_top(top: Any, chart: str) -> None:
    if top is not None and (not isinstance(top, int) or isinstance(top, bool) or top < 1):
        raise InvalidInputError(
            f"charts.{chart}: top must be a positive integer or None; got {top!r}",
            field="top",
            allowed="int >= 1",
        )


def _interval_text(k: int, n: int, low: float, high: float, verb: str = "delivered") -> str:
    return f"{k:,} of {n:,} rated {verb}: {k / n:.1%} (95% CI {low:.1%}–{high:.1%})"


def _naive(stamps: pd.Series | pd.DatetimeIndex) -> list[pd.Timestamp]:
    """UTC timestamps without their zone, for a date axis titled UTC."""
    index = pd.DatetimeIndex(stamps)
    return list(index.tz_convert("UTC").tz_localize(None))


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
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": list((high - rate).astype(float)),
                    "arrayminus": list((rate - low).astype(float)),
                    "color": color,
                    "thickness": 1,
                    "width": 3,
                },
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


# -- the sender league table ----------------------------------------------------------------


@documented("health", [LEAGUE], "top", "title")
def sender_league(
    health: pd.DataFrame, *, top: int | None = None, title: str | None = None
) -> go.Figure:
    """Each sender's delivery rate with its 95% Wilson interval, worst first, from a health
    table by sender: a dot coloured by rate with the interval as an error bar, the
    previous window's rate as a grey tick when known, a ring around the senders whose
    change is significant (``change_significant``: two-sided Fisher exact,
    Benjamini-Hochberg-corrected), and each sender's rated and total messages on the right.

    Ties rank the sender with more rated messages first. Left out, and counted in the
    subtitle: the "no sender" row (messages no sender took) and senders with no rated
    message in the window (idle members, or only canceled / in flight). ``top`` keeps the
    ``top`` worst senders.
    """
    table = checked(health, LEAGUE, "health", "sender_league")
    _check_top(top, "sender_league")
    title = title or "Sender league: delivery rate, worst first"
    if table.empty:
        return empty_figure(title)
    sender_id = table["sender_id"].astype("string")
    no_sender = (sender_id == NO_SENDER).fillna(False).to_numpy(bool)
    rated = table["rated"].fillna(0).astype("int64")
    idle = ~no_sender & (rated == 0).to_numpy(bool)
    senders = table[~no_sender & ~idle].copy()
    if senders.empty:
        return empty_figure(title, "no sender with a rated message")
    senders["sender_id"] = senders["sender_id"].astype(str)
    address = labelled(senders["sender_address"], "")
    senders["label"] = _distinct(
        address.where(address != "", senders["sender_id"]), senders["sender_id"]
    )
    senders = senders.sort_values(
        ["delivery_rate", "rated", "label", "sender_id"],
        ascending=[True, False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    shown = senders if top is None else senders.head(top)
    labels = [shortened(str(label)) for label in shown["label"]]
    rates = [float(r) for r in shown["delivery_rate"]]
    customdata = np.column_stack(
        [
            shown["sender_id"].to_numpy(object),
            labelled(shown["channel"], UNKNOWN).to_numpy(object),
            [_interval_text(int(k), int(n), lo, hi) for k, n, lo, hi in _rate_rows(shown)],
            [f"{int(m):,} messages" for m in shown["messages"]],
            [_change_text(row) for _, row in shown.iterrows()],
            shown["label"].to_numpy(object),
        ]
    )
    hover = (
        "%{customdata[5]}<br>%{customdata[0]} (%{customdata[1]})<br>%{customdata[2]}<br>"
        "%{customdata[3]}<br>%{customdata[4]}<extra></extra>"
    )
    previous = shown[shown["prev_rated"].fillna(0) > 0]
    significant = shown[shown["change_significant"].fillna(False).astype(bool)]
    label_of = dict(zip(shown.index, labels, strict=True))
    fig = go.Figure(
        [
            go.Scatter(
                x=rates,
                y=labels,
                mode="markers",
                name="Delivery rate (95% CI)",
                marker={
                    "color": rate_colors(rates),
                    "size": 11,
                    "line": {"color": "white", "width": 1},
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": list(shown["delivery_high"] - shown["delivery_rate"]),
                    "arrayminus": list(shown["delivery_rate"] - shown["delivery_low"]),
                    "color": "#555555",
                    "thickness": 1.5,
                    "width": 4,
                },
                customdata=customdata,
                hovertemplate=hover,
            ),
            go.Scatter(
                x=[float(r) for r in previous["prev_delivery_rate"]],
                y=[label_of[i] for i in previous.index],
                mode="markers",
                name="Previous window",
                marker={
                    "symbol": "line-ns-open",
                    "size": 16,
                    "color": "#333333",
                    "line": {"width": 2},
                },
                customdata=customdata[[shown.index.get_loc(i) for i in previous.index]],
                hovertemplate=hover,
            ),
            go.Scatter(
                x=[float(r) for r in significant["delivery_rate"]],
                y=[label_of[i] for i in significant.index],
                mode="markers",
                name="Significant change",
                marker={
                    "symbol": "circle-open",
                    "size": 21,
                    "color": "#222222",
                    "line": {"width": 2},
                },
                customdata=customdata[[shown.index.get_loc(i) for i in significant.index]],
                hovertemplate=hover,
            ),
            go.Scatter(
                x=[1.03] * len(shown),
                y=labels,
                mode="text",
                text=[
                    f"{int(n):,} of {int(m):,}"
                    for n, m in zip(shown["rated"], shown["messages"], strict=True)
                ],
                textposition="middle right",
                cliponaxis=False,
                name="Rated of messages",
                showlegend=False,
                customdata=customdata,
                hovertemplate=hover,
            ),
        ]
    )
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1])  # worst on top
    fig.update_xaxes(range=[-0.02, 1.22], tickformat=".0%", tickvals=[0, 0.25, 0.5, 0.75, 1])
    fig.update_layout(height=max(380, 160 + 26 * len(shown)))
    total = int(senders["rated"].sum())
    first = f"{plural(len(senders), 'sender')}, {plural(total, 'rated message')}"
    if len(shown) < len(senders):
        first += f", the {len(shown)} worst shown"
    first += _window_text(_health_window(table))
    left_out = _counted(
        {
            "canceled or in flight": int(senders["messages"].sum()) - total,
            f"with {NO_SENDER}": int(table.loc[no_sender, "messages"].fillna(0).sum()),
        }
    )
    left_out += _counted({"with no rated message": int(idle.sum())}, "sender")
    fig = _titled(
        fig,
        title,
        [first, f"{RATE_RULE}; right: rated of all messages"],
        left_out,
        x="Delivery rate",
        y="Sender",
    )
    fig.update_layout(margin={"r": 90})
    return fig


def _rate_rows(table: pd.DataFrame) -> Iterable[tuple[Any, Any, float, float]]:
    return zip(
        table["delivered"],
        table["rated"],
        table["delivery_low"].astype(float),
        table["delivery_high"].astype(float),
        strict=True,
    )


def _change_text(row: pd.Series) -> str:
    if pd.isna(row["prev_rated"]) or int(row["prev_rated"]) == 0:
        return "previous window: no rated message"
    text = (
        f"previous window {float(row['prev_delivery_rate']):.1%} of "
        f"{int(row['prev_rated']):,} rated; change {float(row['change_pts']):+.1f} pts"
    )
    if pd.notna(row["change_p"]):
        verdict = "significant" if bool(row["change_significant"]) else "not significant"
        text += f" (p {float(row['change_p']):.2g}, {verdict})"
    return text


def _health_window(table: pd.DataFrame) -> Window | None:
    window = table.attrs.get("window")
    return None if window is None else (_utc(window[0]), _utc(window[1]))


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
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": list((daily["high"] - daily["rate"]).astype(float)),
                    "arrayminus": list((daily["rate"] - daily["low"]).astype(float)),
                    "color": LINE,
                    "thickness": 1,
                    "width": 3,
                },
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


# -- delivery by country --------------------------------------------------------------------


@documented("health_or_traffic", [COUNTRY_HEALTH, COUNTRY_TRAFFIC], "top", "title")
def country_delivery(
    health_or_traffic: pd.DataFrame, *, top: int | None = None, title: str | None = None
) -> go.Figure:
    """Delivery rate per recipient country, worst first: a bar coloured by rate with its
    95% Wilson interval as an error bar, and each country's rated and total messages on
    the right; from a health table by country or straight from a traffic frame (its
    window only, as ``traffic_health(traffic, by="country")`` counts it: both give the
    same figure).

    A recipient whose number names no country is "unknown". Ties rank the country with
    more rated messages first. Countries with no rated message are left out and counted in
    the subtitle, with the canceled and in-flight messages. ``top`` keeps the ``top``
    worst countries.
    """
    kind = which_kind(
        health_or_traffic,
        (COUNTRY_HEALTH, COUNTRY_TRAFFIC),
        "health_or_traffic",
        "country_delivery",
    )
    _check_top(top, "country_delivery")
    frame: pd.DataFrame = health_or_traffic
    title = title or "Delivery rate by country, worst first"
    if frame.empty:
        return empty_figure(title)
    left_out: dict[str, int] = {}
    if kind is COUNTRY_TRAFFIC:
        inside, window, left_out = _windowed(frame)
        if inside.empty:
            return empty_figure(title, "no message in the window")
        country = inside["to_country"].astype("string").fillna(NO_COUNTRY)
        stats = _tally(inside, {"to_country": country})
    else:
        window = _health_window(frame)
        stats = pd.DataFrame(
            {
                "to_country": labelled(frame["to_country"], NO_COUNTRY).to_numpy(),
                "messages": frame["messages"].fillna(0).astype("int64").to_numpy(),
                "rated": frame["rated"].fillna(0).astype("int64").to_numpy(),
                "delivered": frame["delivered"].fillna(0).astype("int64").to_numpy(),
                "rate": frame["delivery_rate"].astype(float).to_numpy(),
                "low": frame["delivery_low"].astype(float).to_numpy(),
                "high": frame["delivery_high"].astype(float).to_numpy(),
            }
        )
    stats["to_country"] = stats["to_country"].astype(str)
    unrated_countries = stats[stats["rated"] == 0]
    stats = stats[stats["rated"] > 0].sort_values(
        ["rate", "rated", "to_country"], ascending=[True, False, True], kind="stable"
    )
    if stats.empty:
        return empty_figure(title, "no rated message")
    shown = stats if top is None else stats.head(top)
    labels = [shortened(c) for c in shown["to_country"]]
    rates = [float(r) for r in shown["rate"]]
    customdata = np.column_stack(
        [
            [
                _interval_text(int(k), int(n), lo, hi)
                for k, n, lo, hi in zip(
                    shown["delivered"], shown["rated"], shown["low"], shown["high"], strict=True
                )
            ],
            [plural(int(m), "message") for m in shown["messages"]],
        ]
    ).astype(object)
    hover = "%{y}<br>%{customdata[0]}<br>%{customdata[1]}<extra></extra>"
    fig = go.Figure(
        [
            go.Bar(
                x=rates,
                y=labels,
                orientation="h",
                marker={"color": rate_colors(rates)},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": list(shown["high"] - shown["rate"]),
                    "arrayminus": list(shown["rate"] - shown["low"]),
                    "color": "#555555",
                    "thickness": 1,
                    "width": 3,
                },
                customdata=customdata,
                hovertemplate=hover,
                name="Delivery rate",
                showlegend=False,
            ),
            go.Scatter(
                x=[1.03] * len(shown),
                y=labels,
                mode="text",
                text=[
                    f"{int(n):,} of {int(m):,}"
                    for n, m in zip(shown["rated"], shown["messages"], strict=True)
                ],
                textposition="middle right",
                cliponaxis=False,
                customdata=customdata,
                hovertemplate=hover,
                name="Rated of messages",
                showlegend=False,
            ),
        ]
    )
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1])  # worst on top
    fig.update_xaxes(range=[0, 1.22], tickformat=".0%", tickvals=[0, 0.25, 0.5, 0.75, 1])
    fig.update_layout(height=max(360, 160 + 26 * len(shown)))
    total = int(stats["rated"].sum())
    first = f"{_countries(len(stats))}, {plural(total, 'rated message')}"
    if len(shown) < len(stats):
        first += f", the {len(shown)} worst shown"
    unrated = int(stats["messages"].sum()) - total + int(unrated_countries["messages"].sum())
    left = _counted({**left_out, "canceled or in flight": unrated})
    if len(unrated_countries):
        left.append(f"{_countries(len(unrated_countries))} with no rated message")
    fig = _titled(
        fig,
        title,
        [first + _window_text(window), f"{RATE_RULE}; right: rated of all messages"],
        left,
        x="Delivery rate",
        y="Recipient country",
    )
    fig.update_layout(margin={"r": 90})
    return fig


def _countries(n: int) -> str:
    return f"{n:,} {'country' if n == 1 else 'countries'}"
