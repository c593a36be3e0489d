"""What every chart shares: the template and colours, the frames' columns, checks, docs.

The column names come from ``commstoolkit.frames``; each chart's needs are listed once
here, checked against the frames' column constants when the module loads.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import sample_colorscale

from .. import metrics
from ..errors import InvalidInputError
from ..frames.schema import (
    ATTEMPT_COLUMNS,
    HEALTH_COLUMNS,
    MEMBER_COLUMNS,
    MESSAGE_COLUMNS,
    NO_SENDER,
    SENDER_COLUMNS,
    TRAFFIC_COLUMNS,
)
from ..models import MESSAGE_CHANNELS, MESSAGE_STATUSES, SENDER_CHANNELS, SENDER_STATUSES

F = TypeVar("F", bound=Callable[..., go.Figure])

TEMPLATE_NAME = "commstoolkit"

# One fixed colour per channel and per status, whatever chart and whatever data.
CHANNEL_COLORS = {
    "SMS": "#2f6fd6",
    "RCS": "#8e44ad",
    "EMAIL": "#d6336c",
    "WHATSAPP": "#0e9f8f",
    "PUSH": "#a0742a",
}
SENDER_STATUS_COLORS = {"ACTIVATED": "#3a9d5d", "DEACTIVATED": "#b4b4b4"}
MESSAGE_STATUS_COLORS = {
    "DELIVERED": "#2ca02c",
    "READ": "#1a6b1a",
    "UNDELIVERED": "#f0a202",
    "FAILED": "#d62728",
    "CANCELED": "#6f6f6f",
    "SENT": "#9e9e9e",
    "QUEUED": "#c4c4c4",
    "SCHEDULED": "#dedede",
    "GROUP": "#8c8c8c",
    "INBOUND": "#5b8db8",
}
# Delivery rate 0..1: red for a bad sender, amber for a doubtful one, green for a good one.
RATE_SCALE = [
    (0.0, MESSAGE_STATUS_COLORS["FAILED"]),
    (0.7, MESSAGE_STATUS_COLORS["UNDELIVERED"]),
    (0.9, "#9ccc65"),
    (1.0, MESSAGE_STATUS_COLORS["DELIVERED"]),
]
COUNT_SCALE = ["#f4f7fb", "#9ecae1", "#2f6fd6", "#08306b"]
# Stacks read bottom-up: final outcomes first, good before bad, then messages in flight.
STATUS_ORDER = (
    "DELIVERED", "READ", "UNDELIVERED", "FAILED", "CANCELED",
    "SENT", "QUEUED", "SCHEDULED", "GROUP", "INBOUND",
)  # fmt: skip
DELIVERED_STATUSES = metrics.DELIVERED_STATUSES
UNKNOWN = "unknown"  # a missing value: shown as such, never guessed
COLORS = {
    **CHANNEL_COLORS,
    **SENDER_STATUS_COLORS,
    **MESSAGE_STATUS_COLORS,
    NO_SENDER: "#8c8c8c",
    UNKNOWN: "#bfb5a8",
}


def _template() -> go.layout.Template:
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.update(
        font={"family": "Inter, 'Segoe UI', Helvetica, Arial, sans-serif", "size": 13},
        colorway=[*CHANNEL_COLORS.values(), "#17becf", "#7f7f7f", "#bcbd22"],
        title={"x": 0.01, "xanchor": "left", "font": {"size": 17}},
        margin={"l": 70, "r": 30, "t": 80, "b": 60},
        hoverlabel={"bgcolor": "white", "font": {"size": 12}},
        hovermode="closest",
        legend={"title": {"font": {"size": 12}}},
        bargap=0.25,
        colorscale={"sequential": [[i / 3, c] for i, c in enumerate(COUNT_SCALE)]},
    )
    return template


TEMPLATE = _template()
pio.templates[TEMPLATE_NAME] = TEMPLATE


@dataclass(frozen=True)
class FrameKind:
    """A frame a chart takes: what it is, where it comes from, the columns it needs."""

    name: str
    source: str
    columns: tuple[str, ...]

    def describe(self) -> str:
        article = "an" if self.name[0] in "aeiou" else "a"
        return f"{article} {self.name} ({self.source}) with columns {', '.join(self.columns)}"


# The frames charts take: (what it is, where it comes from, its columns in frames.schema, the
# columns that tell it from the other frames). A chart needs a frame's identifying columns
# as well as the ones it draws: a messages frame has "channel" and "status" too, but given
# to ``inventory`` it is refused, not counted as senders. Senders vs members: display_name;
# messages vs attempts: to_channel vs attempt; every other pair: the ids.
_SENDERS = ("senders frame", "ct.load_senders", SENDER_COLUMNS, ("sender_id", "display_name"))
_MEMBERS = ("pool members frame", "ct.load_pool_members", MEMBER_COLUMNS, ("pool_id",))
_MESSAGES = (
    "messages frame",
    "TestSend.messages, frames.load_messages",
    MESSAGE_COLUMNS,
    ("message_id", "to_channel"),
)
_ATTEMPTS = ("attempts frame", "TestSend.attempts", ATTEMPT_COLUMNS, ("message_id", "attempt"))
# An account's traffic: messages vs traffic: pool_id. A health table (one row per group of
# the traffic) vs the frames: its rates; by sender vs by country: the key.
_TRAFFIC = (
    "traffic frame",
    "analysis.load_traffic, analysis.read_traffic",
    TRAFFIC_COLUMNS,
    ("message_id", "pool_id"),
)
_SENDER_HEALTH = (
    "health table by sender",
    "analysis.traffic_health(traffic, by='sender')",
    ("sender_id", "sender_address", "channel", *HEALTH_COLUMNS),
    ("sender_id", "delivery_rate"),
)
_COUNTRY_HEALTH = (
    "health table by country",
    "analysis.traffic_health(traffic, by='country')",
    ("to_country", *HEALTH_COLUMNS),
    ("to_country", "delivery_rate"),
)


# The error-code breakdown of failed attempts (metrics.error_codes, analysis.error_codes).
_ERROR_CODES = (
    "error-code table",
    "metrics.error_codes, analysis.error_codes",
    metrics.ERROR_CODE_COLUMNS,
    ("error_code", "failed_attempts"),
)


def _needs(frame: tuple[str, str, Sequence[str], Sequence[str]], *columns: str) -> FrameKind:
    name, source, frame_columns, identity = frame
    needed = tuple(dict.fromkeys([*columns, *identity]))
    unknown = [c for c in needed if c not in frame_columns]
    if unknown:  # frames renamed a column: fail on import, not in an analyst's notebook
        raise RuntimeError(f"charts need {unknown}, which the {name} does not have")
    return FrameKind(name, source, needed)


# What each chart needs, the only place charts name the frames' columns they check.
SENDERS = _needs(_SENDERS, "channel", "status")
MEMBERS = _needs(_MEMBERS, "pool_id", "pool_name", "sender_id", "channel", "status")
OVERLAP = _needs(_MEMBERS, "pool_id", "pool_name", "sender_id")
OUTCOMES = _needs(_MESSAGES, "channel", "status")
DELIVERY = _needs(_MESSAGES, "sender_id", "sender_address", "channel", "status")
FALLBACK = _needs(_MESSAGES, "channel", "status", "fallback")
LATENCY = _needs(_MESSAGES, "sender_id", "channel", "status", "latency_s")
TIMELINE_MESSAGES = _needs(_MESSAGES, "status", "updated_at")
TIMELINE_ATTEMPTS = _needs(_ATTEMPTS, "status", "attempted_at")
POOL_DAILY = _needs(_TRAFFIC, "pool_id", "pool_name", "status", "created_at")
LEAGUE = _needs(
    _SENDER_HEALTH,
    "sender_address", "channel", "messages", "rated", "delivered", "delivery_rate",
    "delivery_low", "delivery_high", "prev_rated", "prev_delivery_rate", "change_pts",
    "change_p", "change_significant",
)  # fmt: skip
DRIFT = _needs(_TRAFFIC, "sender_id", "sender_address", "channel", "status", "created_at")
FAILURES = _needs(_TRAFFIC, "status", "created_at")
FAILURES_MESSAGES = _needs(_MESSAGES, "status", "created_at")
COUNTRY_HEALTH = _needs(
    _COUNTRY_HEALTH, "messages", "rated", "delivered", "delivery_rate", "delivery_low",
    "delivery_high",
)  # fmt: skip
COUNTRY_TRAFFIC = _needs(_TRAFFIC, "to_country", "status", "created_at")
ERROR_CODES = _needs(_ERROR_CODES, "count", "share", "share_low", "share_high")

# Argument meanings, written once; every chart's docstring ends with the ones it takes.
ARGUMENTS = {
    "title": "the figure's title; None for the chart's own.",
    "top": "keep only the ``top`` first rows (a positive integer); None for all.",
}
_RETURNS = (
    "Returns a plotly ``go.Figure`` with the ``commstoolkit`` template. An empty frame gives "
    'an empty figure titled "<title>: no data". Raises ``InvalidInputError`` when the frame '
    "is not a DataFrame or lacks a needed column (the error names them)."
)


def documented(frame: str, kinds: Sequence[FrameKind], *options: str) -> Callable[[F], F]:
    """Complete a chart's docstring: its frame argument (the ``kinds`` it accepts, with the
    columns each needs), the shared ``options`` it takes, and what it returns and raises."""

    def decorate(func: F) -> F:
        accepted = ", or ".join(kind.describe() for kind in kinds)
        lines = [f"{frame}: {accepted}; other columns are ignored."]
        lines += [f"{name}: {ARGUMENTS[name]}" for name in options]
        doc = inspect.cleandoc(func.__doc__ or "")
        wrapped = [textwrap.fill(line, 88, subsequent_indent="    ") for line in lines]
        func.__doc__ = "\n".join([doc, "", "Arguments:", *wrapped, "", textwrap.fill(_RETURNS, 88)])
        return func

    return decorate


def checked(frame: Any, kind: FrameKind, argument: str, chart: str) -> pd.DataFrame:
    """``frame`` if it is a DataFrame with every column ``kind`` needs, else a clear error."""
    which_kind(frame, (kind,), argument, chart)
    return frame


def which_kind(frame: Any, kinds: Sequence[FrameKind], argument: str, chart: str) -> FrameKind:
    """The first of ``kinds`` whose columns ``frame`` has; else an error naming what is missing."""
    expects = ", or ".join(kind.describe() for kind in kinds)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            f"charts.{chart}: {argument} must be a pandas DataFrame, {expects}; "
            f"got {type(frame).__name__}",
            field=argument,
            allowed=kinds[0].columns,
        )
    for kind in kinds:
        if all(c in frame.columns for c in kind.columns):
            return kind
    missing = [c for c in kinds[0].columns if c not in frame.columns]
    columns = "column" if len(missing) == 1 else "columns"
    raise InvalidInputError(
        f"charts.{chart}: {argument} has no {columns} {', '.join(map(repr, missing))}; "
        f"it expects {expects}",
        field=argument,
        allowed=kinds[0].columns,
    )


def levels(values: pd.Series, known: Iterable[str], missing: str | None = None) -> list[str]:
    """The ``known`` values in their order, then any other value seen, then ``missing``.

    ``missing`` is the label NA values get (see ``labelled``), listed only if NA occurs.
    """
    order = list(dict.fromkeys(known))
    if isinstance(values.dtype, pd.CategoricalDtype):
        order += [str(c) for c in values.cat.categories if str(c) not in order]
    seen = values.dropna().astype(str).unique()
    order += sorted(v for v in seen if v not in order)
    if missing is not None and values.isna().any():
        order.append(missing)
    return order


def labelled(values: pd.Series, missing: str) -> pd.Series:
    """``values`` as plain strings (categories dropped), NA shown as ``missing``."""
    return values.astype(object).where(values.notna(), missing).astype(str)


def counts(frame: pd.DataFrame, by: dict[str, list[str]]) -> pd.DataFrame:
    """Long table: one row per combination of the levels ``by`` gives for these columns,
    with its ``count`` of rows in ``frame`` (zeros included), in the levels' order."""
    names = list(by)
    every = pd.MultiIndex.from_product(list(by.values()), names=names)
    found = frame.groupby(names, observed=True).size()
    return found.reindex(every, fill_value=0).rename("count").reset_index()


