"""What the traffic charts share: the window of a traffic frame, counting rates with their
intervals per group, labels, subtitles and colours."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, qualitative, unlabel_rgb

from .. import metrics
from ..errors import InvalidInputError
from ..frames.schema import NO_SENDER
from ._base import (
    COLORS,
    RATE_SCALE,
    finish,
    plural,
)

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
