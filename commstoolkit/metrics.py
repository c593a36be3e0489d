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
- with the API's events (``events=``, the frame of ``ct.load_events`` / ``EventReceiver``)
  the same two times are exact: the moment of the status comes from its event (to the
  millisecond), and a READ message keeps its DELIVERED moment (its ``message.delivered``
  event), so it counts in *time to delivered* too; creation stays the message's
  ``created_at``. ``event_times`` gives each message's moments;
- *error codes*: per error code, the failed attempts (UNDELIVERED or FAILED) that carried it
  over every failed attempt (``error_codes``: from events, every attempt of a window; from
  an attempts frame, the attempts loaded);
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

from .errors import InvalidInputError
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
    "error_codes",
    "error_rate",
    "event_times",
    "failed_attempts",
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


def time_to_delivered(messages: pd.DataFrame, events: pd.DataFrame | None = None) -> Durations:
    """Seconds from creation to the DELIVERED, UNDELIVERED or FAILED status, for the
    messages at that status with a sender (``updated_at`` is then that status's moment,
    to the API's whole seconds), and for the READ messages whose DELIVERED moment a load
    saw while tracking (the ``seen_delivered_s`` column, when the frame has it: the same
    whole seconds).

    Excludes the other READ messages ("READ": their delivery moment is not in the data,
    only when they were read — see ``time_to_read``), unaddressable ones ("unaddressable":
    never sent, no time), CANCELED ones ("canceled") and messages not final yet ("in
    flight").

    ``events`` (the events frame: ``ct.load_events``, ``EventReceiver.frame()``): the same
    definition with the moment of the status read from its event, to the millisecond
    (``event_times``: the outcome event of the message's last attempt), and every READ
    message timed by its DELIVERED event. A message whose events hold no such moment (none
    received, or not the status the frame shows) is left out ("no event")."""
    if events is not None:
        return _event_durations(messages, events, read=False)
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


def time_to_read(messages: pd.DataFrame, events: pd.DataFrame | None = None) -> Durations:
    """Seconds from creation to READ, for READ messages.

    Excludes every other message ("not read": not read, or not yet). ``events``: the READ
    moment from the message's ``message.read`` event, to the millisecond; a READ message
    without one is left out ("no event")."""
    if events is not None:
        return _event_durations(messages, events, read=True)
    read = _status(messages, ("READ",))
    timed = read & messages["latency_s"].notna().to_numpy(bool)
    return Durations(
        "time to read (s)",
        _seconds(messages, timed),
        _excluded(not_read=(~read).sum(), no_time=(read & ~timed).sum()),
    )


# -- events ---------------------------------------------------------------------------------

# The columns of the events frame (``events.records.COLUMNS``) the metrics read; metrics sit
# beside the events package (design.md §3) and take its frame as data.
EVENT_NEEDS = ("status", "time", "message_id", "attempt")
# Each status of a message event in the order an attempt goes through them.
EVENT_STAGES = {"QUEUED": 0, "SENT": 1, "DELIVERED": 2, "UNDELIVERED": 2, "FAILED": 2, "READ": 3}
EVENT_TIMES = (
    "n_attempts", "status", "queued_at", "outcome", "outcome_at", "delivered_at", "read_at",
)  # fmt: skip


EVENTS_FRAME = "the events frame (ct.load_events, EventReceiver.frame())"


def _needs(
    frame: pd.DataFrame, name: str, columns: Sequence[str], expected: str = EVENTS_FRAME
) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{name} lacks the column(s) {', '.join(missing)}: expected {expected}",
            field=name,
        )


def _message_events(events: pd.DataFrame) -> pd.DataFrame:
    """The message events, each (message, attempt, status) once (its first time), in time
    order: a sink may deliver an event twice, and frames may be concatenated."""
    _needs(events, "events", EVENT_NEEDS)
    status = events["status"].astype("string")
    mine = events.loc[status.isin(list(EVENT_STAGES)).to_numpy(bool) & events["message_id"].notna()]
    mine = mine.assign(status=mine["status"].astype("string"))
    mine = mine.sort_values("time", kind="stable")
    return mine.drop_duplicates(["message_id", "attempt", "status"])


