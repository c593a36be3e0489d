"""The metrics with the API's events (issue 16): exact times to delivered and to read agree
with the sandbox's own timeline (read straight from its store), a READ message keeps its
delivered time, and the error code of every failed attempt agrees with the API's attempts
(read as raw JSON). Every number is recomputed here from the raw rows, never through
``commstoolkit.metrics``."""

from __future__ import annotations

import math
from collections import Counter

import httpx
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit import metrics
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import run_server
from tests.events.test_receiver import PASSWORD, USER, subscribe
from tests.instant import instant_client
from tests.test_metrics_item4 import _wilson  # checked there against published values

UNADDRESSABLE, FAILS, UNDELIVERED, NEVER_RCS, ALWAYS_RCS, RCS_OFF = (
    f"+1500555000{n}" for n in range(2, 8)
)
ORDINARY = [f"+1914318{n:04d}" for n in range(8000, 8030)]
RECIPIENTS = [UNADDRESSABLE, FAILS, UNDELIVERED, NEVER_RCS, ALWAYS_RCS, RCS_OFF, *ORDINARY]


@pytest.fixture(scope="module")
def sent(tmp_path_factory):
    """(the test send, its events as a receiver subscribed during the send got them, the
    store's rows of its messages by id, the API's messages as raw JSON by id, the same
    events as a sink's files hold them)."""
    box = Sandbox(":memory:", seed=7, senders=200)
    box.clock.instant = True
    client = instant_client(box)
    senders = ct.load_senders(client, status="ACTIVATED")
    ids = [
        sender_id
        for channel, n in (("RCS", 2), ("SMS", 3), ("WHATSAPP", 1))
        for sender_id in senders.loc[senders["channel"] == channel, "sender_id"].head(n)
    ]
    pool = ct.create_pool(client, "events pool", ids)
    with (
        ct.EventReceiver(username=USER, password=PASSWORD, auth_token=box.auth_token) as receiver,
        run_server(box) as served,  # it delivers to webhook sinks while it runs
    ):
        subscribe(served, box, receiver)
        run = ct.test_send(client, pool, RECIPIENTS, "Events check", allow_unroutable=True)
        files = box.events.write_history(tmp_path_factory.mktemp("stream"))
        stored = ct.load_events(files)
        of_run = stored["operation_id"].isin([op.id for op in run.operations])
        mine = stored[of_run & stored["message_id"].notna()]  # subscribed: message events
        every = set(mine["id"])
        receiver.wait_for(until=lambda got: every <= {e["id"] for e in got}, timeout=30)
        received = receiver.frame()
    operations = [op.id for op in run.operations]
    with box.store.read() as conn:
        rows = conn.execute(
            "SELECT id, created_at, final_at, final_status, read_at, n_attempts, sender_id "
            f"FROM messages WHERE operation_id IN ({','.join('?' * len(operations))})",
            operations,
        ).fetchall()
    store = {row["id"]: dict(row) for row in rows}
    with httpx.Client(transport=box.transport(), base_url=box.base_url,
                      auth=box.credentials()) as api:  # fmt: skip
        detail = {m: api.get(f"/Messages/{m}").json() for m in store}
    yield run, received, store, detail, stored
    box.close()


def _by_message(durations: metrics.Durations, frame: pd.DataFrame) -> dict[str, float]:
    ids = frame.loc[durations.seconds.index, "message_id"]
    return dict(zip(ids, durations.seconds, strict=True))


