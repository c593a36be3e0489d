"""The live view of a send: an events frame in, a plotly ``FigureWidget`` that updates in place.

``send_progress(events)`` reads an events frame (``frames.schema.EVENT_COLUMNS``: what
``ct.EventReceiver.frame()`` gives) into one row per message: its status now (the status of
its last event), the channel of its last attempt (``no sender`` when none took it), and when
it was first DELIVERED (a READ message keeps that moment). ``live_send(events)`` draws it:
outcomes by channel (messages now in each status, stacked) and delivery over time (how many
messages were delivered, and how many had a final status, by seconds since the send's first
event). ``update_live_send(figure, events)`` redraws the same figure from a newer frame, so a
view that watches a receiver moves as events arrive, with no polling.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import metrics
from ..errors import InvalidInputError
from ..frames.schema import EVENT_COLUMNS, NO_SENDER
from ._base import COLORS, TEMPLATE_NAME, channel_levels

PROGRESS_COLUMNS = ("message_id", "channel", "status", "delivered_s", "final_s")
# Bars, bottom-up as in every chart: outcomes, then messages in flight.
BAR_STATUSES = ("DELIVERED", "READ", "UNDELIVERED", "FAILED", "SENT", "QUEUED")
FINAL = (*metrics.RATED_STATUSES,)
TITLE = "Live send"
SMALL = 8  # up to this many messages, a tick per message


def send_progress(events: pd.DataFrame) -> pd.DataFrame:
    """One row per message of ``events`` (``PROGRESS_COLUMNS``): ``status`` of its last event,
    ``channel`` of its last attempt with a sender (``no sender`` otherwise), ``delivered_s`` /
    ``final_s``: seconds from the first event of ``events`` to its first DELIVERED event / its
    first event with a final status (NaN when none yet). Operation events count for the start
    only. ``InvalidInputError`` names the columns an events frame lacks."""
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise InvalidInputError(
            f"events: not an events frame (ct.EventReceiver.frame()); missing {missing}",
            field="events",
            allowed=EVENT_COLUMNS,
        )
    if events.empty:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in PROGRESS_COLUMNS})
    start = events["time"].min()
    messages = events[events["message_id"].notna() & events["status"].notna()]
    seconds = (messages["time"] - start).dt.total_seconds()
    grouped = messages.assign(_s=seconds).groupby("message_id", sort=False)
    last = grouped.tail(1).set_index("message_id")  # the frame is in the order things happened
    senders = messages[messages["sender_channel"].notna()].groupby("message_id").tail(1)
    channel = senders.set_index("message_id")["sender_channel"]
    delivered = messages.assign(_s=seconds)[messages["status"] == "DELIVERED"]
    final = messages.assign(_s=seconds)[messages["status"].isin(FINAL)]
    frame = pd.DataFrame(
        {
            "message_id": last.index.astype(str),
            "channel": channel.reindex(last.index).fillna(NO_SENDER).astype(str).to_numpy(),
            "status": last["status"].astype(str).to_numpy(),
            "delivered_s": delivered.groupby("message_id")["_s"].min().reindex(last.index),
            "final_s": final.groupby("message_id")["_s"].min().reindex(last.index),
        }
    )
    return frame.reset_index(drop=True)


def _dtype(column: str) -> str:
    return "float64" if column.endswith("_s") else "object"


def outcome_counts(progress: pd.DataFrame) -> pd.DataFrame:
    """Messages by channel (rows, the charts' channel order) and status now (columns,
    ``BAR_STATUSES``): what the live view's bars show."""
    channels = channel_levels(progress["channel"].where(progress["channel"] != NO_SENDER))
    shown = [c for c in channels if c in set(progress["channel"])]
    table = pd.crosstab(progress["channel"], progress["status"])
    return table.reindex(index=shown, columns=list(BAR_STATUSES), fill_value=0)


def delivery_curve(progress: pd.DataFrame, column: str = "delivered_s") -> pd.Series:
    """How many messages had reached ``column`` (``delivered_s`` or ``final_s``) by each
    moment: a step series indexed by seconds since the first event."""
    moments = progress[column].dropna().sort_values()
    return pd.Series(range(1, len(moments) + 1), index=moments.to_numpy(), dtype="int64")


def live_send(events: pd.DataFrame, *, title: str = TITLE) -> go.FigureWidget:
    """The live view's figure (outcomes by channel | delivery over time) drawn from
    ``events``; ``update_live_send`` redraws it in place."""
    base = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.45, 0.55],
        subplot_titles=("Outcomes by channel", "Delivery over time"),
    )
    figure = go.Figure(base)
    for status in BAR_STATUSES:
        figure.add_trace(
            go.Bar(name=status, x=[], y=[], marker_color=COLORS[status], legendgroup="status"),
            row=1,
            col=1,
        )
    for name, color, dash in (("delivered", COLORS["DELIVERED"], None), ("final", "#555", "dot")):
        figure.add_trace(
            go.Scatter(
                name=name, x=[], y=[], mode="lines", line={"shape": "hv", "color": color,
                                                            "dash": dash},
            ),
            row=1,
            col=2,
        )  # fmt: skip
    figure.update_layout(template=TEMPLATE_NAME, barmode="stack", height=380)
    figure.update_xaxes(title_text="seconds since the send's first event", row=1, col=2)
    figure.update_yaxes(title_text="messages", row=1, col=1)
    figure.update_yaxes(title_text="messages", rangemode="tozero", row=1, col=2)
    update_live_send(figure, events, title=title)
    # Drawn before it becomes a widget: the widget's first state is then the whole figure
    # (a widget's later edits reach only a front end already showing it).
    return go.FigureWidget(figure)


def update_live_send(figure: go.Figure, events: pd.DataFrame, *, title: str = TITLE) -> None:
    """Redraw ``figure`` (made by ``live_send``) from ``events``, in one update (one message
    to the browser for a ``FigureWidget``)."""
    progress = send_progress(events)
    counts = outcome_counts(progress)
    curves = [delivery_curve(progress, "delivered_s"), delivery_curve(progress, "final_s")]
    n_final = int(progress["status"].isin(FINAL).sum())
    n_delivered = int(progress["status"].isin(metrics.DELIVERED_STATUSES).sum())
    with figure.batch_update():
        for trace, status in zip(figure.data[: len(BAR_STATUSES)], BAR_STATUSES, strict=True):
            trace.x = list(counts.index)
            trace.y = [int(v) for v in counts[status]]
        for trace, curve in zip(figure.data[len(BAR_STATUSES) :], curves, strict=True):
            trace.x = [0.0, *curve.index.tolist()]
            trace.y = [0, *curve.tolist()]
        most = max([1, len(progress)])
        figure.update_yaxes(dtick=1 if most <= SMALL else None)  # no half messages
        figure.layout.title.text = (
            f"{title}: {len(progress):,} messages, {n_final:,} final, {n_delivered:,} "
            "delivered (DELIVERED or READ)"
        )
