"""Issue 11, item 2 — latency the data can support.

The analyst's case: ``latency_s`` is updatedAt - createdAt, so a READ message's is the time
to read (RCS DELIVERED ~3 s, RCS READ ~36 s), and ``delivery_latency`` and the summary's
percentiles showed RCS 3-10x slower than SMS; unaddressable messages counted as 0 s; and
``run.messages`` kept the statuses of the load after ``wait()``, so READs arriving later
never showed. Now time to delivered is measured on DELIVERED / UNDELIVERED / FAILED
messages with a sender only (READ and unaddressable ones left out and counted), time to
read apart, and ``run.refresh()`` reloads the run's messages. Every expected number is
counted by hand from the raw messages.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from instant import instant_client

import commstoolkit as ct
from commstoolkit import charts
from commstoolkit.frames import messages_frame
from commstoolkit.models import Attempt, Message
from commstoolkit.sandbox import Sandbox
from commstoolkit.testsend.summary import summarise

T0 = datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc)
ALWAYS_RCS = "+15005550006"  # RCS, delivered, then READ 5-60 s later
UNADDRESSABLE = "+15005550002"
ORDINARY = [f"+1303555{n:04d}" for n in range(100, 112)]


def _message(n: int, status: str, channel: str | None, seconds: int) -> Message:
    attempts = (
        ()
        if channel is None
        else (Attempt(f"s_{channel}", "a", channel, None, status, T0, None, None),)
    )
    return Message(
        id=f"comms_message_{n:04d}",
        operation_id="comms_operation_0001",
        status=status,
        to_address=f"+1415555{n:04d}",
        to_channel="PHONE",
        sender_id=f"s_{channel}" if channel else None,
        sender_address="a" if channel else None,
        channel=channel,
        sender_pool_id=None,
        tags={},
        scheduled_for=None,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=seconds),
        attempts=attempts,
    )


# RCS delivers in ~3 s and is read ~36 s after; SMS delivers in ~5 s.
ANALYST = [
    _message(0, "DELIVERED", "RCS", 3),
    _message(1, "DELIVERED", "RCS", 3),
    _message(2, "READ", "RCS", 36),
    _message(3, "READ", "RCS", 40),
    _message(4, "DELIVERED", "SMS", 5),
    _message(5, "UNDELIVERED", "SMS", 6),
    _message(6, "FAILED", None, 0),  # unaddressable: never sent
    _message(7, "SENT", "SMS", 1),  # in flight
]


def test_time_to_delivered_excludes_read_and_unaddressable():
    frame = messages_frame(ANALYST)
    # by hand: DELIVERED / UNDELIVERED / FAILED with a sender
    timed = [
        m for m in ANALYST if m.status in ("DELIVERED", "UNDELIVERED", "FAILED") and m.sender_id
    ]
    seconds = {m.id: (m.updated_at - m.created_at).total_seconds() for m in timed}
    read = {
        m.id: (m.updated_at - m.created_at).total_seconds() for m in ANALYST if m.status == "READ"
    }
    summary = summarise(frame)
    assert summary.to_delivered.n == len(seconds) == 4
    assert summary.time_to_delivered_s["p50"] == pd.Series(list(seconds.values())).median()
    assert summary.time_to_delivered_s["max"] == 6.0  # never a READ's 40 s
    assert summary.to_delivered.excluded == {"READ": 2, "unaddressable": 1, "in_flight": 1}
    assert summary.time_to_read_s["p50"] == pd.Series(list(read.values())).median() == 38.0
    # RCS delivers faster than SMS, as it does
    by_channel = summary.by_channel
    assert (
        by_channel.loc["RCS", "delivered_p50_s"] == 3.0 < by_channel.loc["SMS", "delivered_p50_s"]
    )
    assert by_channel.loc["RCS", "read_p50_s"] == 38.0
    assert pd.isna(by_channel.loc["no sender", "delivered_p50_s"])  # not 0 s
    # the chart plots exactly those, per channel, and its title says what it left out
    fig = charts.delivery_latency(frame)
    plotted = {t.name: sorted(t.y) for t in fig.data}
    assert plotted == {"RCS": [3.0, 3.0], "SMS": [5.0, 6.0]}
    subtitle = fig.layout.title.subtitle.text
    assert subtitle.startswith(
        "time to delivered (n=4, READ excluded: 2, unaddressable excluded: 1, "
        "in flight excluded: 1)"
    )
    assert fig.layout.title.text.startswith("Time to delivered by channel")
    read_fig = charts.delivery_latency(frame, measure="read")
    assert {t.name: sorted(t.y) for t in read_fig.data} == {"RCS": [36.0, 40.0]}
    assert "time to read (n=2" in read_fig.layout.title.subtitle.text


@pytest.fixture
def frozen():
    """A client on a sandbox whose clock only moves when the test advances it."""
    box = Sandbox(":memory:", seed=7, senders=200, speed=0)
    with instant_client(box) as made:
        yield made, box
    box.close()


def test_refresh_shows_late_reads(frozen):
    client, box = frozen
    pools = ct.load_pools(client)
    pool = pools.loc[pools["name"] == "Customer Support - NAMER", "pool_id"].iloc[0]
    run = ct.test_send(
        client,
        pool,
        [ALWAYS_RCS, UNADDRESSABLE, *ORDINARY],
        "late",
        wait=False,
        allow_unroutable=True,
    )
    for _ in range(120):  # one second at a time until the operation is over
        if run.done:
            break
        box.clock.advance(1)
        run.refresh()
    assert run.done
    before = run.messages
    delivered_rcs = before[(before["to"] == ALWAYS_RCS)]["status"].iloc[0]
    assert delivered_rcs == "DELIVERED"  # final, but not read yet
    box.clock.advance(120)  # every READ has come by now
    # the run keeps its last load until refreshed ...
    assert run.messages["status"].equals(before["status"])
    run.refresh()
    after = run.messages
    raw = list(client.messages.list(tags={"ct_run": run.run_id}))
    by_id = {m.id: m.status for m in raw}
    assert after.set_index("message_id")["status"].astype(str).to_dict() == by_id
    assert after.loc[after["to"] == ALWAYS_RCS, "status"].iloc[0] == "READ"
    reads = sum(1 for m in raw if m.status == "READ")
    summary = run.summary()
    assert summary.by_status["READ"] == reads > 0 and summary.to_read.n == reads
    # a READ message the run saw DELIVERED keeps that moment: its time to delivered is
    # known (the earlier load's updated_at), the other READs are left out
    seen = before[before["status"] == "DELIVERED"].set_index("message_id")
    read_ids = {m.id for m in raw if m.status == "READ"}
    seen_read = seen[seen.index.isin(read_ids)]
    assert len(seen_read) >= 1  # the always-RCS number at least
    expected = (seen_read["updated_at"] - seen_read["created_at"]).dt.total_seconds()
    got = after.set_index("message_id")["seen_delivered_s"].dropna()
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert summary.to_delivered.excluded.get("READ", 0) == reads - len(seen_read)
    for message_id, seconds in expected.items():
        assert summary.to_delivered.seconds[after["message_id"] == message_id].tolist() == [seconds]
    # ... and the run now agrees with a fresh load
    loaded = ct.load_messages(client, run_id=run.run_id)
    assert loaded["seen_delivered_s"].isna().all()  # a fresh load saw no DELIVERED moment
    pd.testing.assert_series_equal(
        loaded.set_index("message_id")["status"].sort_index(),
        after.set_index("message_id")["status"].sort_index(),
    )