def event_times(events: pd.DataFrame) -> pd.DataFrame:
    """Each message's moments as its events tell them, one row per message (index
    ``message_id``): ``n_attempts`` (its highest attempt; 0 for a message no sender could
    reach), ``status`` (the last status of that attempt: the message's status),
    ``queued_at`` (its first attempt queued), ``outcome`` / ``outcome_at`` (DELIVERED,
    UNDELIVERED or FAILED of the last attempt, and when), ``delivered_at`` (its DELIVERED
    event, kept once it is READ) and ``read_at``; NaT / NA where no such event came. Times
    are the events' (UTC, to the millisecond); each event counts once."""
    mine = _message_events(events)
    ids = pd.Index(mine["message_id"].unique(), name="message_id", dtype="string")
    attempt = mine["attempt"].astype("Int64").fillna(0)
    last = attempt.groupby(mine["message_id"]).transform("max")
    on_last = mine.loc[(attempt == last).to_numpy(bool)]
    # The message's status: the furthest stage its last attempt reached.
    latest = on_last.assign(_stage=on_last["status"].map(EVENT_STAGES))
    latest = latest.sort_values(["_stage", "time"], kind="stable")
    outcomes = on_last.loc[on_last["status"].isin(DELIVERY_MOMENT_STATUSES).to_numpy(bool)]
    outcome = outcomes.groupby("message_id")[["status", "time"]].first().reindex(ids)
    first = mine.groupby(["message_id", "status"])["time"].min().unstack("status")
    times = pd.DataFrame(
        {
            "n_attempts": attempt.groupby(mine["message_id"]).max().reindex(ids),
            "status": latest.groupby("message_id")["status"].last().reindex(ids),
            "queued_at": first.get("QUEUED"),
            "outcome": outcome["status"],
            "outcome_at": outcome["time"],
            "delivered_at": first.get("DELIVERED"),
            "read_at": first.get("READ"),
        },
        index=ids,
    )
    utc = pd.DatetimeTZDtype("ns", "UTC")
    return times.astype({
        "n_attempts": "Int64", "status": "string", "outcome": "string", "queued_at": utc,
        "outcome_at": utc, "delivered_at": utc, "read_at": utc,
    })  # fmt: skip


def _event_durations(messages: pd.DataFrame, events: pd.DataFrame, *, read: bool) -> Durations:
    """Time to delivered (``read`` False) or to read, the moments from ``event_times``."""
    times = event_times(events).reindex(messages["message_id"].astype("string"))
    created = messages["created_at"]
    if read:
        wanted = _status(messages, ("READ",))
        moment = times["read_at"]
        eligible = {"not_read": (~wanted).sum()}
    else:
        status = messages["status"].astype("string").to_numpy()
        is_read = _status(messages, ("READ",)).to_numpy(bool)
        wanted = _status(messages, (*DELIVERY_MOMENT_STATUSES, "READ")) & ~_no_sender(messages)
        # The outcome event must be the status the frame shows (NA: no outcome event came).
        same = times["outcome"].eq(status).fillna(False).to_numpy(bool) & ~is_read
        outcome_at = times["outcome_at"].where(same)
        moment = outcome_at.where(~is_read, times["delivered_at"])
        eligible = {
            "unaddressable": _unaddressable_mask(messages).sum(),
            "canceled": (_status(messages, ("CANCELED",)) & ~_no_sender(messages)).sum(),
            "in_flight": (~_status(messages, FINAL_STATUSES)).sum(),
        }
    moment = moment.astype(pd.DatetimeTZDtype("ns", "UTC")).set_axis(messages.index)
    timed = wanted & moment.notna().to_numpy(bool)
    seconds = (moment[timed] - created[timed]).dt.total_seconds().astype(float)
    name = "time to read (s)" if read else "time to delivered (s)"
    return Durations(
        name, seconds.rename("seconds"), _excluded(**eligible, no_event=(wanted & ~timed).sum())
    )


