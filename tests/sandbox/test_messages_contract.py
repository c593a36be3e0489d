"""Messaging against the official contract: every answer validates (the ``api`` fixture checks
each one), every spec example request of ``POST /Messages`` and ``POST /Senders/Resolve`` is
accepted, and resources carry the fields of the spec's examples."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import httpx

from commstoolkit.sandbox import Sandbox

from .conftest import Contract, collect, error_of
from .messaging import ALWAYS_RCS, RCS_OFF, UNADDRESSABLE, full, messages_of, pool_id, send

SENDER_ID = re.compile(r"comms_sender_[0-7][a-hjkmnpqrstv-z0-9]{25,34}")
POOL_ID = re.compile(r"comms_senderpool_[0-7][a-hjkmnpqrstv-z0-9]{25,34}")


def _seeded(api: httpx.Client) -> dict[str, list[dict]]:
    """ACTIVATED messaging senders of the seeded account, by channel."""
    senders = collect(api, "/Senders", status="ACTIVATED", pageSize=1000)[0]
    by_channel: dict[str, list[dict]] = {}
    for sender in senders:
        by_channel.setdefault(sender["channel"], []).append(sender)
    return by_channel


def _with_seeded(value: Any, senders: dict[str, list[dict]], pool: str) -> Any:
    """An example body with its sender ids, pool ids and ``from`` addresses swapped for
    seeded ones (recipients, profiles and everything else untouched)."""
    if isinstance(value, dict):
        if set(value) >= {"address", "channel"} and value["channel"] in ("SMS", "RCS"):
            return {**value, "address": senders[value["channel"]][0]["address"]}
        return {k: _with_seeded(v, senders, pool) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_seeded(v, senders, pool) for v in value]
    if isinstance(value, str) and SENDER_ID.fullmatch(value):
        return senders["SMS"][0]["id"]
    if isinstance(value, str) and POOL_ID.fullmatch(value):
        return pool
    return value


def test_every_spec_example_send_and_resolve_request_is_accepted(
    api: httpx.Client, sandbox: Sandbox, contract: Contract
):
    senders, pool = _seeded(api), pool_id(api)
    # The scheduled example sends at 2030-04-01: bring the sandbox within 30 days of it.
    target = datetime(2030, 3, 25, tzinfo=timezone.utc).timestamp()
    sandbox.clock.advance(target - sandbox.clock.seconds())
    accepted: list[tuple[str, str]] = []
    for method, path, status in (("POST", "/Messages", 202), ("POST", "/Senders/Resolve", 200)):
        name = f"{method}_{path.strip('/').replace('/', '_')}__request__*"
        examples = contract.examples(name)
        assert examples, name
        for example in examples:
            body = _with_seeded(example["value"], senders, pool)
            contract.validate_request(method, path, body)
            answer = api.post(path, json=body)
            assert answer.status_code == status, (example["example_name"], answer.text)
            if status == 202:
                accepted.append((example["example_name"], answer.json()["operationId"]))
    assert len(accepted) == 17
    sandbox.clock.advance(10 * 24 * 3600)  # past the scheduled send, everything final
    for name, operation_id in accepted:
        operation = api.get(f"/Messages/Operations/{operation_id}").json()
        assert operation["status"] == "COMPLETED", name
        listed = messages_of(api, operation_id)
        assert len(listed) == operation["stats"]["total"] > 0, name
        for message in listed:
            full(api, message["id"])  # validated by the contract hook


def test_profile_recipients_are_accepted_and_unaddressable(api: httpx.Client, sandbox: Sandbox):
    profile = {
        "profileId": "mem_profile_01h9krwprkeee8fzqspvwy6nq8",
        "memoryStoreId": "mem_store_00000000000000000000000000",
    }
    operation_id = send(api, [profile, {"address": ALWAYS_RCS, "channel": "PHONE"}])
    sandbox.clock.advance(600)
    stats = api.get(f"/Messages/Operations/{operation_id}").json()["stats"]
    assert (stats["total"], stats["unaddressable"], stats["failed"]) == (2, 1, 1)
    first = messages_of(api, operation_id)[0]
    assert first["to"] == [{"address": "", "channel": "PHONE", **profile}]
    assert first["status"] == "FAILED" and full(api, first["id"])["attempts"] == []
    by_profile = api.get("/Messages", params={"profile": profile["profileId"]}).json()
    assert [m["id"] for m in by_profile["messages"]] == [first["id"]]


def test_a_tour_of_the_messaging_endpoints_validates_against_the_schemas(
    api: httpx.Client, raw_api: httpx.Client, sandbox: Sandbox, contract: Contract
):
    before = contract.checked
    pool = pool_id(api)
    to = [{"address": a, "channel": "PHONE"} for a in (ALWAYS_RCS, RCS_OFF, UNADDRESSABLE)]
    to.append({"address": "+19143188063", "channel": "WHATSAPP"})
    sent = api.post("/Messages", json={"from": {"senderPoolId": pool}, "to": to,
                                       "content": {"text": "Hi"}, "tags": {"k": "v"}})  # fmt: skip
    operation_id = sent.json()["operationId"]
    calls = [
        sent,
        api.get(f"/Messages/Operations/{operation_id}"),
        api.get("/Messages/Operations", params={"status": "PROCESSING"}),
        api.get("/Messages", params={"operationId": operation_id, "tags": "k:v;"}),
    ]
    sandbox.clock.advance(120)
    listed = api.get("/Messages", params={"operationId": operation_id})
    calls.append(listed)
    calls += [api.get(f"/Messages/{m['id']}") for m in listed.json()["messages"]]
    calls += [
        api.get("/Messages/Operations"),
        api.get(f"/Messages/Operations/{operation_id}"),
        api.post("/Senders/Resolve", json={"senderPoolId": pool, "recipientAddresses": to}),
        api.get("/Messages/comms_message_01h9krwprkeee8fzqspvwy6nq8"),
        api.get("/Messages/Operations/comms_operation_01h9krwprkeee8fzqspvwy6nq8"),
        api.post("/Messages", json={"to": [], "content": {"text": "x"}}),
        api.post("/Senders/Resolve", json={"recipientAddresses": []}),
    ]
    statuses = [c.status_code for c in calls]
    assert statuses == [202, 200, 200, 200, 200] + [200] * 4 + [200, 200, 200, 404, 404, 400, 400]
    assert contract.checked - before == len(calls) + 1  # + the pool listing
    # Seek: a message id, or an attempt's SM SID (as its infoUrl shows), answers 301.
    message = full(api, listed.json()["messages"][0]["id"])
    sid = message["attempts"][0]["infoUrl"].rsplit("/", 1)[1]
    for identifier in (message["id"], sid):
        answer = raw_api.get(f"/Messages/Seek/{identifier}")
        assert answer.status_code == 301
        assert answer.headers["location"].endswith(f"/v1/Messages/{message['id']}")
    assert raw_api.get("/Messages/Seek/SM000").status_code == 404


def test_messaging_resources_carry_exactly_the_fields_of_the_spec_examples(
    api: httpx.Client, sandbox: Sandbox, contract: Contract
):
    operation_id = send(api, [RCS_OFF], **{"from": {"senderPoolId": pool_id(api)}})
    sandbox.clock.advance(120)
    operation = api.get(f"/Messages/Operations/{operation_id}").json()
    listed = messages_of(api, operation_id)[0]
    message = full(api, listed["id"])
    spec_message = contract.examples("GET_Messages_messageId__response-200__*")[0]["value"]
    spec_listed = contract.examples("GET_Messages__response-200__ListMessagesInOp*")[0]["value"]
    spec_operation = contract.examples("GET_Messages_Operations_operationId_*")[0]["value"]
    assert set(message) == set(spec_message)
    assert set(listed) == set(spec_listed["messages"][0])
    assert set(listed["from"]) == set(spec_listed["messages"][0]["from"])  # sender and pool
    assert set(operation) == set(spec_operation)
    assert set(operation["stats"]) == set(spec_operation["stats"])
    failed, delivered = message["attempts"]
    spec_failed, spec_delivered = spec_message["attempts"]
    assert set(failed) == set(spec_failed) and set(failed["error"]) == set(spec_failed["error"])
    assert (failed["error"]["code"], failed["error"]["message"]) == (
        spec_failed["error"]["code"],
        spec_failed["error"]["message"],
    )
    assert delivered["error"] is None and set(delivered) == set(spec_delivered)
    assert message["related"][0]["name"] == "OPERATION"
    assert message["related"][0]["uri"].endswith(f"/v1/Messages/Operations/{operation_id}")


def test_a_bad_request_is_one_answer_listing_every_invalid_number(api: httpx.Client):
    to = [{"address": a, "channel": "PHONE"} for a in ("+15005550001", "+14155550100", "12345")]
    answer = api.post("/Messages", json={"to": to, "content": {"text": "x"}})
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert [(e["code"], e["context"]) for e in errors] == [
        (21614, "$.to[0].address"),
        (21614, "$.to[2].address"),
    ]
    assert error_of(answer)["message"].startswith("The address specified")


def test_send_bodies_are_refused_exactly_when_the_schema_refuses_them(
    raw_api: httpx.Client, sandbox: Sandbox, contract: Contract
):
    """Each spec example with one change (a field dropped or added, a string or array
    emptied): the sandbox refuses what the schema refuses, and accepts what it accepts unless
    a check the schema cannot express applies (an invalid number, an unknown sender address,
    a send time that is not a date-time)."""
    from .test_messages_requests import _mutations

    senders, pool = _seeded(raw_api), pool_id(raw_api)
    target = datetime(2030, 3, 25, tzinfo=timezone.utc).timestamp()
    sandbox.clock.advance(target - sandbox.clock.seconds())
    validator = contract.validator("#/$defs/SendMessagesRequest")
    tried, semantic = 0, 0
    for example in contract.examples("POST_Messages__request__*"):
        body = _with_seeded(example["value"], senders, pool)
        for variant in (body, *_mutations(body)):
            answer = raw_api.post("/Messages", json=variant)
            tried += 1
            if not validator.is_valid(variant):
                assert answer.status_code == 400, variant
            elif answer.status_code != 202:
                found = answer.json()["errors"][0]
                assert found["code"] in (21614, 20404) or found["context"].startswith(
                    "$.schedule.sendAt"
                ), (variant, found)
                semantic += 1
    assert tried > 500 and semantic < tried // 10
