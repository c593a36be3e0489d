"""``POST /Senders/Resolve``: ranked routes per recipient, the same ones a send would use, and
nothing sent or changed."""

from __future__ import annotations

import httpx

from commstoolkit.sandbox import Sandbox

from .conftest import collect, error_of
from .messaging import (
    ALWAYS_RCS,
    NEVER_RCS,
    RCS_OFF,
    UNADDRESSABLE,
    finish,
    full,
    messages_of,
    numbers,
    phones,
    pool_id,
    send,
)


def _resolve(api: httpx.Client, to: list[dict], **body) -> list[dict]:
    answer = api.post("/Senders/Resolve", json={"recipientAddresses": to, **body})
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def _routes(results: list[dict], address: str) -> list[tuple[str, int]]:
    return [(r["from"]["channel"], r["priority"]) for r in results if r["to"]["address"] == address]


def test_an_rcs_capable_phone_ranks_rcs_0_before_sms_1(api: httpx.Client):
    pool = pool_id(api)
    results = _resolve(api, phones(ALWAYS_RCS, RCS_OFF, NEVER_RCS), senderPoolId=pool)
    assert _routes(results, ALWAYS_RCS) == [("RCS", 0), ("SMS", 1)]
    assert _routes(results, RCS_OFF) == [("RCS", 0), ("SMS", 1)]  # Resolve cannot know
    assert _routes(results, NEVER_RCS) == [("SMS", 0)]
    first = results[0]
    assert set(first) == {"from", "to", "priority"}
    assert set(first["from"]) == {"senderId", "displayName", "address", "channel"}
    assert first["to"] == {"address": ALWAYS_RCS, "channel": "PHONE"}


def test_whatsapp_email_unaddressable_and_filters(api: httpx.Client):
    pool = pool_id(api, "Ops Alerts - Global")
    to = [
        {"address": "+19143188063", "channel": "WHATSAPP"},
        {"address": "someone@example.com", "channel": "EMAIL"},
        {"address": UNADDRESSABLE, "channel": "PHONE"},
        {"address": ALWAYS_RCS, "channel": "PHONE"},
    ]
    results = _resolve(api, to, senderPoolId=pool)
    assert _routes(results, "+19143188063") == [("WHATSAPP", 0)]
    assert _routes(results, "someone@example.com") == [("EMAIL", 0)]
    assert _routes(results, UNADDRESSABLE) == []
    sms_only = _resolve(api, to, senderPoolId=pool, channels={"filterIn": ["SMS"]})
    assert [(r["to"]["address"], r["from"]["channel"]) for r in sms_only] == [(ALWAYS_RCS, "SMS")]
    ranked = {"priority": [{"channel": "SMS", "priority": 0}, {"channel": "RCS", "priority": 5}]}
    assert _routes(_resolve(api, to, senderPoolId=pool, channels=ranked), ALWAYS_RCS) == [
        ("SMS", 0),
        ("RCS", 1),
    ]


def test_resolve_shows_the_sender_a_send_then_uses(api: httpx.Client, sandbox: Sandbox):
    pool = pool_id(api)
    to = numbers(60)
    results = _resolve(api, phones(*to), senderPoolId=pool)
    best = {r["to"]["address"]: r["from"]["senderId"] for r in results if r["priority"] == 0}
    assert set(best) == set(to)
    operation_id = send(api, to, **{"from": {"senderPoolId": pool}})
    finish(sandbox)
    for message in messages_of(api, operation_id):
        first = full(api, message["id"])["attempts"][0]
        assert first["from"]["senderId"] == best[message["to"][0]["address"]]


def test_resolve_by_sender_address_or_across_the_account(api: httpx.Client):
    rcs = collect(api, "/Senders", channel="RCS", status="ACTIVATED")[0][0]
    one = {"address": rcs["address"], "channel": "RCS"}
    results = _resolve(api, phones(ALWAYS_RCS, NEVER_RCS), senderAddresses=one)
    assert [(r["to"]["address"], r["from"]["senderId"]) for r in results] == [
        (ALWAYS_RCS, rcs["id"])
    ]
    anywhere = _resolve(api, phones(ALWAYS_RCS))
    assert [r["from"]["channel"] for r in anywhere] == ["RCS", "SMS"]
    push = _resolve(
        api, phones(ALWAYS_RCS), senderAddresses={"fcm": "comms_credential_" + "a" * 26}
    )
    assert push == []  # push credentials are not emulated


def test_resolve_sends_nothing_and_changes_nothing(api: httpx.Client, sandbox: Sandbox):
    before = sandbox.state()
    _resolve(api, phones(*numbers(100)), senderPoolId=pool_id(api))
    assert sandbox.state() == before
    assert api.get("/Messages").json()["messages"] == []


def test_resolve_refuses_bad_bodies(api: httpx.Client):
    pool = pool_id(api)
    cases = [
        ({"recipientAddresses": phones(*numbers(101))}, 20400, "$.recipientAddresses"),
        ({"recipientAddresses": []}, 20400, "$.recipientAddresses"),
        ({}, 20400, "$.recipientAddresses"),
        ({"recipientAddresses": phones("+15005550001")}, 21614, "$.recipientAddresses[0].address"),
        ({"recipientAddresses": [{"address": "+14155550100", "channel": "SMS"}]}, 20400,
         "$.recipientAddresses[0].channel"),
        ({"recipientAddresses": phones(ALWAYS_RCS), "senderPoolId": "pool"}, 20400,
         "$.senderPoolId"),
        ({"recipientAddresses": phones(ALWAYS_RCS),
          "senderPoolId": "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"}, 20404, "$.senderPoolId"),
        ({"recipientAddresses": phones(ALWAYS_RCS), "senderPoolId": pool,
          "channels": {"filterIn": ["SMS", "SMS"]}}, 20400, "$.channels.filterIn"),
        ({"recipientAddresses": phones(ALWAYS_RCS),
          "senderAddresses": {"address": "nobody", "channel": "SMS"}}, 20404,
         "$.senderAddresses.address"),
    ]  # fmt: skip
    for body, code, context in cases:
        answer = api.post("/Senders/Resolve", json=body)
        assert answer.status_code == 400, body
        assert (error_of(answer)["code"], error_of(answer)["context"]) == (code, context), body
