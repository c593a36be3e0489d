"""Traffic by group, from a health table: the sender league; delivery by country."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..frames.schema import NO_COUNTRY, NO_SENDER
from ._base import (
    COUNTRY_HEALTH,
    COUNTRY_TRAFFIC,
    LEAGUE,
    UNKNOWN,
    checked,
    documented,
    empty_figure,
    interval_bars,
    labelled,
    plural,
    rate_colors,
    shortened,
    which_kind,
)
from ._traffic import (
    RATE_RULE,
    Window,
    _check_top,
    _counted,
    _distinct,
    _interval_text,
    _tally,
    _titled,
    _utc,
    _window_text,
    _windowed,
)

__all__ = ["country_delivery", "sender_league"]


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
                error_x=interval_bars(
                    shown["delivery_rate"],
                    shown["delivery_low"],
                    shown["delivery_high"],
                    thickness=1.5,
                    width=4,
                ),
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
                error_x=interval_bars(shown["rate"], shown["low"], shown["high"]),
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
