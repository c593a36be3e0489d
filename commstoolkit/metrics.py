"""The metrics of a test send: one definition each (design.md §4a), one place.

Every number the summary, the charts, the widgets and notebook 03 show is computed here,
as a pure function of the messages frame (``frames.MESSAGE_COLUMNS``). A count or a rate
is a ``Rate``: its numerator, its denominator and what was left out of the denominator
(``excluded``: reason -> messages), so a number can always be checked against the frame.
A time is a ``Durations``: the seconds of the messages it is measured on, and what was
left out. The README's "Metrics" glossary says the same in a table.

- *final*: DELIVERED, READ, UNDELIVERED, FAILED or CANCELED (the status no longer changes,
  except DELIVERED, which may still become READ);
- *delivered*: DELIVERED or READ;
- *rated*: DELIVERED, READ, UNDELIVERED or FAILED — the outcomes a sender answers for;
  *delivery rate* = delivered / rated (CANCELED and messages in flight do not count);
- *error rate* = (UNDELIVERED or FAILED) / rated;
- *RCS first*: the message's first attempt was RCS; *fallback*: RCS first and went out
  again over SMS; *fallback rate* = fallbacks / RCS-first messages;
- *unaddressable*: a final message no sender took (no attempt, no sender, no channel:
  "no sender" in tables and charts);
- *time to delivered*: seconds from creation to the final DELIVERED / UNDELIVERED / FAILED
  status (``updated_at`` is then the moment of that status); a READ message's
  ``updated_at`` is when it was read, its delivery moment is not in the data, so it is
  left out here (and measured by *time to read*) unless a load saw it DELIVERED while
  ``TestSend`` tracked it (``seen_delivered_s``);
- *time to read*: seconds from creation to READ;
- *read rate* (engagement) = READ / delivered, over the messages delivered on a channel that
  reports reads (RCS, WhatsApp; SMS has no read receipts).

The 95% Wilson interval of a rate, Fisher's exact test and the Benjamini-Hochberg
correction are ``commstoolkit.uncertainty``'s (pure Python), re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .models import FINAL_MESSAGE_STATUSES
from .uncertainty import benjamini_hochberg as benjamini_hochberg
from .uncertainty import fisher_lower_p as fisher_lower_p
from .uncertainty import fisher_two_sided_p as fisher_two_sided_p
from .uncertainty import wilson_interval as wilson_interval

__all__ = [
    "DELIVERED_STATUSES",
    "FINAL_STATUSES",
    "PERCENTILES",
    "RATED_STATUSES",
    "READ_CHANNELS",
    "Durations",
    "Rate",
    "benjamini_hochberg",
    "delivered",
    "delivery_rate",
    "error_rate",
    "fallback_rate",
    "fallbacks",
    "final",
    "fisher_lower_p",
    "fisher_two_sided_p",
    "rcs_first",
    "read_rate",
    "time_to_delivered",
    "time_to_read",
    "unaddressable",
    "wilson_interval",
]

FINAL_STATUSES = FINAL_MESSAGE_STATUSES
DELIVERED_STATUSES = ("DELIVERED", "READ")
RATED_STATUSES = ("DELIVERED", "READ", "UNDELIVERED", "FAILED")
ERROR_STATUSES = ("UNDELIVERED", "FAILED")
# A time to delivered is known for these: updated_at is the moment of that status.
DELIVERY_MOMENT_STATUSES = ("DELIVERED", "UNDELIVERED", "FAILED")
PERCENTILES = (0.5, 0.9, 0.99)
# The channels whose messages report being read (SMS has no read receipts).
READ_CHANNELS = ("RCS", "WHATSAPP")


@dataclass(frozen=True)
class Rate:
    """A count over a denominator: ``numerator`` of ``denominator`` messages, with the
    messages left out of the denominator by reason (``excluded``). ``value`` is the ratio
    (NaN over nothing); ``interval()`` its Wilson interval."""

    name: str
    numerator: int
    denominator: int
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def value(self) -> float:
        """numerator / denominator, NaN when the denominator is 0."""
        return self.numerator / self.denominator if self.denominator else float("nan")

    @property
    def n_excluded(self) -> int:
        """How many messages were left out of the denominator, all reasons together."""
        return sum(self.excluded.values())

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """The Wilson score interval of ``value`` (NaN, NaN over nothing)."""
        return wilson_interval(self.numerator, self.denominator, confidence)

    def __str__(self) -> str:
        shown = "n/a" if self.denominator == 0 else f"{self.value:.1%}"
        return f"{self.name} {shown} ({self.numerator:,} of {self.denominator:,})"


@dataclass(frozen=True)
class Durations:
    """Seconds measured on some messages (``seconds``, indexed like the frame) and the
    messages left out by reason (``excluded``)."""

    name: str
    seconds: pd.Series
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """How many messages the times are measured on."""
        return len(self.seconds)

    @property
    def n_excluded(self) -> int:
        return sum(self.excluded.values())

    def percentiles(self) -> pd.Series:
        """p50, p90, p99 and max, in seconds (NaN when there is no time)."""
        labels = [f"p{round(q * 100)}" for q in PERCENTILES] + ["max"]
        values = self.seconds.astype(float)
        if values.empty:
            return pd.Series([float("nan")] * len(labels), index=labels, name=self.name)
        points = [float(values.quantile(q)) for q in PERCENTILES] + [float(values.max())]
        return pd.Series(points, index=labels, name=self.name)

    def median(self) -> float:
        return float(self.seconds.median()) if self.n else float("nan")


# -- masks over the messages frame ---------------------------------------------------------


def _status(messages: pd.DataFrame, statuses: Sequence[str]) -> pd.Series:
    return messages["status"].isin(statuses).astype(bool)


def _no_sender(messages: pd.DataFrame) -> pd.Series:
    return messages["sender_id"].isna().astype(bool)


def _unaddressable_mask(messages: pd.DataFrame) -> pd.Series:
    """Final and no sender took it (an unaddressable message is created FAILED)."""
    return _status(messages, FINAL_STATUSES) & _no_sender(messages)


def _excluded(**counts: Any) -> dict[str, int]:
    return {reason: int(n) for reason, n in counts.items() if int(n)}


# -- counts and rates ---------------------------------------------------------------------


def final(messages: pd.DataFrame) -> Rate:
    """Final messages (DELIVERED, READ, UNDELIVERED, FAILED, CANCELED) over every message.

    Denominator: all messages; excludes nothing."""
    return Rate("final", int(_status(messages, FINAL_STATUSES).sum()), len(messages))


def delivered(messages: pd.DataFrame) -> Rate:
    """Delivered messages (DELIVERED or READ) over every message.

    Denominator: all messages; excludes nothing (see ``delivery_rate`` for the rate)."""
    return Rate("delivered", int(_status(messages, DELIVERED_STATUSES).sum()), len(messages))


def delivery_rate(messages: pd.DataFrame) -> Rate:
    """Delivered (DELIVERED or READ) over rated messages (DELIVERED, READ, UNDELIVERED,
    FAILED).

    Denominator: the rated messages, unaddressable ones included (they FAILED); excludes
    CANCELED messages ("canceled") and messages not final yet ("in flight")."""
    rated = _status(messages, RATED_STATUSES)
    return Rate(
        "delivery rate",
        int(_status(messages, DELIVERED_STATUSES).sum()),
        int(rated.sum()),
        _excluded(
            canceled=_status(messages, ("CANCELED",)).sum(),
            in_flight=(~_status(messages, FINAL_STATUSES)).sum(),
        ),
    )


def error_rate(messages: pd.DataFrame) -> Rate:
    """UNDELIVERED or FAILED over rated messages (as ``delivery_rate``: 1 - that rate).

    Denominator and exclusions as ``delivery_rate``."""
    rate = delivery_rate(messages)
    errors = int(_status(messages, ERROR_STATUSES).sum())
    return Rate("error rate", errors, rate.denominator, rate.excluded)


def unaddressable(messages: pd.DataFrame) -> Rate:
    """Unaddressable messages (final, no sender: no attempt, no channel) over every message.

    Denominator: all messages; excludes nothing. A message not final yet with no sender
    is not counted (it may still be sent)."""
    return Rate("unaddressable", int(_unaddressable_mask(messages).sum()), len(messages))


def rcs_first(messages: pd.DataFrame) -> pd.Series:
    """Per message: its first attempt was RCS (boolean, NA where the attempts were not
    loaded). A fallback is always an RCS attempt followed by another (the API falls back
    from RCS only), so: ``fallback`` true, or no fallback and the final channel RCS."""
    fell_back = messages["fallback"].astype("boolean")
    on_rcs = (messages["channel"] == "RCS").fillna(False).astype(bool)
    first = fell_back | on_rcs
    return first.mask(fell_back.isna(), pd.NA).astype("boolean")


def _fallback_masks(messages: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(RCS first, fell back onto SMS, attempts unknown) as plain boolean masks."""
    first = rcs_first(messages)
    unknown = first.isna().to_numpy(bool)
    first_ = first.fillna(False).to_numpy(bool)
    fell = messages["fallback"].astype("boolean").fillna(False).to_numpy(bool)
    on_sms = (messages["channel"] == "SMS").fillna(False).to_numpy(bool)
    index = messages.index
    return (
        pd.Series(first_, index=index),
        pd.Series(first_ & fell & on_sms, index=index),
        pd.Series(unknown, index=index),
    )


