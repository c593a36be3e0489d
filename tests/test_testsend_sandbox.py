"""Test sends against the in-process sandbox: routing in the frames, summaries, big sends,
ambiguous failures and dry runs. Requests are counted on the wire (``CountingTransport``).

Magic recipients (sandbox README): +15005550001 invalid, …02 unaddressable, …03 always
fails, …04 always undelivered, …05 never RCS-capable, …06 always RCS-capable, …07 RCS
turned off (the RCS attempt fails with 61337, SMS delivers).
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.frames import load_messages
from commstoolkit.sandbox import Sandbox
from tests.transports import CountingTransport

INVALID, UNADDRESSABLE, FAILS, UNDELIVERED, NEVER_RCS, ALWAYS_RCS, RCS_OFF = (
    f"+1500555000{n}" for n in range(1, 8)
)
ORDINARY = [f"+1914318{n:04d}" for n in range(8000, 8040)]


@pytest.fixture(scope="module")
def box():
    sandbox = Sandbox(":memory:", seed=7, senders=200)
    sandbox.clock.instant = True
    yield sandbox
    sandbox.close()


@pytest.fixture
def wired(box):
    """(client, transport): a sandbox client whose requests are counted."""
    box.faults.clear()
    transport = CountingTransport(box.transport())
    client = ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.auth_token,
        base_url=box.base_url,
        transport=transport,
        sleep=lambda seconds: None,
        live=False,
    )
    client.sandbox = box
    with client:
        yield client, transport


def _pool(client, name, **per_channel):
    senders = ct.load_senders(client, status="ACTIVATED")
    ids = [
        sender_id
        for channel, n in per_channel.items()
        for sender_id in senders.loc[senders["channel"] == channel, "sender_id"].head(n)
    ]
    return ct.create_pool(client, name, ids)


@pytest.fixture(scope="module")
def pool(box):
    """A pool with 2 RCS, 3 SMS and 1 WhatsApp senders."""
    with ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.auth_token,
        base_url=box.base_url,
        transport=box.transport(),
        live=False,
    ) as client:
        return _pool(client, "test-send pool", RCS=2, SMS=3, WHATSAPP=1)


def _once_each(client, run, recipients):
    """Every recipient has exactly one message of this run, read straight from the listing."""
    found = Counter(m.to_address for m in client.messages.list(tags={"ct_run": run.run_id}))
    return found == Counter(dict.fromkeys(recipients, 1))


def test_routing_is_visible_in_the_messages_frame(wired, pool):
    client, _ = wired
    recipients = [UNADDRESSABLE, FAILS, UNDELIVERED, NEVER_RCS, ALWAYS_RCS, *ORDINARY[:20]]
    run = ct.testsend.test_send(client, pool, recipients, "Routing check", allow_unroutable=True)
    frame = run.messages.set_index("to")
    assert sorted(frame.index) == sorted(recipients)
    assert frame.loc[NEVER_RCS, "channel"] == "SMS" and not frame.loc[NEVER_RCS, "fallback"]
    assert frame.loc[ALWAYS_RCS, "channel"] == "RCS"
    assert frame.loc[ALWAYS_RCS, "status"] in ("DELIVERED", "READ")
    assert frame.loc[UNADDRESSABLE, "status"] == "FAILED"
    assert frame.loc[UNADDRESSABLE, "n_attempts"] == 0 and pd.isna(
        frame.loc[UNADDRESSABLE, "sender_id"]
    )
    assert frame.loc[FAILS, "status"] == "FAILED" and frame.loc[FAILS, "error_code"] == 30008
    assert frame.loc[UNDELIVERED, "status"] == "UNDELIVERED"
    assert frame.loc[UNDELIVERED, "error_code"] == 30003
    members = {s.id for s in client.sender_pools.members.list(pool.id)}
    assert set(frame["sender_id"].dropna()) <= members
    assert set(frame["channel"].dropna()) <= {"RCS", "SMS"}


def test_a_fallback_is_an_rcs_attempt_that_did_not_deliver_then_sms(wired, pool):
    client, _ = wired
    run = ct.testsend.test_send(client, pool, [RCS_OFF, *ORDINARY], "Fallback check")
    messages, attempts = run.messages, run.attempts
    fell_back = messages.loc[messages["fallback"].astype(bool)]
    assert RCS_OFF in set(fell_back["to"]) and len(fell_back) > 1
    for message in fell_back.itertuples():
        first, second = attempts.loc[attempts["message_id"] == message.message_id].itertuples()
        assert (first.channel, second.channel) == ("RCS", "SMS")
        assert first.status != "DELIVERED" and first.error_code is not pd.NA
        assert (message.channel, message.sender_id) == ("SMS", second.sender_id)
    rcs_off = attempts.loc[attempts["to"] == RCS_OFF]
    assert rcs_off["error_code"].tolist() == [61337, pd.NA]
    per_message = attempts.groupby("message_id").size()
    assert (messages.set_index("message_id")["n_attempts"] == per_message).all()


def test_summary_numbers_are_the_frames_counts(wired, pool):
    client, _ = wired
    recipients = [UNADDRESSABLE, FAILS, UNDELIVERED, NEVER_RCS, ALWAYS_RCS, *ORDINARY]
    run = ct.testsend.test_send(client, pool, recipients, "Summary check", allow_unroutable=True)
    messages, attempts, summary = run.messages, run.attempts, run.summary()
    delivered = messages["status"].isin(["DELIVERED", "READ"])
    assert summary.messages == len(messages) == len(recipients)
    assert summary.final == len(messages)  # the clock is instant: everything is final
    assert summary.delivered == delivered.sum()
    assert summary.delivery_rate == delivered.mean()
    assert summary.fallbacks == messages["fallback"].sum()
    # over the messages whose first attempt was RCS, counted from the attempts frame
    first = attempts[attempts["attempt"] == 1].set_index("message_id")["channel"]
    rcs_first = messages["message_id"].map(first).eq("RCS")
    fell_back = rcs_first & (messages["n_attempts"] > 1) & messages["channel"].eq("SMS")
    assert summary.fallbacks == fell_back.sum()
    assert summary.fallback_rate == fell_back.sum() / rcs_first.sum()
    counts = messages["status"].value_counts().drop(["GROUP", "INBOUND"])  # not outbound
    assert summary.by_status.to_dict() == counts.to_dict()
    assert (
        summary.by_channel["messages"].sum() == summary.by_sender["messages"].sum() == len(messages)
    )
    timed = messages["status"].isin(["DELIVERED", "UNDELIVERED", "FAILED"])
    timed &= messages["sender_id"].notna()  # READ and the unaddressable one are left out
    assert summary.time_to_delivered_s["p50"] == messages.loc[timed, "latency_s"].quantile(0.5)
    (operation,) = run.operations
    stats = operation.stats
    assert stats["total"] == len(messages) and stats["attempts"] == len(attempts)
    assert stats["unaddressable"] == summary.unaddressable == 1
    assert stats["delivered"] + stats["read"] == summary.delivered
    assert "Summary" not in repr(run) and run.run_id in run._repr_html_()


def test_ten_thousand_recipients_is_one_request_with_consistent_stats(wired, pool):
    client, transport = wired
    recipients = [f"+1914{n:07d}" for n in range(2_000_000, 2_010_000)]
    run = ct.testsend.test_send(client, pool, recipients, "Big send")
    assert transport.count("POST", "/Messages") == 1
    (operation,) = run.operations
    stats = operation.stats
    statuses = (
        "scheduled",
        "queued",
        "sent",
        "delivered",
        "read",
        "undelivered",
        "failed",
        "canceled",
    )
    assert stats["total"] == stats["recipients"] == 10_000
    assert sum(stats[s] for s in statuses) == stats["total"]
    assert stats["attempts"] >= stats["total"] - stats["unaddressable"]
    messages = run.messages
    assert len(messages) == 10_000 and messages["to"].is_unique
    assert messages["fallback"].isna().all()  # above 1,000 messages attempts are not loaded
    counts = messages["status"].value_counts()
    assert all(counts[s.upper()] == stats[s] for s in statuses)
    assert transport.count("GET", "/Messages") == 10  # one listing of 10 pages, kept once final
    assert not any(p.startswith("/v1/Messages/comms_message_") for _, p in transport.sent)


def test_more_than_ten_thousand_recipients_are_split(wired, pool):
    client, transport = wired
    recipients = [f"+1914{n:07d}" for n in range(3_000_000, 3_010_001)]
    run = ct.testsend.test_send(client, pool, recipients, "Split send", wait=False)
    assert transport.count("POST", "/Messages") == 2
    assert len(run.operations) == 2
    assert _once_each(client, run, recipients)


@pytest.mark.parametrize("drop", ["after", "before"])
def test_a_dropped_connection_ends_with_one_message_per_recipient(wired, pool, box, drop):
    client, transport = wired
    box.faults.add("POST /Messages", drop=drop, times=1)
    run = ct.testsend.test_send(client, pool, ORDINARY[:10], "Dropped")
    assert _once_each(client, run, ORDINARY[:10])
    assert transport.count("POST", "/Messages") == (1 if drop == "after" else 2)
    events = [e["event"] for e in run.journal.events()]
    assert events[:4] == ["planned", "sending", "unknown", "reconciled"]
    assert run.done and len(run.messages) == 10


def test_an_invalid_number_refuses_the_whole_send(wired, pool):
    """Issue 11 item 5: the send resolves first, so the API's refusal of a number comes
    before any message, named by the number (as in a dry run)."""
    client, transport = wired
    with pytest.raises(ct.InvalidRecipientsError) as caught:
        ct.testsend.test_send(client, pool, [ORDINARY[0], INVALID], "Invalid")
    assert [number for number, _ in caught.value.invalid] == [INVALID]
    assert "code 21614" in str(caught.value) and "$.recipientAddresses" not in str(caught.value)
    assert isinstance(caught.value.__cause__, ct.BadRequestError)
    assert transport.count("POST", "/Messages") == 0


def test_a_dry_run_shows_routes_and_sends_nothing(wired, pool):
    client, transport = wired
    recipients = [f"+1914{n:07d}" for n in range(4_000_000, 4_000_150)]
    run = ct.testsend.test_send(client, pool, recipients, "Dry", dry_run=True)
    assert transport.count("POST", "/Senders/Resolve") == 2  # 100 per call
    assert transport.count("POST", "/Messages") == 0
    routes = run.routes
    best = routes[routes["rank"] == 1]
    assert sorted(best["to"]) == sorted(recipients)
    members = {s.id for s in client.sender_pools.members.list(pool.id)}
    assert set(routes["sender_id"].dropna()) <= members
    assert run.dry_run and run.operations == [] and run.messages.empty
    assert "Nothing was sent" in run._repr_html_()


def test_channels_limit_the_pool_to_sms(wired, pool):
    client, _ = wired
    run = ct.testsend.test_send(client, pool, ORDINARY[:10], "SMS only", channels=["SMS"])
    assert set(run.messages["channel"]) == {"SMS"}
    assert not run.messages["fallback"].any()


def test_whatsapp_recipients_get_the_whatsapp_sender(wired, pool):
    client, _ = wired
    run = ct.testsend.test_send(client, pool, ORDINARY[:5], "WA", channel="WHATSAPP")
    assert set(run.messages["channel"]) == {"WHATSAPP"}
    assert set(run.messages["to_channel"]) == {"WHATSAPP"}


def test_load_messages_finds_a_run_by_its_tag_or_operation(wired, pool):
    client, _ = wired
    run = ct.testsend.test_send(client, pool, ORDINARY[:8], "Find me")
    by_run = load_messages(client, run_id=run.run_id)
    by_operation = load_messages(client, operation_id=run.operations[0].id)
    pd.testing.assert_frame_equal(
        by_run.sort_values("to", ignore_index=True),
        run.messages.sort_values("to", ignore_index=True),
    )
    assert set(by_operation["message_id"]) == set(by_run["message_id"])
    delivered = load_messages(client, run_id=run.run_id, status="DELIVERED", details=False)
    assert set(delivered["status"]) <= {"DELIVERED"} and delivered["n_attempts"].isna().all()
