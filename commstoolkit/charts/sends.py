"""Test-send charts: outcomes, delivery per sender, RCS fallback, latency."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from .. import metrics
from ..errors import InvalidInputError
from ..frames.schema import NO_SENDER
from ._base import (
    COLORS,
    DELIVERY,
    FALLBACK,
    LATENCY,
    OUTCOMES,
    RATE_SCALE,
    TEMPLATE,
    UNKNOWN,
    channel_levels,
    checked,
    count_axis,
    counted,
    counts,
    documented,
    empty_figure,
    finish,
    interval_bars,
    labelled,
    plural,
    rate_colors,
    status_levels,
)

__all__ = ["delivery_latency", "fallback", "send_outcomes", "sender_delivery"]

# Outcomes a sender answers for: CANCELED (by the caller) and messages in flight do not count.
RATED_STATUSES = metrics.RATED_STATUSES
ROUTE_FALLBACK = "RCS → SMS fallback"
ROUTE_NO_SENDER = NO_SENDER  # no sender took it (NA channel): no attempt at all
ROUTE_UNKNOWN = UNKNOWN  # fallback NA: the attempts were not loaded
LATENCY_KINDS = ("box", "ecdf")
LATENCY_MEASURES = ("delivered", "read")
_ALL_POINTS_UP_TO = 500  # a box plot shows every message up to this many, then outliers only


@documented("messages", [OUTCOMES], "title")
def send_outcomes(messages: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Messages by channel and status: one stacked bar per channel, every channel shown.

    A message no sender took (NA sender and channel, e.g. unaddressable) counts under
    "no sender"; messages still in flight show in grey. The hover text gives each
    channel's delivery rate (``metrics.delivery_rate``) with its 95% Wilson interval.
    """
    frame = checked(messages, OUTCOMES, "messages", "send_outcomes")
    title = title or "Message outcomes by channel"
    if frame.empty:
        return empty_figure(title)
    data = pd.DataFrame(
        {
            "channel": labelled(frame["channel"], NO_SENDER),
            "status": labelled(frame["status"], UNKNOWN),
        }
    )
    channels, statuses = channel_levels(frame["channel"]), status_levels(frame["status"])
    long = counted(counts(data, {"channel": channels, "status": statuses}), "message")
    totals = long.groupby("channel")["count"].transform("sum")
    long["share"] = (long["count"] / totals.where(totals > 0)).fillna(0.0)
    rates = _channel_rates(frame, data["channel"])
    long["rate"] = [rates.get(str(channel), "") for channel in long["channel"]]
    fig = px.bar(
        long,
        template=TEMPLATE,
        x="channel",
        y="count",
        color="status",
        category_orders={"channel": channels, "status": statuses},
        color_discrete_map=COLORS,
        custom_data=["share", "words", "rate"],
    )
    fig.update_traces(
        hovertemplate="%{x} · %{fullData.name}<br>%{customdata[1]} "
        "(%{customdata[0]:.0%} of the channel)<br>%{customdata[2]}<extra></extra>"
    )
    fig.update_layout(barmode="stack")
    count_axis(fig, "y", long.groupby("channel")["count"].sum().max())
    delivered = metrics.delivered(frame)
    subtitle = (
        f"{plural(delivered.denominator, 'message')}, {delivered.value:.0%} delivered or read"
    )
    return finish(fig, title, subtitle=subtitle, x="Channel", y="Messages", legend="Status")


def _channel_rates(frame: pd.DataFrame, channel: pd.Series) -> dict[str, str]:
    """Each channel's delivery rate with its 95% Wilson interval, as hover text."""
    texts = {}
    for name, group in frame.groupby(channel.to_numpy(), sort=False):
        rate = metrics.delivery_rate(group)
        if rate.denominator:
            low, high = rate.interval()
            texts[str(name)] = (
                f"delivery rate {rate.value:.0%} of {rate.denominator:,} rated "
                f"(95% CI {low:.0%}–{high:.0%})"
            )
    return texts


