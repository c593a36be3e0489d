"""``SendSummary``: what a test send's messages frame says, in a few numbers and tables.

Every number is computed by ``commstoolkit.metrics`` (one definition each, see the README's
"Metrics" glossary) from the messages frame (``frames.messages_frame``), so it can be
checked against the frame: *delivered* means DELIVERED or READ; the delivery rate is
delivered over rated messages (DELIVERED, READ, UNDELIVERED, FAILED); the fallback rate is
over messages whose first attempt was RCS, NaN when the attempts were not loaded (large
sends) — never guessed; time to delivered leaves READ and unaddressable messages out, time
to read is apart.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from .. import metrics
from ..frames import NO_SENDER
from ..metrics import DELIVERED_STATUSES, PERCENTILES
from ..models import MESSAGE_STATUSES

__all__ = ["DELIVERED_STATUSES", "PERCENTILES", "SendSummary", "summarise"]

# The statuses of a message sent out (GROUP and INBOUND are not: a group, a reply).
OUTBOUND_STATUSES = tuple(s for s in MESSAGE_STATUSES if s not in ("GROUP", "INBOUND"))
_NA = "—"  # how the HTML tables show a missing value
_TABLE_COLUMNS = (
    "messages",
    "final",
    "rated",
    "delivered",
    "delivery_rate",
    "delivery_rate_low",
    "delivery_rate_high",
    "rcs_first",
    "fallbacks",
    "delivered_p50_s",
    "read_p50_s",
)


@dataclass(frozen=True, repr=False)
class SendSummary:
    """A test send in numbers, each from ``commstoolkit.metrics``.

    - ``messages``, ``final``, ``delivered``, ``unaddressable`` (final messages no sender
      took), ``fallbacks`` (RCS first, then SMS; None when the attempts were not loaded):
      counts;
    - ``delivery_rate``: delivered / rated (DELIVERED, READ, UNDELIVERED, FAILED; CANCELED
      and messages in flight left out); ``fallback_rate``: fallbacks / messages whose
      first attempt was RCS (NaN when the attempts were not loaded); ``delivery`` and
      ``fallback``: the same as ``metrics.Rate`` (numerator, denominator, exclusions);
    - ``time_to_delivered_s``: percentiles (p50, p90, p99) and max of the seconds to the
      DELIVERED / UNDELIVERED / FAILED status (READ and unaddressable messages left out);
      ``time_to_read_s``: the same for READ messages; ``to_delivered`` / ``to_read``: the
      ``metrics.Durations`` behind them (their ``excluded`` counts);
    - ``by_status``: count per status of an outbound message (every one, zeros included:
      SCHEDULED, QUEUED, SENT, DELIVERED, READ, UNDELIVERED, FAILED, CANCELED); GROUP and
      INBOUND, which no test send's message takes, only when some message has them;
    - ``by_channel``, ``by_sender``: one row per channel / per sender with ``messages,
      final, rated, delivered, delivery_rate, delivery_rate_low, delivery_rate_high`` (the
      rate's 95% Wilson interval, ``metrics.wilson_interval``), ``rcs_first, fallbacks,
      delivered_p50_s, read_p50_s``; the messages no sender took (NA ``sender_id`` and
      ``channel`` in the frame, e.g. unaddressable) are the channel "no sender"
      (``frames.NO_SENDER``), last, with NA sender id and address.
    """

    messages: int
    final: int
    delivered: int
    fallbacks: int | None
    unaddressable: int
    delivery_rate: float
    fallback_rate: float
    delivery: metrics.Rate
    fallback: metrics.Rate
    to_delivered: metrics.Durations
    to_read: metrics.Durations
    time_to_delivered_s: pd.Series
    time_to_read_s: pd.Series
    by_status: pd.Series
    by_channel: pd.DataFrame
    by_sender: pd.DataFrame

    def __str__(self) -> str:
        statuses = ", ".join(f"{k} {v:,}" for k, v in self.by_status.items() if v) or "none"
        channels = ", ".join(f"{k} {v:,}" for k, v in self.by_channel["messages"].items())
        fallback = self.fallback
        return "\n".join(
            [
                f"{self.messages:,} messages, {self.final:,} final, {self.delivered:,} "
                f"delivered (delivery rate {_pct(self.delivery_rate)} of "
                f"{self.delivery.denominator:,} rated, 95% CI {_interval(self.delivery)}), "
                "fallback rate "
                f"{_pct(self.fallback_rate)} ({fallback.numerator:,} of "
                f"{fallback.denominator:,} RCS-first), {self.unaddressable:,} unaddressable",
                _times(self.to_delivered, self.time_to_delivered_s),
                _times(self.to_read, self.time_to_read_s),
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


def _interval(rate: metrics.Rate) -> str:
    low, high = rate.interval()
    return "n/a" if low != low else f"{low:.1%}–{high:.1%}"


def _times(durations: metrics.Durations, points: pd.Series) -> str:
    shown = ", ".join(f"{k} {_num(v)}" for k, v in points.items())
    left_out = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in durations.excluded.items())
    return f"{durations.name}, n={durations.n:,}: {shown}" + (
        f" (excluded: {left_out})" if left_out else ""
    )


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
    frame = messages.assign(channel=_channel_labels(messages["channel"]))
    delivery = metrics.delivery_rate(messages)
    fallback = metrics.fallback_rate(messages)
    attempts_known = "attempts_not_loaded" not in fallback.excluded
    to_delivered, to_read = metrics.time_to_delivered(messages), metrics.time_to_read(messages)
    return SendSummary(
        messages=len(messages),
        final=metrics.final(messages).numerator,
        delivered=metrics.delivered(messages).numerator,
        fallbacks=fallback.numerator if attempts_known else None,
        unaddressable=metrics.unaddressable(messages).numerator,
        delivery_rate=delivery.value,
        fallback_rate=fallback.value if attempts_known else float("nan"),
        delivery=delivery,
        fallback=fallback,
        to_delivered=to_delivered,
        to_read=to_read,
        time_to_delivered_s=to_delivered.percentiles(),
        time_to_read_s=to_read.percentiles(),
        by_status=_by_status(messages["status"]),
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


def _row(group: pd.DataFrame) -> dict[str, object]:
    """One table row: the metrics of one channel's or sender's messages."""
    delivery = metrics.delivery_rate(group)
    fallback = metrics.fallback_rate(group)
    known = "attempts_not_loaded" not in fallback.excluded
    low, high = delivery.interval()
    return {
        "messages": len(group),
        "final": metrics.final(group).numerator,
        "rated": delivery.denominator,
        "delivered": metrics.delivered(group).numerator,
        "delivery_rate": delivery.value,
        "delivery_rate_low": low,
        "delivery_rate_high": high,
        "rcs_first": fallback.denominator if known else pd.NA,
        "fallbacks": fallback.numerator if known else pd.NA,
        "delivered_p50_s": metrics.time_to_delivered(group).median(),
        "read_p50_s": metrics.time_to_read(group).median(),
    }


def _table(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per group of ``keys`` (the "no sender" channel last), every number from
    ``metrics`` over the group's messages (its channel column is the labelled one; the
    metrics read ``sender_id`` for "no sender")."""
    grouped = frame.groupby(keys, observed=True, dropna=False, sort=True)
    names, rows = [], []
    for name, group in grouped:
        names.append(name if isinstance(name, tuple) else (name,))
        rows.append(_row(group))
    if len(keys) > 1:
        index = pd.MultiIndex.from_tuples(names, names=keys) if names else grouped.size().index
    else:
        index = pd.Index([n[0] for n in names], name=keys[0], dtype=frame[keys[0]].dtype)
    table = pd.DataFrame(rows, columns=list(_TABLE_COLUMNS), index=index)
    for column in ("messages", "final", "rated", "delivered"):
        table[column] = table[column].astype("int64")
    for column in ("rcs_first", "fallbacks"):
        table[column] = pd.array(list(table[column]), dtype="Int64")
    for column in (
        "delivery_rate",
        "delivery_rate_low",
        "delivery_rate_high",
        "delivered_p50_s",
        "read_p50_s",
    ):
        table[column] = table[column].astype("float64")
    return table


def _pct(rate: float) -> str:
    return "n/a" if rate != rate else f"{rate:.1%}"


def _num(value: float) -> str:
    return "n/a" if value != value else f"{value:.2f}"