def fallbacks(messages: pd.DataFrame) -> pd.Series:
    """Per message: it is a fallback (first attempt RCS, went out again over SMS)."""
    return _fallback_masks(messages)[1]


def fallback_rate(messages: pd.DataFrame) -> Rate:
    """Fallbacks (first attempt RCS, went out again over SMS) over RCS-first messages.

    Denominator: messages whose first attempt was RCS. Excludes messages whose first
    attempt was not RCS ("not RCS first": SMS or WhatsApp first, no sender) and those
    whose attempts were not loaded ("attempts not loaded": never guessed)."""
    first, fell, unknown = _fallback_masks(messages)
    return Rate(
        "fallback rate",
        int(fell.sum()),
        int(first.sum()),
        _excluded(
            not_rcs_first=(~first & ~unknown).sum(),
            attempts_not_loaded=unknown.sum(),
        ),
    )


def read_rate(messages: pd.DataFrame) -> Rate:
    """READ over delivered messages (DELIVERED or READ) on a channel that reports reads
    (``READ_CHANNELS``: RCS, WhatsApp).

    Denominator: the delivered messages on those channels. Excludes delivered messages on
    channels without read receipts ("no read receipts": SMS) and every message not
    delivered ("not delivered")."""
    delivered_ = _status(messages, DELIVERED_STATUSES)
    reporting = messages["channel"].isin(READ_CHANNELS).fillna(False).astype(bool)
    eligible = delivered_ & reporting
    return Rate(
        "read rate",
        int((eligible & _status(messages, ("READ",))).sum()),
        int(eligible.sum()),
        _excluded(
            no_read_receipts=(delivered_ & ~reporting).sum(), not_delivered=(~delivered_).sum()
        ),
    )