@documented("messages", [DELIVERY], "title")
def sender_delivery(
    messages: pd.DataFrame, *, top: int | None = None, title: str | None = None
) -> go.Figure:
    """Delivery rate per sender, worst first: a bar coloured by rate, with its 95% Wilson
    interval as an error bar (and in the hover text), ending in a dot labelled "n msgs" (a
    sender that delivered nothing shows as a dot at 0%).

    Rate = DELIVERED or READ over the sender's DELIVERED, READ, UNDELIVERED and FAILED
    messages; messages with no sender, in flight or canceled are left out (the subtitle
    says how many). Ties rank the sender with more messages first. ``top`` keeps only the
    ``top`` worst senders.
    """
    frame = checked(messages, DELIVERY, "messages", "sender_delivery")
    title = title or "Delivery rate by sender, worst first"
    if top is not None and (not isinstance(top, int) or isinstance(top, bool) or top < 1):
        raise InvalidInputError(
            f"charts.sender_delivery: top must be a positive integer or None; got {top!r}",
            field="top",
            allowed="int >= 1",
        )
    if frame.empty:
        return empty_figure(title)
    with_sender = frame[frame["sender_id"].notna()]
    overall = metrics.delivery_rate(with_sender)
    if overall.denominator == 0:
        return empty_figure(title, "no delivered or failed message with a sender yet")
    stats = _per_sender(with_sender)
    shown = stats if top is None else stats.head(top)
    columns = ["sender_id", "channel", "delivered", "messages", "low", "high"]
    customdata = shown[columns].to_numpy(object)
    hover = (
        "%{y}<br>%{customdata[0]} (%{customdata[1]})<br>"
        "%{customdata[2]} of %{customdata[3]} delivered: %{x:.0%} "
        "(95% CI %{customdata[4]:.0%}–%{customdata[5]:.0%})<extra></extra>"
    )
    rates, labels = list(shown["rate"]), list(shown["label"])
    # the 95% Wilson interval of each rate, as error bars on the bars
    error_x = interval_bars(shown["rate"], shown["low"], shown["high"])
    fig = go.Figure(
        [
            # The bars, in CSS colours (see rate_colors)...
            go.Bar(
                x=rates,
                y=labels,
                orientation="h",
                marker={"color": rate_colors(rates)},
                error_x=error_x,
                customdata=customdata,
                hovertemplate=hover,
                name="Delivery rate",
                showlegend=False,
            ),
            # ... and a dot at the end of each, with the message count: a 0% bar has no
            # length, its dot and count still show.
            go.Scatter(
                x=rates,
                y=labels,
                mode="markers+text",
                marker={
                    "color": rates,
                    "coloraxis": "coloraxis",
                    "size": 11,
                    "line": {"color": "white", "width": 1},
                },
                text=list(shown["text"]),
                textposition="middle right",
                cliponaxis=False,
                customdata=customdata,
                hovertemplate=hover,
                name="Messages",
                showlegend=False,
            ),
        ]
    )
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1])  # worst on top
    fig.update_xaxes(range=[-0.02, 1.15], tickformat=".0%", tickvals=[0, 0.25, 0.5, 0.75, 1])
    fig.update_layout(
        coloraxis={
            "cmin": 0,
            "cmax": 1,
            "colorscale": [[stop, color] for stop, color in RATE_SCALE],
            "colorbar": {"title": {"text": "Rate"}, "tickformat": ".0%"},
        }
    )
    fig.update_layout(height=max(360, 140 + 26 * len(shown)))
    no_sender = len(frame) - len(with_sender)
    unrated = overall.n_excluded
    subtitle = f"{plural(len(stats), 'sender')}, {plural(overall.denominator, 'final message')}"
    if top is not None and len(stats) > top:
        subtitle += f"; the {top} worst shown"
    left_out = [f"{no_sender:,} with {NO_SENDER}"] if no_sender else []
    left_out += [f"{unrated:,} in flight or canceled"] if unrated else []
    if left_out:
        subtitle += f"; {' and '.join(left_out)} left out"
    return finish(fig, title, subtitle=subtitle, x="Delivered (DELIVERED or READ)", y="Sender")


