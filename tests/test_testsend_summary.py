"""``SendSummary``: every number is a count the messages frame confirms."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pandas as pd

from commstoolkit.frames import messages_frame
from commstoolkit.models import Attempt, Message
from commstoolkit.testsend.summary import summarise

T0 = datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc)
SENDERS = {
    "SMS": "comms_sender_01h9krwprkeee8fzqspvwy0001",
    "RCS": "comms_sender_01h9krwprkeee8fzqspvwy0002",
}


def _attempt(channel, status, code=None):
    return Attempt(SENDERS[channel], channel.lower(), channel, None, status, T0, code, None)


def _message(n, status, channel, attempts, seconds):
    last = attempts[-1] if attempts else None
    return Message(
        id=f"comms_message_01h9krwprkeee8fzqspvwy{n:04d}",
        operation_id="comms_operation_01h9krwprkeee8fzqspvwy6nq8",
        status=status,
        to_address=f"+1415555{n:04d}",
        to_channel="PHONE",
        sender_id=last.sender_id if last else None,
        sender_address=last.sender_address if last else None,
        channel=channel,
        sender_pool_id=None,
        tags={},
        scheduled_for=None,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=seconds),
        attempts=attempts,
    )


RCS_FAILED = _attempt("RCS", "FAILED", 61337)
MESSAGES = [
    _message(0, "DELIVERED", "SMS", (RCS_FAILED, _attempt("SMS", "DELIVERED")), 6),
    _message(1, "READ", "RCS", (_attempt("RCS", "READ"),), 2),
    _message(2, "DELIVERED", "SMS", (_attempt("SMS", "DELIVERED"),), 4),
    _message(3, "UNDELIVERED", "SMS", (_attempt("SMS", "UNDELIVERED", 30003),), 5),
    _message(4, "FAILED", None, (), 0),  # unaddressable
    _message(5, "SENT", "RCS", (_attempt("RCS", "SENT"),), 1),  # not final yet
]


def test_headline_numbers_are_counts_of_the_frame():
    frame = messages_frame(MESSAGES)
    summary = summarise(frame)
    final = frame["status"].isin(["DELIVERED", "READ", "UNDELIVERED", "FAILED", "CANCELED"])
    delivered = frame["status"].isin(["DELIVERED", "READ"])
    assert (summary.messages, summary.final, summary.delivered) == (6, final.sum(), 3)
    rated = frame["status"].isin(["DELIVERED", "READ", "UNDELIVERED", "FAILED"])
    assert summary.delivery_rate == delivered.sum() / rated.sum() == 3 / 5
    assert summary.fallbacks == frame["fallback"].sum() == 1
    # over the RCS-first messages: the fallback, the READ one and the SENT one on RCS
    assert summary.fallback_rate == 1 / 3
    assert summary.unaddressable == (frame["n_attempts"] == 0).sum() == 1
    counts = frame["status"].value_counts()
    assert summary.by_status.to_dict() == counts.drop(["GROUP", "INBOUND"]).to_dict()
    assert summary.by_status["QUEUED"] == 0  # every outbound status shows, zeros included


def test_time_to_delivered_is_over_delivered_undelivered_failed_with_a_sender():
    frame = messages_frame(MESSAGES)
    summary = summarise(frame)
    # DELIVERED 6 s and 4 s, UNDELIVERED 5 s; READ (2 s: read, not delivered) and the
    # unaddressable message (0 s: never sent) are left out and counted.
    to_delivered = pd.Series([6.0, 4.0, 5.0])
    assert summary.time_to_delivered_s["p50"] == to_delivered.quantile(0.5) == 5.0
    assert summary.time_to_delivered_s["p90"] == to_delivered.quantile(0.9)
    assert summary.time_to_delivered_s["max"] == 6.0
    assert summary.to_delivered.excluded == {"READ": 1, "unaddressable": 1, "in_flight": 1}
    assert summary.time_to_read_s["p50"] == summary.time_to_read_s["max"] == 2.0
    assert summary.to_read.n == 1


def test_tables_by_channel_and_sender_add_up_to_every_message():
    summary = summarise(messages_frame(MESSAGES))
    by_channel = summary.by_channel
    assert by_channel["messages"].sum() == 6
    assert by_channel.loc["SMS", ["messages", "final", "delivered"]].tolist() == [3, 3, 2]
    assert by_channel.loc["SMS", "delivery_rate"] == 2 / 3
    assert by_channel.loc["SMS", "fallbacks"] == 1
    assert by_channel.loc["RCS", "read_p50_s"] == 2.0  # the SENT one has no time yet
    assert math.isnan(by_channel.loc["RCS", "delivered_p50_s"])  # READ is not delivery
    assert by_channel.loc["SMS", "delivered_p50_s"] == 5.0
    # The unaddressable message has no channel: the row "no sender", last, never NaN.
    assert not by_channel.index.hasnans and by_channel.index[-1] == "no sender"
    assert by_channel.loc["no sender", "messages"] == 1
    by_sender = summary.by_sender
    assert by_sender["messages"].sum() == 6
    assert by_sender.loc[(SENDERS["SMS"], "sms", "SMS"), "delivered"] == 2


def test_without_attempts_fallbacks_are_unknown_not_zero():
    listed = [
        Message(**{**{f: getattr(m, f) for f in Message.__dataclass_fields__}, "attempts": None})
        for m in MESSAGES
    ]
    summary = summarise(messages_frame(listed))
    assert summary.fallbacks is None
    assert summary.unaddressable == 1  # no sender and FAILED: known from the listing
    assert math.isnan(summary.fallback_rate)
    assert summary.by_channel["fallbacks"].isna().all()
    assert summary.delivery_rate == 3 / 5  # statuses are known without attempts


def test_an_empty_send_summarises_to_zeros_and_nan():
    summary = summarise(messages_frame([]))
    assert (summary.messages, summary.delivered) == (0, 0)
    assert math.isnan(summary.delivery_rate) and summary.time_to_delivered_s.isna().all()
    assert summary.by_channel.empty and "0 messages" in str(summary)


def test_text_and_html_say_the_same_numbers():
    summary = summarise(messages_frame(MESSAGES))
    text = str(summary)
    assert (
        "6 messages, 5 final, 3 delivered (delivery rate 60.0% of 5 rated, 95% CI "
        "23.1%–88.2%), fallback rate "
        "33.3% (1 of 3 RCS-first), 1 unaddressable"
    ) in text
    assert "time to delivered (s), n=3: p50 5.00" in text
    assert "excluded: READ 1, unaddressable 1, in flight 1" in text
    assert "by status: SENT 1, DELIVERED 2, READ 1, UNDELIVERED 1, FAILED 1" in text
    assert "By channel" in summary._repr_html_() and "60.0%" in summary._repr_html_()