def status_levels(statuses: pd.Series) -> list[str]:
    """The statuses that occur in ``statuses``, in the charts' stacking order (NA last)."""
    present = {*statuses.dropna().astype(str), UNKNOWN}
    order = levels(statuses, (*STATUS_ORDER, *MESSAGE_STATUSES), UNKNOWN)
    return [s for s in order if s in present]


def channel_levels(channels: pd.Series, *, senders: bool = False) -> list[str]:
    """Every channel (senders' or messages'), then others seen, then the NA label if any:
    ``unknown`` for senders, ``no sender`` for messages."""
    if senders:
        return levels(channels, SENDER_CHANNELS, UNKNOWN)
    return levels(channels, MESSAGE_CHANNELS, NO_SENDER)


def sender_status_levels(statuses: pd.Series) -> list[str]:
    """ACTIVATED, DEACTIVATED, then any other status seen, then ``unknown`` if NA."""
    return levels(statuses, SENDER_STATUSES, UNKNOWN)


def finish(
    fig: go.Figure,
    title: str,
    *,
    subtitle: str | None = None,
    x: str | None = None,
    y: str | None = None,
    legend: str | None = None,
) -> go.Figure:
    """Apply the project template, the title, axis titles and the legend title."""
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "subtitle": {"text": subtitle or ""}},
        legend_title_text=legend,
    )
    if x is not None:
        fig.update_xaxes(title_text=x)
    if y is not None:
        fig.update_yaxes(title_text=y)
    return fig


