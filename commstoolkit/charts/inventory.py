"""Inventory charts: the account's senders and its pools (composition, overlap)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ._base import (
    COLORS,
    MEMBERS,
    OVERLAP,
    SENDERS,
    TEMPLATE,
    UNKNOWN,
    channel_levels,
    checked,
    count_axis,
    counted,
    counts,
    documented,
    drawn,
    empty_figure,
    finish,
    labelled,
    plural,
    sender_status_levels,
    shortened,
)

__all__ = ["inventory", "pool_composition", "pool_overlap"]

_PATTERNS = {"ACTIVATED": "", "DEACTIVATED": "/"}
SIZE_COLOR = "#e9e9e9"  # pool_overlap's diagonal (pool sizes): off the colour scale


@documented("senders", [SENDERS], "title")
def inventory(senders: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Senders by channel and status: one stacked bar per channel, every channel shown.

    Channels without senders show as empty bars; the subtitle gives each channel's total.
    The legend lists the statuses some sender has.
    """
    frame = checked(senders, SENDERS, "senders", "inventory")
    title = title or "Senders by channel and status"
    if frame.empty:
        return empty_figure(title)
    data = pd.DataFrame(
        {
            "channel": labelled(frame["channel"], UNKNOWN),
            "status": labelled(frame["status"], UNKNOWN),
        }
    )
    channels = channel_levels(frame["channel"], senders=True)
    statuses = sender_status_levels(frame["status"])
    long = counted(
        drawn(counts(data, {"channel": channels, "status": statuses}), ["status"]), "sender"
    )
    fig = px.bar(
        long,
        template=TEMPLATE,
        x="channel",
        y="count",
        color="status",
        category_orders={"channel": channels, "status": statuses},
        color_discrete_map=COLORS,
        text="count",
        custom_data=["words"],
    )
    fig.update_traces(hovertemplate="%{x} · %{fullData.name}<br>%{customdata[0]}<extra></extra>")
    fig.update_traces(texttemplate="%{y:,}", textposition="inside", insidetextanchor="middle")
    fig.update_layout(barmode="stack")
    count_axis(fig, "y", long.groupby("channel")["count"].sum().max())
    totals = ", ".join(
        f"{c} {n:,}" for c, n in long.groupby("channel", sort=False)["count"].sum().items()
    )
    return finish(
        fig,
        title,
        subtitle=f"{plural(len(frame), 'sender')}: {totals}",
        x="Channel",
        y="Senders",
        legend="Status",
    )