def test_exact_time_to_delivered_is_the_sandbox_timeline_read_messages_included(sent):
    run, events, store, _, _ = sent
    frame = run.messages
    exact = _by_message(metrics.time_to_delivered(frame, events=events), frame)
    # The store's own timeline: a message's final_at is the moment of its outcome
    # (DELIVERED / UNDELIVERED / FAILED; a READ one was DELIVERED then and read later).
    expected = {
        m: row["final_at"] - row["created_at"] for m, row in store.items() if row["sender_id"]
    }
    assert exact.keys() == expected.keys()
    for message_id, seconds in exact.items():
        # events carry milliseconds, cut (not rounded)
        assert 0 <= expected[message_id] - seconds < 0.001, message_id
    read = {m for m, row in store.items() if row["read_at"] is not None}
    assert read and read <= exact.keys()  # READ messages keep their delivered time
    assert metrics.time_to_delivered(frame, events=events).excluded == {"unaddressable": 1}


def test_polling_knows_the_same_times_to_the_second_but_not_the_read_messages(sent):
    run, events, store, _, _ = sent
    frame = run.messages
    polled = _by_message(metrics.time_to_delivered(frame), frame)
    exact = _by_message(metrics.time_to_delivered(frame, events=events), frame)
    read = {m for m, row in store.items() if row["read_at"] is not None}
    assert polled.keys() == exact.keys() - read
    assert all(polled[m] == math.floor(exact[m]) for m in polled)  # the API's whole seconds
    assert metrics.time_to_delivered(frame).excluded["READ"] == len(read)


def test_exact_time_to_read_is_the_sandbox_timeline(sent):
    run, events, store, _, _ = sent
    frame = run.messages
    exact = _by_message(metrics.time_to_read(frame, events=events), frame)
    expected = {m: r["read_at"] - r["created_at"] for m, r in store.items() if r["read_at"]}
    assert exact.keys() == expected.keys() and exact
    assert all(0 <= expected[m] - s < 0.001 for m, s in exact.items())
    delivered = _by_message(metrics.time_to_delivered(frame, events=events), frame)
    assert all(delivered[m] < exact[m] for m in exact)  # delivered first, read later
    assert metrics.time_to_read(frame, events=events).excluded == {
        "not_read": len(store) - len(expected)
    }


def test_event_times_tell_each_message_as_the_api_and_the_store_do(sent):
    _, events, store, detail, _ = sent
    times = metrics.event_times(events)
    assert set(times.index) == set(store)
    for message_id, row in store.items():
        mine = times.loc[message_id]
        assert mine["status"] == detail[message_id]["status"]
        assert mine["n_attempts"] == row["n_attempts"] == len(detail[message_id]["attempts"])
        assert abs(mine["outcome_at"].timestamp() - row["final_at"]) < 0.001
        if row["read_at"] is not None:
            assert mine["outcome"] == "DELIVERED" and mine["status"] == "READ"
            assert abs(mine["delivered_at"].timestamp() - row["final_at"]) < 0.001
            assert abs(mine["read_at"].timestamp() - row["read_at"]) < 0.001
        else:
            assert mine["outcome"] == row["final_status"] and pd.isna(mine["read_at"])


def test_error_codes_of_every_failed_attempt_are_the_apis_attempts(sent):
    run, events, _, detail, _ = sent
    failed = Counter(
        attempt["error"]["code"]
        for message in detail.values()
        for attempt in message["attempts"]
        if attempt["status"] in ("UNDELIVERED", "FAILED")
    )
    total = sum(failed.values())
    assert {30008, 30003, 61337} <= set(failed)  # the magic recipients' codes
    table = metrics.error_codes(events)
    assert dict(zip(table["error_code"], table["count"], strict=True)) == dict(failed)
    assert (table["failed_attempts"] == total).all()
    assert table["count"].is_monotonic_decreasing
    for row in table.itertuples():
        assert row.share == pytest.approx(row.count / total)
        assert (row.share_low, row.share_high) == pytest.approx(_wilson(row.count, total))
    # the attempts the API gave the test send say the same
    assert metrics.error_codes(run.attempts).equals(table)


