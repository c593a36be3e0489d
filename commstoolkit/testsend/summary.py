"""``SendSummary``: what a test send's messages frame says, in a few numbers and tables.

Every number is counted from the messages frame (``frames.messages_frame``), so it can be
checked against the frame: *delivered* means DELIVERED or READ; a message is *final* once
its status no longer changes (DELIVERED, READ, UNDELIVERED, FAILED, CANCELED); rates are
NaN when there is nothing to divide by, and the fallback rate is NaN when the attempts
were not loaded (large sends) — never guessed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from ..frames import NO_SENDER
from ..models import FINAL_MESSAGE_STATUSES, MESSAGE_STATUSES

__all__ = ["DELIVERED_STATUSES", "PERCENTILES", "SendSummary", "summarise"]

DELIVERED_STATUSES = ("DELIVERED", "READ")
# The statuses of a message sent out (GROUP and INBOUND are not: a group, a reply).
OUTBOUND_STATUSES = tuple(s for s in MESSAGE_STATUSES if s not in ("GROUP", "INBOUND"))
PERCENTILES = (0.5, 0.9, 0.99)
_NA = "—"  # how the HTML tables show a missing value
_TABLE_COLUMNS = ("messages", "final", "delivered", "delivery_rate", "fallbacks", "latency_p50_s")


@dataclass(frozen=True, repr=False)
class SendSummary:
    """A test send in numbers.

    - ``messages``, ``final``, ``delivered``, ``fallbacks`` (NA without attempts),
      ``unaddressable`` (messages with no attempt; NA without attempts): counts;
    - ``delivery_rate``: delivered / final; ``fallback_rate``: fallbacks / messages whose
      attempts are known;
    - ``latency_s``: percentiles (p50, p90, p99) and max of ``latency_s`` over final
      messages (seconds from creation to the last status change);
    - ``by_status``: count per status of an outbound message (every one, zeros included:
      SCHEDULED, QUEUED, SENT, DELIVERED, READ, UNDELIVERED, FAILED, CANCELED); GROUP and
      INBOUND, which no test send's message takes, only when some message has them;
    - ``by_channel``, ``by_sender``: one row per channel / per sender with ``messages,
      final, delivered, delivery_rate, fallbacks, latency_p50_s``; the messages no sender
      took (NA ``sender_id`` and ``channel`` in the frame, e.g. unaddressable) are the
      channel "no sender" (``frames.NO_SENDER``), last, with NA sender id and address.
    """

    messages: int
    final: int
    delivered: int
    fallbacks: int | None
    unaddressable: int | None
    delivery_rate: float
    fallback_rate: float
    latency_s: pd.Series
    by_status: pd.Series
    by_channel: pd.DataFrame
    by_sender: pd.DataFrame

    def __str__(self) -> str:
        statuses = ", ".join(f"{k} {v:,}" for k, v in self.by_status.items() if v) or "none"
        channels = ", ".join(f"{k} {v:,}" for k, v in self.by_channel["messages"].items())
        latency = ", ".join(f"{k} {_num(v)}" for k, v in self.latency_s.items())
        return "\n".join(
            [
                f"{self.messages:,} messages, {self.final:,} final, {self.delivered:,} "
                f"delivered (delivery rate {_pct(self.delivery_rate)}, fallback rate "
                f"{_pct(self.fallback_rate)})",
                f"latency (s): {latency}",
                f"by status: {statuses}",
                f"by channel: {channels or 'none'}",
            ]
        )

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = html.escape(str(self)).replace("\n", "<br>")
        tables = "".join(
            f"<details open><summary>{label}</summary>"
            f"{_shown(frame).to_html(na_rep=_NA, float_format=lambda x: f'{x:.3g}', border=0)}"
            "</details>"
            for label, frame in (("By channel", self.by_channel), ("By sender", self.by_sender))
        )
        return f"<div class='commstoolkit-summary'><p>{head}</p>{tables}</div>"


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with NA in its index (the "no sender" row's sender id and address) shown
    as "—" like NA values, where pandas would write "<NA>"."""
    index = table.index
    if isinstance(index, pd.MultiIndex):
        levels = [index.get_level_values(i) for i in range(index.nlevels)]
        shown = [level.astype(object).where(level.notna(), _NA) for level in levels]
        return table.set_axis(pd.MultiIndex.from_arrays(shown, names=index.names))
    return table.set_axis(index.astype(object).where(index.notna(), _NA))


