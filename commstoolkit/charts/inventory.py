"""Inventory charts: the account's senders and its pools (composition, overlap)."""

from __future__ import annotations

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
    counts,
    documented,
    empty_figure,
    finish,
    labelled,
    plural,
    sender_status_levels,
)

__all__ = ["inventory", "pool_composition", "pool_overlap"]

_PATTERNS = {"ACTIVATED": "", "DEACTIVATED": "/"}


@documented("senders", [SENDERS], "title")
def inventory(senders: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Senders by channel and status: one stacked bar per channel, every channel shown.

    Channels without senders show as empty bars; the subtitle gives each channel's total.
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
    long = counts(data, {"channel": channels, "status": statuses})
    fig = px.bar(
        long,
        template=TEMPLATE,
        x="channel",
        y="count",
        color="status",
        category_orders={"channel": channels, "status": statuses},
        color_discrete_map=COLORS,
        text="count",
    )
    fig.update_traces(hovertemplate="%{x} · %{fullData.name}<br>%{y:,} senders<extra></extra>")
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

    One horizontal stacked bar per pool, largest pool at the top, every channel in the
    legend. Pools are labelled by name (with their id when a name is missing or repeated).
    """
    frame = checked(members, MEMBERS, "members", "pool_composition")
    title = title or "Pool composition by channel and status"
    if frame.empty:
        return empty_figure(title)
    pools = _pool_labels(frame)
    data = pd.DataFrame(
        {
            "pool": frame["pool_id"].astype(str).map(pools),
            "channel": labelled(frame["channel"], UNKNOWN),
            "status": labelled(frame["status"], UNKNOWN),
        }
    )
    order = list(
        data["pool"].value_counts().sort_index().sort_values(ascending=False, kind="stable").index
    )
    channels = channel_levels(frame["channel"], senders=True)
    statuses = sender_status_levels(frame["status"])
    long = counts(data, {"pool": order, "channel": channels, "status": statuses})
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
    )
    fig.update_traces(hovertemplate="%{y}<br>%{fullData.name}: %{x:,} senders<extra></extra>")
    fig.update_layout(barmode="stack")
    count_axis(fig, "x", long.groupby("pool")["count"].sum().max())
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

    The diagonal is each pool's size (distinct senders), largest pool first; every cell
    is annotated with its count. The colour scale tops out at the largest overlap between
    two different pools, so overlaps stand out next to the diagonal.
    """
    frame = checked(members, OVERLAP, "members", "pool_overlap")
    title = title or "Senders shared between pools"
    if frame.empty:
        return empty_figure(title)
    pools = _pool_labels(frame)
    pairs = frame[["pool_id", "sender_id"]].astype(str).drop_duplicates()
    incidence = pd.crosstab(pairs["pool_id"].map(pools), pairs["sender_id"])
    shared = incidence @ incidence.T
    order = list(np.diag(shared).argsort(kind="stable")[::-1])
    shared = shared.iloc[order, order]
    labels = list(shared.index)
    off_diagonal = shared.where(~np.eye(len(labels), dtype=bool)).max().max()
    fig = px.imshow(
        shared.to_numpy(),
        template=TEMPLATE,
        x=labels,
        y=labels,
        text_auto=True,
        aspect="auto",
        zmin=0,
        zmax=off_diagonal if off_diagonal > 0 else None,
    )
    fig.update_traces(
        customdata=_overlap_notes(shared),
        hovertemplate="%{customdata}<extra></extra>",
    )
    fig.update_coloraxes(colorbar_title_text="Senders")
    return finish(
        fig,
        title,
        subtitle="diagonal: pool size; elsewhere: senders in both pools",
        x="Pool",
        y="Pool",
    )


def _pool_labels(frame: pd.DataFrame) -> dict[str, str]:
    """pool_id -> its name; the id is added when a name is missing or not unique."""
    names = frame.groupby(frame["pool_id"].astype(str), sort=False)["pool_name"].first()
    names = names.astype(object).where(names.notna(), None)
    repeated = names.dropna().duplicated(keep=False)
    labels = {}
    for pool_id, name in names.items():
        if name is None:
            labels[pool_id] = pool_id
        elif repeated.get(pool_id, False):
            labels[pool_id] = f"{name} ({pool_id})"
        else:
            labels[pool_id] = str(name)
    return labels


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