def test_an_event_delivered_twice_counts_once(sent):
    run, events, _, _, _ = sent
    twice = pd.concat([events, events.iloc[::-1]], ignore_index=True)
    frame = run.messages
    once = metrics.time_to_delivered(frame, events=events)
    again = metrics.time_to_delivered(frame, events=twice)
    assert once.seconds.equals(again.seconds)
    assert metrics.error_codes(twice).equals(metrics.error_codes(events))
    assert metrics.event_times(twice).equals(metrics.event_times(events))


def test_a_message_whose_events_did_not_come_is_left_out_and_counted(sent):
    run, events, store, _, _ = sent
    frame = run.messages
    read = next(m for m, row in store.items() if row["read_at"] is not None)
    delivered = (events["message_id"] == read) & (events["status"] == "DELIVERED")
    durations = metrics.time_to_delivered(frame, events=events[~delivered.fillna(False)])
    assert read not in set(frame.loc[durations.seconds.index, "message_id"])
    assert durations.excluded == {"unaddressable": 1, "no_event": 1}


def test_what_is_not_an_events_frame_is_named(sent):
    run, _, _, _, _ = sent
    with pytest.raises(ct.InvalidInputError, match="events lacks the column") as caught:
        metrics.time_to_delivered(run.messages, events=run.attempts)
    assert caught.value.field == "events"
    with pytest.raises(ct.InvalidInputError, match="or an attempts frame") as caught:
        metrics.error_codes(run.messages)  # a message keeps its last attempt's code only
    assert caught.value.field == "attempts_or_events"
    with pytest.raises(ct.InvalidInputError, match="by='pool'") as caught:
        metrics.error_codes(run.attempts, by="pool")
    assert caught.value.field == "by"


def test_a_frame_loaded_before_the_reads_has_no_time_to_read_yet(sent):
    """The frame says which messages are READ (``run.refresh()`` reloads it): loaded before the
    reads, none is timed, however many read events came."""
    run, events, _, _, _ = sent
    frame = run.messages
    unread = frame[frame["status"] != "READ"]
    durations = metrics.time_to_read(unread, events=events)
    assert durations.n == 0 and durations.excluded == {"not_read": len(unread)}
    assert (events["status"] == "READ").any()


def test_a_receivers_events_and_a_sinks_files_give_the_same_numbers(sent):
    run, received, _, _, stored = sent
    frame = run.messages
    for measure in (metrics.time_to_delivered, metrics.time_to_read):
        assert measure(frame, events=received).seconds.equals(measure(frame, events=stored).seconds)
    mine = stored[stored["message_id"].isin(frame["message_id"])]
    assert metrics.error_codes(received).equals(metrics.error_codes(mine))


def test_the_history_windows_exact_times_are_the_sandbox_timeline(tmp_path):
    """The seeded traffic history too: every message of a loaded window, timed from the
    events a Kinesis stream would have stored, agrees with the store, READ ones included."""
    with Sandbox(":memory:", seed=11, speed=0, traffic_days=1, daily_messages=200) as box:
        client = instant_client(box)
        traffic = ct.load_traffic(client, "2025-06-01", progress=False)
        events = ct.load_events(box.events.write_history(tmp_path / "stream"))
        with box.store.read() as conn:
            rows = conn.execute(
                "SELECT id, created_at, final_at, read_at FROM messages WHERE sender_id IS NOT NULL"
            ).fetchall()
    delivered = _by_message(metrics.time_to_delivered(traffic, events=events), traffic)
    read = _by_message(metrics.time_to_read(traffic, events=events), traffic)
    store = {r["id"]: r for r in rows}
    assert len(delivered) == len(traffic) > 150 and delivered.keys() <= store.keys()
    for message_id, seconds in delivered.items():
        row = store[message_id]
        assert 0 <= row["final_at"] - row["created_at"] - seconds < 0.001
    with_reads = {m for m in delivered if store[m]["read_at"] is not None}
    assert read.keys() == with_reads and with_reads  # READ messages keep their delivered time
    for message_id, seconds in read.items():
        row = store[message_id]
        assert 0 <= row["read_at"] - row["created_at"] - seconds < 0.001