def summarise(messages: pd.DataFrame) -> SendSummary:
    """Summarise a messages frame (columns as ``frames.MESSAGE_COLUMNS``)."""
    frame = _flags(messages)
    frame["channel"] = _channel_labels(frame["channel"])
    known = frame["fallback"].notna()
    all_known = bool(known.all())
    fallbacks = int(frame["fallback"].sum()) if all_known else None
    return SendSummary(
        messages=len(frame),
        final=int(frame["_final"].sum()),
        delivered=int(frame["_delivered"].sum()),
        fallbacks=fallbacks,
        unaddressable=int((frame["n_attempts"] == 0).sum()) if all_known else None,
        delivery_rate=_rate(frame["_delivered"].sum(), frame["_final"].sum()),
        fallback_rate=_rate(frame.loc[known, "fallback"].sum(), known.sum()),
        latency_s=_percentiles(frame.loc[frame["_final"], "latency_s"]),
        by_status=_by_status(frame["status"]),
        by_channel=_table(frame, ["channel"]),
        by_sender=_table(frame, ["sender_id", "sender_address", "channel"]),
    )


def _by_status(status: pd.Series) -> pd.Series:
    """Messages per outbound status (zeros included), then any other status present."""
    counts = status.value_counts(sort=False)
    others = [s for s in counts.index if s not in OUTBOUND_STATUSES and counts[s] > 0]
    shown = counts.reindex([*OUTBOUND_STATUSES, *others], fill_value=0)
    return shown.rename_axis("status").rename("messages")


def _channel_labels(channel: pd.Series) -> pd.Series:
    """The channel with NA (no sender) as ``NO_SENDER``: a categorical ending in it."""
    if not isinstance(channel.dtype, pd.CategoricalDtype):
        channel = channel.astype("category")
    if NO_SENDER not in channel.cat.categories:
        channel = channel.cat.add_categories([NO_SENDER])
    return channel.fillna(NO_SENDER)


def _flags(messages: pd.DataFrame) -> pd.DataFrame:
    return messages.assign(
        _final=messages["status"].isin(FINAL_MESSAGE_STATUSES).astype(bool),
        _delivered=messages["status"].isin(DELIVERED_STATUSES).astype(bool),
    )


def _table(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = frame.groupby(keys, observed=True, dropna=False, sort=True)
    table = pd.DataFrame(
        {
            "messages": grouped.size().astype("int64"),
            "final": grouped["_final"].sum().astype("int64"),
            "delivered": grouped["_delivered"].sum().astype("int64"),
            "fallbacks": grouped["fallback"].sum().astype("Int64"),
            "latency_p50_s": grouped["latency_s"].median(),
        }
    )
    if frame["fallback"].isna().any():
        table["fallbacks"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table["delivery_rate"] = table["delivered"] / table["final"].where(table["final"] > 0)
    return table.loc[:, list(_TABLE_COLUMNS)]


def _percentiles(latency: pd.Series) -> pd.Series:
    values = latency.dropna()
    labels = [f"p{round(q * 100)}" for q in PERCENTILES] + ["max"]
    if values.empty:
        return pd.Series([float("nan")] * len(labels), index=labels, name="latency_s")
    points = [float(values.quantile(q)) for q in PERCENTILES] + [float(values.max())]
    return pd.Series(points, index=labels, name="latency_s")


def _rate(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else float("nan")


def _pct(rate: float) -> str:
    return "n/a" if rate != rate else f"{rate:.1%}"


def _num(value: float) -> str:
    return "n/a" if value != value else f"{value:.2f}"