def count_axis(fig: go.Figure, axis: str, largest: float) -> None:
    """Whole-number ticks on a count axis: a step of 1 while the largest bar is small."""
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(tickformat=",d", rangemode="tozero", **({"dtick": 1} if largest <= 8 else {}))


def empty_figure(title: str, why: str | None = None) -> go.Figure:
    """An empty figure with the template, titled ``"<title>: no data"`` (then ``(why)``)."""
    fig = go.Figure()
    fig.update_layout(
        template=TEMPLATE,
        title={"text": f"{title}: no data" + (f" ({why})" if why else "")},
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": "No data to show",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 16, "color": "#7f7f7f"},
            }
        ],
    )
    return fig


def plural(n: int, word: str) -> str:
    """``"1 sender"``, ``"3 senders"``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def counted(long: pd.DataFrame, word: str) -> pd.DataFrame:
    """``long`` with a ``words`` column: each ``count`` in words ("1 sender", "2 senders"),
    for hover texts (a plotly template cannot make "%{y} senders" agree with 1)."""
    return long.assign(words=[plural(int(n), word) for n in long["count"]])


LABEL_WIDTH = 32  # axis labels longer than this are cut, ending with "…"


def shortened(text: str, width: int = LABEL_WIDTH) -> str:
    """``text`` cut to ``width`` characters, the last one "…", when longer."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def drawn(long: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The rows of a ``counts`` table whose trace (one per value of ``keys``) counts
    something: a trace of zeros is not drawn, so the legend lists only what is drawn."""
    totals = long.groupby(keys, sort=False)["count"].transform("sum")
    return long[totals > 0]


def interval_bars(
    rate: Iterable[float],
    low: Iterable[float],
    high: Iterable[float],
    *,
    color: str = "#555555",
    thickness: float = 1,
    width: float = 3,
) -> dict[str, Any]:
    """Error bars (plotly's ``error_x`` / ``error_y``) from each rate to the bounds of its
    95% Wilson interval: the one way every chart draws a rate's uncertainty."""
    rates, lows, highs = (pd.Series(list(v), dtype=float) for v in (rate, low, high))
    return {
        "type": "data",
        "symmetric": False,
        "array": list(highs - rates),
        "arrayminus": list(rates - lows),
        "color": color,
        "thickness": thickness,
        "width": width,
    }


def rate_colors(rates: Iterable[float]) -> list[str]:
    """Each rate's colour on ``RATE_SCALE``, as a CSS ``rgb(...)`` colour.

    Bars get their colours as CSS colours, not as numbers on a colour axis: plotly.js
    draws the bars right either way but warns "Invalid color specifier" twice or more for
    every bar given a number."""
    scale = [[stop, color] for stop, color in RATE_SCALE]
    return [str(c) for c in sample_colorscale(scale, [min(max(r, 0.0), 1.0) for r in rates])]