@documented("members", [MEMBERS], "title")
def pool_composition(members: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Each pool's senders by channel (colour) and status (hatched when deactivated).

    One horizontal stacked bar per pool, largest pool at the top; the legend lists the
    channel and status pairs drawn (those some pool has). Pools are labelled by name (with
    their id when a name is missing or repeated), long names cut to 32 characters ending in
    "…" on the axis and shown in full on hover.
    """
    frame = checked(members, MEMBERS, "members", "pool_composition")
    title = title or "Pool composition by channel and status"
    if frame.empty:
        return empty_figure(title)
    pools = _pool_labels(frame)
    data = pd.DataFrame(
        {
            "pool": frame["pool_id"].astype(str).map({i: label for i, (label, _) in pools.items()}),
            "channel": labelled(frame["channel"], UNKNOWN),
            "status": labelled(frame["status"], UNKNOWN),
        }
    )
    order = list(
        data["pool"].value_counts().sort_index().sort_values(ascending=False, kind="stable").index
    )
    channels = channel_levels(frame["channel"], senders=True)
    statuses = sender_status_levels(frame["status"])
    long = counted(
        drawn(
            counts(data, {"pool": order, "channel": channels, "status": statuses}),
            ["channel", "status"],
        ),
        "sender",
    )
    fig = px.bar(
        long,
        template=TEMPLATE,
        y="pool",
        x="count",
        color="channel",
        pattern_shape="status",
        orientation="h",
        category_orders={"pool": order, "channel": channels, "status": statuses},
        color_discrete_map=COLORS,
        pattern_shape_map=_PATTERNS,
        custom_data=["words"],
    )
    fig.update_traces(hovertemplate="%{y}<br>%{fullData.name}: %{customdata[0]}<extra></extra>")
    fig.update_layout(barmode="stack")
    count_axis(fig, "x", long.groupby("pool")["count"].sum().max())
    short = dict(pools.values())
    fig.update_yaxes(tickmode="array", tickvals=order, ticktext=[short[p] for p in order])
    fig.update_yaxes(automargin=True)
    return finish(
        fig,
        title,
        subtitle=f"{plural(len(order), 'pool')}, {plural(len(frame), 'membership')}",
        x="Senders",
        y="Pool",
        legend="Channel, status",
    )


@documented("members", [OVERLAP], "title")
def pool_overlap(members: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Heatmap of the senders pools share: cell (A, B) counts senders in both A and B.

    Only the overlaps between two different pools are coloured, on a scale from 0 to the
    largest of them (the colour bar says so). The diagonal holds each pool's size
    (distinct senders): drawn in grey and labelled "size n", it is not on the colour
    scale, which would otherwise be spent on the sizes. Largest pool first (top left);
    every cell is annotated with its count, long pool names are cut on the axes (in full
    on hover).
    """
    frame = checked(members, OVERLAP, "members", "pool_overlap")
    title = title or "Senders shared between pools"
    if frame.empty:
        return empty_figure(title)
    pools = _pool_labels(frame)
    full = {pool_id: label for pool_id, (label, _) in pools.items()}
    short = {label: cut for label, cut in pools.values()}
    pairs = frame[["pool_id", "sender_id"]].astype(str).drop_duplicates()
    incidence = pd.crosstab(pairs["pool_id"].map(full), pairs["sender_id"])
    shared = incidence @ incidence.T
    order = list(np.diag(shared).argsort(kind="stable")[::-1])
    shared = shared.iloc[order, order]
    labels = list(shared.index)
    counts = shared.to_numpy().tolist()
    overlaps = [[None if i == j else n for j, n in enumerate(row)] for i, row in enumerate(counts)]
    sizes = [[n if i == j else None for j, n in enumerate(row)] for i, row in enumerate(counts)]
    largest = max((n for row in overlaps for n in row if n is not None), default=0)
    notes = _overlap_notes(shared)
    common = {
        "x": labels,
        "y": labels,
        "customdata": notes,
        "hovertemplate": "%{customdata}<extra></extra>",
        "hoverongaps": False,
        "xgap": 1,
        "ygap": 1,
    }
    # Cells are annotated from ``text``: a texttemplate would print "size " in the gaps.
    fig = go.Figure(
        [
            go.Heatmap(
                z=overlaps,
                coloraxis="coloraxis",
                text=[["" if n is None else f"{n:,}" for n in row] for row in overlaps],
                texttemplate="%{text}",
                name="shared",
                **common,
            ),
            go.Heatmap(
                z=sizes,
                colorscale=[[0, SIZE_COLOR], [1, SIZE_COLOR]],
                showscale=False,
                text=[["" if n is None else f"size {n:,}" for n in row] for row in sizes],
                texttemplate="%{text}",
                name="pool size",
                **common,
            ),
        ]
    )
    scale = TEMPLATE.layout.colorscale.sequential
    fig.update_layout(
        coloraxis={
            "cmin": 0,
            "cmax": max(largest, 1),
            "colorscale": scale,
            "colorbar": {
                "title": {"text": "Senders in<br>both pools"},
                "tickformat": ",d",
                **({"dtick": 1} if largest <= 8 else {}),
            },
        }
    )
    ticks = {"tickmode": "array", "tickvals": labels, "ticktext": [short[x] for x in labels]}
    fig.update_xaxes(**ticks, automargin=True)
    fig.update_yaxes(**ticks, automargin=True, autorange="reversed")
    return finish(
        fig,
        title,
        subtitle=f"colour: senders in both pools (scale 0 to {largest:,}); "
        "diagonal, grey: each pool's size, not on the colour scale",
        x="Pool",
        y="Pool",
    )


def _pool_labels(frame: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """pool_id -> (label, short label). The label is the pool's name, with its id when the
    name is missing or not unique; the short label, for axes, cuts a long name to
    ``LABEL_WIDTH`` characters ending in "…" (an id shown stays whole, and is added when
    two names cut alike)."""
    names = frame.groupby(frame["pool_id"].astype(str), sort=False)["pool_name"].first()
    names = names.astype(object).where(names.notna(), None)
    repeated = names.dropna().duplicated(keep=False)
    labels = {}
    for pool_id, name in names.items():
        if name is None:
            labels[pool_id] = (pool_id, pool_id)
        elif repeated.get(pool_id, False):
            labels[pool_id] = (f"{name} ({pool_id})", f"{shortened(str(name))} ({pool_id})")
        else:
            labels[pool_id] = (str(name), shortened(str(name)))
    cut = Counter(short for _, short in labels.values())
    return {
        pool_id: (label, short if cut[short] == 1 else f"{short} ({pool_id})")
        for pool_id, (label, short) in labels.items()
    }


def _overlap_notes(shared: pd.DataFrame) -> np.ndarray:
    notes = np.empty(shared.shape, dtype=object)
    for i, row in enumerate(shared.index):
        for j, column in enumerate(shared.columns):
            n = int(shared.iat[i, j])
            notes[i, j] = (
                f"{row}: {plural(n, 'sender')}"
                if i == j
                else f"{row} & {column}: {plural(n, 'sender')} in both"
            )
    return notes
