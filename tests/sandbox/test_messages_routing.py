"""Routing rules, one test each: which sender and channel a recipient gets, fallbacks, magic
recipients, stickiness, determinism, and the hidden sender quality."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from commstoolkit.sandbox import Sandbox

from .conftest import collect, make_client
from .messaging import (
    ALWAYS_RCS,
    FAILS,
    NEVER_RCS,
    RCS_OFF,
    UNADDRESSABLE,
    UNDELIVERED,
    channels_of,
    finish,
    full,
    messages_of,
    numbers,
    phones,
    pool_id,
    send,
    sent_one,
)


@pytest.fixture
def pool(api: httpx.Client) -> str:
    return pool_id(api)


def _members(api: httpx.Client, pool: str) -> dict[str, dict]:
    return {s["id"]: s for s in collect(api, f"/SenderPools/{pool}/Senders", pageSize=1000)[0]}


def test_an_rcs_capable_handset_gets_an_rcs_sender_of_the_pool(api, sandbox, pool):
    message = sent_one(api, sandbox, ALWAYS_RCS, **{"from": {"senderPoolId": pool}})
    assert channels_of(message) == [("RCS", "READ")]
    assert message["from"]["senderId"] in _members(api, pool)
    assert message["from"]["senderPoolId"] == pool


def test_most_handsets_are_rcs_capable_and_the_rest_go_to_sms(api, sandbox, pool):
    operation_id = send(api, numbers(300), **{"from": {"senderPoolId": pool}})
    finish(sandbox)
    first = Counter(full(api, m["id"])["attempts"][0]["from"]["channel"]
                    for m in messages_of(api, operation_id))  # fmt: skip
    assert set(first) == {"RCS", "SMS"}
    assert 0.6 < first["RCS"] / 300 < 0.8  # ~60% capable + ~10% with RCS turned off


def test_a_never_rcs_capable_handset_goes_straight_to_sms(api, sandbox, pool):
    message = sent_one(api, sandbox, NEVER_RCS, **{"from": {"senderPoolId": pool}})
    assert [c for c, _ in channels_of(message)] == ["SMS"]
    assert message["from"]["channel"] == "SMS"


def test_a_failed_rcs_attempt_falls_back_to_sms_as_a_second_attempt(api, sandbox, pool):
    message = sent_one(api, sandbox, RCS_OFF, **{"from": {"senderPoolId": pool}})
    assert channels_of(message) == [("RCS", "FAILED"), ("SMS", "DELIVERED")]
    rcs, sms = message["attempts"]
    assert rcs["error"]["code"] == 61337 and sms["error"] is None
    assert sms["attemptedAt"] >= rcs["attemptedAt"]
    assert message["from"] == {**sms["from"], "senderPoolId": pool}  # the final sender
    assert message["status"] == "DELIVERED"
    operation_id = message["related"][0]["id"]
    stats = api.get(f"/Messages/Operations/{operation_id}").json()["stats"]
    assert (stats["total"], stats["attempts"], stats["delivered"]) == (1, 2, 1)


def test_whatsapp_recipients_need_a_whatsapp_sender(api: httpx.Client, sandbox: Sandbox, pool):
    whatsapp = phones("+19143188063", channel="WHATSAPP")
    message = sent_one(api, sandbox, whatsapp, **{"from": {"senderPoolId": pool}})
    assert [c for c, _ in channels_of(message)] == ["WHATSAPP"]
    sms_only = {"senderPoolId": pool, "channels": {"filterIn": ["SMS", "RCS"]}}
    unreachable = sent_one(api, sandbox, whatsapp, **{"from": sms_only})
    assert (unreachable["status"], unreachable["attempts"]) == ("FAILED", [])


def test_filter_in_sms_keeps_an_rcs_handset_on_sms(api, sandbox, pool):
    sms_only = {"senderPoolId": pool, "channels": {"filterIn": ["SMS"]}}
    message = sent_one(api, sandbox, ALWAYS_RCS, **{"from": sms_only})
    assert channels_of(message) == [("SMS", "DELIVERED")]


def test_priority_puts_sms_before_rcs(api, sandbox, pool):
    ranked = {"senderPoolId": pool, "channels": {"priority": [
        {"channel": "RCS", "priority": 2}, {"channel": "SMS", "priority": 1}]}}  # fmt: skip
    message = sent_one(api, sandbox, ALWAYS_RCS, **{"from": ranked})
    assert channels_of(message) == [("SMS", "DELIVERED")]


def test_an_unaddressable_recipient_gets_a_failed_message_without_attempts(api, sandbox, pool):
    operation_id = send(api, [UNADDRESSABLE, ALWAYS_RCS], **{"from": {"senderPoolId": pool}})
    finish(sandbox)
    stats = api.get(f"/Messages/Operations/{operation_id}").json()["stats"]
    assert (stats["total"], stats["recipients"], stats["attempts"]) == (2, 2, 1)
    assert (stats["unaddressable"], stats["failed"], stats["read"]) == (1, 1, 1)
    message = full(api, messages_of(api, operation_id)[0]["id"])
    assert (message["status"], message["attempts"]) == ("FAILED", [])
    assert message["from"] == {"address": "", "channel": "PHONE"}  # no sender ever tried it


def test_always_failing_and_always_undelivered_recipients(api, sandbox, pool):
    failing = sent_one(api, sandbox, FAILS, **{"from": {"senderPoolId": pool}})
    assert channels_of(failing) == [("RCS", "FAILED"), ("SMS", "FAILED")]
    assert {a["error"]["code"] for a in failing["attempts"]} == {30008}
    undelivered = sent_one(api, sandbox, UNDELIVERED, **{"from": {"senderPoolId": pool}})
    assert undelivered["status"] == "UNDELIVERED"
    last = undelivered["attempts"][-1]
    assert (last["status"], last["error"]["code"]) == ("UNDELIVERED", 30003)
    assert last["error"]["message"] == "Unreachable destination handset"


def test_a_channel_shares_its_senders_and_each_recipient_sticks_to_one(api, sandbox, pool):
    sms_only = {"senderPoolId": pool, "channels": {"filterIn": ["SMS"]}}
    to = numbers(200)
    picks = []
    for _ in range(2):
        operation_id = send(api, to, **{"from": sms_only})
        finish(sandbox)
        picks.append({m["to"][0]["address"]: m["from"]["senderId"]
                      for m in messages_of(api, operation_id)})  # fmt: skip
    assert picks[0] == picks[1]
    members = _members(api, pool)
    activated_sms = {i for i, s in members.items() if (s["channel"], s["status"]) ==
                     ("SMS", "ACTIVATED")}  # fmt: skip
    assert set(picks[0].values()) <= activated_sms
    assert len(set(picks[0].values())) > len(activated_sms) // 2  # the traffic is shared


def test_deactivated_senders_are_never_used(api: httpx.Client, sandbox: Sandbox):
    pool = pool_id(api, "Ops Alerts - Global")
    members = _members(api, pool)
    deactivated = {i for i, s in members.items() if s["status"] == "DEACTIVATED"}
    deactivated_sms = sorted(i for i in deactivated if members[i]["channel"] == "SMS")
    assert deactivated_sms
    operation_id = send(api, numbers(400), **{"from": {"senderPoolId": pool}})
    finish(sandbox)
    used = set()
    for message in messages_of(api, operation_id)[:100]:
        used |= {a["from"]["senderId"] for a in full(api, message["id"])["attempts"]}
    used |= {m["from"]["senderId"] for m in messages_of(api, operation_id)}
    assert used and not used & deactivated
    named = sent_one(api, sandbox, ALWAYS_RCS, **{"from": {"senderId": deactivated_sms[0]}})
    assert (named["status"], named["attempts"]) == ("FAILED", [])


def test_routing_and_outcomes_are_deterministic_for_a_seed():
    def run(seed: int) -> list[tuple]:
        with Sandbox(":memory:", seed=seed, speed=0) as box, make_client(box) as client:
            operation_id = send(client, numbers(150), **{"from": {"senderPoolId": pool_id(client)}})
            box.clock.advance(600)
            return [(m["id"], m["from"]["senderId"], m["status"], m["updatedAt"])
                    for m in messages_of(client, operation_id)]  # fmt: skip

    first = run(7)
    assert first == run(7)
    assert first != run(8)


def test_a_bad_sender_delivers_far_less_than_a_good_one(api: httpx.Client, sandbox: Sandbox):
    pool = pool_id(api)
    quality = sandbox.backend.messages.quality
    sms = sorted(i for i, s in _members(api, pool).items()
                 if (s["channel"], s["status"]) == ("SMS", "ACTIVATED"))  # fmt: skip
    bad = min(sms, key=quality)
    good = max(sms, key=quality)
    assert quality(bad) < 0.65 < 0.9 < quality(good)
    rates = {}
    for sender in (bad, good):
        operation_id = send(api, numbers(300, start=5000), **{"from": {"senderId": sender}})
        finish(sandbox)
        stats = api.get(f"/Messages/Operations/{operation_id}").json()["stats"]
        rates[sender] = stats["delivered"] / stats["total"]
    assert rates[bad] < 0.7 and rates[good] > 0.9


def test_every_seeded_pool_holds_a_bad_activated_sms_sender(api: httpx.Client, sandbox: Sandbox):
    for pool in collect(api, "/SenderPools", key="senderPools")[0]:
        sms = [i for i, s in _members(api, pool["id"]).items()
               if (s["channel"], s["status"]) == ("SMS", "ACTIVATED")]  # fmt: skip
        assert min(map(sandbox.backend.messages.quality, sms)) < 0.65, pool["name"]


def test_without_from_any_activated_sender_of_the_account_may_be_used(api, sandbox):
    message = sent_one(api, sandbox, NEVER_RCS)
    sender = api.get(f"/Senders/{message['from']['senderId']}").json()
    assert (sender["channel"], sender["status"]) == ("SMS", "ACTIVATED")
    assert "senderPoolId" not in message["from"]


def test_a_sender_named_by_address_sends_everything(api: httpx.Client, sandbox: Sandbox):
    rcs = collect(api, "/Senders", channel="RCS", status="ACTIVATED")[0][0]
    by_address = {"address": rcs["address"], "channel": "RCS"}
    message = sent_one(api, sandbox, ALWAYS_RCS, **{"from": by_address})
    assert message["from"] == {"address": rcs["address"], "channel": "RCS", "senderId": rcs["id"]}
    no_rcs = sent_one(api, sandbox, NEVER_RCS, **{"from": by_address})
    assert (no_rcs["status"], no_rcs["attempts"]) == ("FAILED", [])  # an RCS sender only


def test_connected_addresses_try_the_next_address_when_one_fails(api, sandbox, pool):
    recipient = {"addresses": [{"address": FAILS, "channel": "WHATSAPP"},
                               {"address": NEVER_RCS, "channel": "PHONE"}]}  # fmt: skip
    message = sent_one(api, sandbox, [recipient], **{"from": {"senderPoolId": pool}})
    assert channels_of(message) == [("WHATSAPP", "FAILED"), ("SMS", "DELIVERED")]
    assert message["to"] == [{"address": NEVER_RCS, "channel": "PHONE"}]
