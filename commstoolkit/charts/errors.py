"""The error codes of failed attempts: each code's share of the failed attempts, with its 95%
Wilson interval, overall or per group (a table of ``metrics.error_codes`` or
``analysis.error_codes``; with events, every attempt of a window)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .. import metrics
from ._base import (
    CHANNEL_COLORS,
    ERROR_CODES,
    checked,
    documented,
    empty_figure,
    finish,
    interval_bars,
    plural,
    shortened,
)
from ._traffic import _check_top

__all__ = ["error_codes"]

MAX_GROUPS = 8  # more groups than this crowd the bars: the others are counted in the subtitle
NO_CODE = "no code"
# The label shown for a group key, when the table has it beside the key.
_LABELS = {"sender_id": "sender_address", "pool_id": "pool_name"}


def _group_column(table: pd.DataFrame) -> str | None:
    """The table's group key (``analysis.error_codes(..., by=...)`` puts it first), if any."""
    first = str(table.columns[0])
    return None if first in metrics.ERROR_CODE_COLUMNS else first


def _label(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return str(value.strftime("%Y-%m-%d"))
    return shortened(str(value))


@documented("table", [ERROR_CODES], "top", "title")
def error_codes(
    table: pd.DataFrame, *, top: int | None = None, title: str | None = None
) -> go.Figure:
    """Each error code's share of the failed attempts (UNDELIVERED or FAILED), most frequent
    first, with its 95% Wilson interval as an error bar; the hover says how many failed
    attempts carried it, of how many. Grouped (a table ``by=`` something), one bar per group
    and code, the groups with most failed attempts first (at most eight; the others counted
    in the subtitle); channels in their colours. An attempt that failed without a code is
    "no code". ``top`` keeps the ``top`` most frequent codes."""
    checked(table, ERROR_CODES, "table", "error_codes")
    _check_top(top, "error_codes")
    title = title or "Error codes of the failed attempts"
    if table.empty:
        return empty_figure(title, "no failed attempt")
    frame = table.assign(code=[NO_CODE if pd.isna(c) else str(c) for c in table["error_code"]])
    order = frame.groupby("code", sort=False)["count"].sum().sort_values(ascending=False)
    codes = list(order.index if top is None else order.index[:top])
    group = _group_column(frame)
    groups: list[Any] = [None]
    hidden = 0
    if group is not None:
        totals = frame.groupby(group, sort=False)["failed_attempts"].first()
        totals = totals.sort_values(ascending=False, kind="stable")
        groups = list(totals.index[:MAX_GROUPS])
        hidden = len(totals) - len(groups)
    traces = []
    for value in groups:
        rows = frame if group is None else frame[frame[group] == value]
        rows = rows.set_index("code").reindex([c for c in codes if c in set(rows["code"])])
        label_column = _LABELS.get(group or "")
        name = (
            "all"
            if group is None
            else _label(rows[label_column].iloc[0] if label_column in rows.columns else value)
        )
        hover = [
            f"{name}<br>code {code}: {plural(int(k), 'failed attempt')} of {int(n):,}, "
            f"{k / n:.1%} (95% CI {low:.1%}–{high:.1%})"
            for code, k, n, low, high in zip(
                rows.index, rows["count"], rows["failed_attempts"], rows["share_low"],
                rows["share_high"], strict=True,
            )
        ]  # fmt: skip
        traces.append(
            go.Bar(
                x=rows["share"].astype(float).tolist(),
                y=list(rows.index),
                orientation="h",
                name=name,
                marker={"color": CHANNEL_COLORS[value]} if value in CHANNEL_COLORS else {},
                error_x=interval_bars(rows["share"], rows["share_low"], rows["share_high"]),
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
                showlegend=group is not None,
            )
        )
    fig = go.Figure(traces)
    fig.update_yaxes(categoryorder="array", categoryarray=codes[::-1], type="category")
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_layout(barmode="group")
    failed = (
        int(frame.groupby(group)["failed_attempts"].first().sum())
        if group
        else int(frame["failed_attempts"].iloc[0])
    )
    subtitle = f"share of {plural(failed, 'failed attempt')}, with 95% Wilson intervals"
    if hidden:
        subtitle += f"; {plural(hidden, 'other group')} not shown"
    return finish(fig, title, subtitle=subtitle, x="Share of failed attempts", y="Error code",
                  legend=group)  # fmt: skip