def _failed_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` (events or attempts) that are failed attempts, each once."""
    if "attempted_at" in frame.columns:  # the attempts frame
        return frame.loc[_status(frame, ERROR_STATUSES).to_numpy(bool)]
    _needs(
        frame,
        "attempts_or_events",
        (*EVENT_NEEDS, "error_code"),
        f"{EVENTS_FRAME}, or an attempts frame (TestSend.attempts, frames.attempts_frame)",
    )
    mine = _message_events(frame)
    made = (mine["attempt"].astype("Int64").fillna(0) > 0).to_numpy(bool)
    failed = mine.loc[made & mine["status"].isin(ERROR_STATUSES).to_numpy(bool)]
    return failed.drop_duplicates(["message_id", "attempt"])


def failed_attempts(attempts_or_events: pd.DataFrame) -> pd.DataFrame:
    """Every failed attempt (it ended UNDELIVERED or FAILED) once: from an events frame (its
    ``message.undelivered`` / ``message.failed`` events of an attempt, each attempt once: a
    message no sender could reach made no attempt) or from an attempts frame
    (``frames.ATTEMPT_COLUMNS``: only the attempts loaded, a sample for traffic).

    Columns: ``message_id``, ``attempt``, ``status``, ``error_code`` (Int64, NA when none was
    given), ``sender`` (the sender's address) and ``channel`` (the attempt's); the index is
    the rows' in ``attempts_or_events``."""
    failed = _failed_rows(attempts_or_events)
    events = "attempted_at" not in failed.columns
    sender, channel = ("sender", "sender_channel") if events else ("sender_address", "channel")
    missing = pd.Series(pd.NA, index=failed.index, dtype="string")
    return pd.DataFrame(
        {
            "message_id": failed["message_id"].astype("string"),
            "attempt": failed["attempt"].astype("Int64"),
            "status": failed["status"].astype("string"),
            "error_code": failed["error_code"].astype("Int64"),
            "sender": failed.get(sender, missing).astype("string"),
            "channel": failed.get(channel, missing).astype("string"),
        },
        index=failed.index,
    )


ERROR_CODE_COLUMNS = ("error_code", "count", "failed_attempts", "share", "share_low", "share_high")


def error_codes(attempts_or_events: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """The error codes of every failed attempt (``failed_attempts``): per code (and per value
    of the frame's column ``by``, when given), ``count`` (its failed attempts),
    ``failed_attempts`` (the denominator: every failed attempt of the group), ``share`` =
    count / failed_attempts and its 95% Wilson interval (``share_low`` / ``share_high``).
    An attempt that failed without a code counts under the code NA. Per group, the most
    frequent code first; an empty frame of these columns when nothing failed.

    ``attempts_or_events``: an events frame (every attempt of the window: full volume) or an
    attempts frame (``frames.ATTEMPT_COLUMNS``: the attempts loaded)."""
    frame = attempts_or_events
    if by is not None and by not in frame.columns:
        raise InvalidInputError(
            f"by={by!r}: not a column of the frame ({', '.join(map(str, frame.columns))})",
            field="by",
            allowed=tuple(frame.columns),
        )
    keys = [] if by is None else [by]
    failed = failed_attempts(frame)
    if by is not None:
        failed[by] = frame.loc[failed.index, by]
    counts = failed.groupby([*keys, "error_code"], dropna=False).size().rename("count")
    table = counts.reset_index().astype({"count": "int64", "error_code": "Int64"})
    if keys:
        table["failed_attempts"] = table.groupby(keys, dropna=False)["count"].transform("sum")
    else:
        table["failed_attempts"] = table["count"].sum()
    table["failed_attempts"] = table["failed_attempts"].astype("int64")
    table["share"] = (table["count"] / table["failed_attempts"]).astype(float)
    bounds = [
        wilson_interval(int(k), int(n))
        for k, n in zip(table["count"], table["failed_attempts"], strict=True)
    ]
    table["share_low"] = pd.Series([low for low, _ in bounds], index=table.index, dtype=float)
    table["share_high"] = pd.Series([high for _, high in bounds], index=table.index, dtype=float)
    table = table.sort_values(
        [*keys, "count", "error_code"],
        ascending=[*[True] * len(keys), False, True],
        kind="stable",
        na_position="last",
    )
    return table.reset_index(drop=True)[[*keys, *ERROR_CODE_COLUMNS]]