# -- times ----------------------------------------------------------------------------------


def _seconds(messages: pd.DataFrame, mask: pd.Series) -> pd.Series:
    seconds = messages.loc[mask, "latency_s"].astype(float)
    return seconds.rename("seconds")


def time_to_delivered(messages: pd.DataFrame) -> Durations:
    """Seconds from creation to the DELIVERED, UNDELIVERED or FAILED status, for the
    messages at that status with a sender (``updated_at`` is then that status's moment,
    to the API's whole seconds), and for the READ messages whose DELIVERED moment a load
    saw while tracking (the ``seen_delivered_s`` column, when the frame has it: the same
    whole seconds).

    Excludes the other READ messages ("READ": their delivery moment is not in the data,
    only when they were read — see ``time_to_read``), unaddressable ones ("unaddressable":
    never sent, no time), CANCELED ones ("canceled") and messages not final yet ("in
    flight")."""
    known = _status(messages, DELIVERY_MOMENT_STATUSES) & ~_no_sender(messages)
    timed = known & messages["latency_s"].notna().to_numpy(bool)
    read = _status(messages, ("READ",))
    if "seen_delivered_s" in messages.columns:
        seen = read & messages["seen_delivered_s"].notna().to_numpy(bool)
    else:
        seen = pd.Series(False, index=messages.index)
    values = messages["latency_s"].astype(float)
    if seen.any():
        values = values.where(~seen, messages["seen_delivered_s"].astype(float))
    seconds = values[(timed | seen).to_numpy(bool)].rename("seconds")
    return Durations(
        "time to delivered (s)",
        seconds,
        _excluded(
            READ=(read & ~seen).sum(),
            unaddressable=_unaddressable_mask(messages).sum(),
            canceled=(_status(messages, ("CANCELED",)) & ~_no_sender(messages)).sum(),
            in_flight=(~_status(messages, FINAL_STATUSES)).sum(),
            no_time=(known & ~timed).sum(),
        ),
    )


def time_to_read(messages: pd.DataFrame) -> Durations:
    """Seconds from creation to READ, for READ messages.

    Excludes every other message ("not read": not read, or not yet)."""
    read = _status(messages, ("READ",))
    timed = read & messages["latency_s"].notna().to_numpy(bool)
    return Durations(
        "time to read (s)",
        _seconds(messages, timed),
        _excluded(not_read=(~read).sum(), no_time=(read & ~timed).sum()),
    )