def _per_sender(with_sender: pd.DataFrame) -> pd.DataFrame:
    """One row per sender with a rated message, worst first: ``sender_id,
    sender_address, channel, messages, delivered, rate, label, text`` (rate ascending,
    then more messages, then address); ``messages`` / ``delivered`` / ``rate`` / ``low``
    / ``high`` are ``metrics.delivery_rate``'s denominator, numerator, value and 95%
    Wilson interval."""
    rows = []
    for sender_id, group in with_sender.groupby(with_sender["sender_id"].astype(str), sort=False):
        rate = metrics.delivery_rate(group)
        if rate.denominator == 0:
            continue
        low, high = rate.interval()
        rows.append(
            {
                "sender_id": sender_id,
                "sender_address": labelled(group["sender_address"], "").iloc[0],
                "channel": labelled(group["channel"], NO_SENDER).iloc[0],
                "messages": rate.denominator,
                "delivered": rate.numerator,
                "rate": rate.value,
                "low": low,
                "high": high,
            }
        )
    stats = pd.DataFrame(rows).sort_values(
        ["rate", "messages", "sender_address", "sender_id"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    address = stats["sender_address"].where(stats["sender_address"] != "", stats["sender_id"])
    clash = address.duplicated(keep=False)
    stats["label"] = address.where(~clash, address + " (" + stats["sender_id"] + ")")
    stats["text"] = stats["messages"].map(lambda n: f"{n:,} msg" + ("" if n == 1 else "s"))
    return stats.reset_index(drop=True)


@documented("messages", [FALLBACK], "title")
def fallback(messages: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """How messages were routed (RCS, RCS → SMS fallback, SMS...) and how each route ended.

    The route comes from the ``fallback`` column and the final channel: no fallback ->
    the channel; fallback onto SMS -> "RCS → SMS fallback"; no sender (NA channel, so no
    attempt at all) -> "no sender", whether or not the attempts were loaded; NA fallback
    (attempts not loaded) with a sender -> "unknown", never guessed. Bars are
    stacked by status; the subtitle gives ``metrics.fallback_rate``: the fallbacks over
    the messages whose first attempt was RCS (the summary's fallback rate).
    """
    frame = checked(messages, FALLBACK, "messages", "fallback")
    title = title or "RCS and SMS fallback"
    if frame.empty:
        return empty_figure(title)
    data = pd.DataFrame({"route": _routes(frame), "status": labelled(frame["status"], UNKNOWN)})
    statuses = status_levels(frame["status"])
    route_order = _route_levels(data["route"])
    long = counted(counts(data, {"route": route_order, "status": statuses}), "message")
    fig = px.bar(
        long,
        template=TEMPLATE,
        x="route",
        y="count",
        color="status",
        category_orders={"route": route_order, "status": statuses},
        color_discrete_map=COLORS,
        custom_data=["words"],
    )
    fig.update_traces(hovertemplate="%{x} · %{fullData.name}<br>%{customdata[0]}<extra></extra>")
    fig.update_layout(barmode="stack")
    count_axis(fig, "y", long.groupby("route")["count"].sum().max())
    subtitle = _fallback_summary(metrics.fallback_rate(frame))
    return finish(fig, title, subtitle=subtitle, x="Route", y="Messages", legend="Status")


def _routes(frame: pd.DataFrame) -> pd.Series:
    """Each message's route label (see ``fallback``)."""
    fell_back = frame["fallback"].astype("boolean")
    after = fell_back.fillna(False).astype(bool)
    no_sender = frame["channel"].isna()
    channel = labelled(frame["channel"], ROUTE_NO_SENDER)
    onto_sms = metrics.fallbacks(frame)
    route = channel.mask(onto_sms, ROUTE_FALLBACK)
    route = route.mask(after & ~onto_sms, "fallback → " + channel)
    route = route.mask(fell_back.isna(), ROUTE_UNKNOWN)
    return route.mask(no_sender, ROUTE_NO_SENDER)


def _route_levels(route: pd.Series) -> list[str]:
    """RCS, its SMS fallback and SMS (always), then other routes seen, then the unclear."""
    always = ["RCS", ROUTE_FALLBACK, "SMS"]
    last = [r for r in (ROUTE_NO_SENDER, ROUTE_UNKNOWN) if (route == r).any()]
    others = sorted(set(route) - set(always) - set(last), key=lambda r: (r != "WHATSAPP", r))
    return [*always, *others, *last]


def _fallback_summary(rate: metrics.Rate) -> str:
    text = f"{plural(rate.denominator, 'message')} tried RCS first"
    if rate.denominator:
        text += f", {rate.numerator:,} ({rate.value:.1%}) fell back to SMS"
    unknown = rate.excluded.get("attempts_not_loaded", 0)
    if unknown:
        text += f"; route unknown for {plural(unknown, 'message')} (attempts not loaded)"
    return text


@documented("messages", [LATENCY], "title")
def delivery_latency(
    messages: pd.DataFrame,
    *,
    kind: str = "box",
    measure: str = "delivered",
    title: str | None = None,
) -> go.Figure:
    """Time to delivered (or to read), by channel: a box per channel, or an ECDF.

    ``measure``: "delivered" (default; ``metrics.time_to_delivered``: seconds to the
    DELIVERED, UNDELIVERED or FAILED status; READ messages, whose delivery moment the
    data does not give, and unaddressable ones, never sent, are left out and counted in
    the subtitle) or "read" (``metrics.time_to_read``: seconds to READ). ``kind``: "box"
    (default; every message drawn as a point up to 500 of them) or "ecdf" (the share of
    each channel's messages there by then).
    """
    if kind not in LATENCY_KINDS:
        raise InvalidInputError(
            f"charts.delivery_latency: kind must be one of {', '.join(LATENCY_KINDS)}; "
            f"got {kind!r}",
            field="kind",
            allowed=LATENCY_KINDS,
        )
    if measure not in LATENCY_MEASURES:
        raise InvalidInputError(
            f"charts.delivery_latency: measure must be one of {', '.join(LATENCY_MEASURES)}; "
            f"got {measure!r}",
            field="measure",
            allowed=LATENCY_MEASURES,
        )
    frame = checked(messages, LATENCY, "messages", "delivery_latency")
    what = f"time to {measure}"
    title = title or f"{what.capitalize()} by channel"
    if frame.empty:
        return empty_figure(title)
    durations = (
        metrics.time_to_delivered(frame) if measure == "delivered" else metrics.time_to_read(frame)
    )
    left_out = ", ".join(
        f"{reason.replace('_', ' ')} excluded: {n:,}" for reason, n in durations.excluded.items()
    )
    counted_on = f"{what} (n={durations.n:,}" + (f", {left_out})" if left_out else ")")
    if durations.n == 0:
        return empty_figure(title, f"no message with a {what} yet; {counted_on}")
    timed = frame.loc[durations.seconds.index]
    data = pd.DataFrame(
        {
            "channel": labelled(timed["channel"], NO_SENDER),
            "latency_s": durations.seconds.astype(float),
            "status": labelled(timed["status"], UNKNOWN),
        }
    )
    options: dict[str, Any] = {
        "color": "channel",
        "category_orders": {"channel": channel_levels(timed["channel"])},
        "color_discrete_map": COLORS,
        "labels": {"channel": "Channel", "latency_s": "Seconds", "status": "Status"},
    }
    subtitle = f"{counted_on}; median {durations.median():.1f} s"
    if kind == "ecdf":
        fig = px.ecdf(data, x="latency_s", template=TEMPLATE, **options)
        fig.update_traces(
            hovertemplate=f"%{{fullData.name}}: %{{y:.0%}} by %{{x:.1f}} s ({what})<extra></extra>"
        )
        x, y, legend = f"Seconds ({what})", "Share of messages", "Channel"
    else:
        points = "all" if len(data) <= _ALL_POINTS_UP_TO else "outliers"
        fig = px.box(
            data,
            x="channel",
            y="latency_s",
            points=points,
            hover_data=["status"],
            template=TEMPLATE,
            **options,
        )
        fig.update_layout(boxmode="overlay", showlegend=False)
        x, y, legend = "Channel", f"Seconds ({what})", None
    return finish(fig, title, subtitle=subtitle, x=x, y=y, legend=legend)
