"""The sandbox against the official contract: every answer validates, every spec example
request is accepted, and resources carry exactly the spec's fields."""

from __future__ import annotations

import re
from typing import Any

import httpx

from commstoolkit.sandbox import Sandbox

from .conftest import Contract, collect

SENDER_ID = re.compile(r"comms_sender_[0-7][a-hjkmnpqrstv-z0-9]{25,34}")


def _with_ids(value: Any, replacements: dict[str, str], fresh: list[str]) -> Any:
    """``value`` with every sender id swapped for a seeded one (same id -> same seeded id)."""
    if isinstance(value, dict):
        return {k: _with_ids(v, replacements, fresh) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_ids(v, replacements, fresh) for v in value]
    if isinstance(value, str) and SENDER_ID.fullmatch(value):
        if value not in replacements:
            replacements[value] = fresh.pop(0)
        return replacements[value]
    return value


def test_a_tour_of_every_endpoint_validates_against_the_schemas(
    api: httpx.Client, sandbox: Sandbox, contract: Contract
):
    before = contract.checked
    senders, _ = collect(api, "/Senders", pageSize=100)
    sender = senders[0]
    calls = [
        api.get("/Senders", params={"channel": "SMS", "status": "ACTIVATED"}),
        api.get(f"/Senders/{sender['id']}"),
        api.post("/Senders/Search", json={"address": sender["address"], "channel": "SMS"}),
        api.post("/SenderPools", json={"name": "Tour", "senders": [{"senderId": sender["id"]}]}),
    ]
    operation_id = calls[-1].json()["operationId"]
    calls.append(api.get(f"/SenderPools/Operations/{operation_id}"))
    sandbox.clock.advance(60)
    calls.append(api.get("/SenderPools", params={"operationId": operation_id}))
    pool_id = calls[-1].json()["senderPools"][0]["id"]
    calls += [
        api.get("/SenderPools"),
        api.get(f"/SenderPools/{pool_id}"),
        api.get(f"/SenderPools/{pool_id}/Senders"),
        api.post(f"/SenderPools/{pool_id}/Senders", json=[{"senderId": senders[1]["id"]}]),
    ]
    add_id = calls[-1].json()["operationId"]
    calls += [
        api.get(f"/SenderPools/{pool_id}/Senders/Operations/{add_id}"),
        api.get("/SenderPools/Operations", params={"status": "PROCESSING"}),
        api.patch(f"/SenderPools/{pool_id}", json={"name": "Tour 2", "tags": {"k": "v"}}),
        api.delete(f"/SenderPools/{pool_id}/Senders/{sender['id']}"),
        api.delete(f"/SenderPools/{pool_id}"),
        api.get(f"/SenderPools/{pool_id}"),
        api.get("/Senders", params={"pageSize": 0}),
        api.get("/Nowhere"),
        api.put("/Senders"),
    ]
    statuses = [c.status_code for c in calls]
    assert statuses == [200] * 3 + [202, 200, 200, 200, 200, 200, 202, 200, 200] + [202] * 3 + [
        404,
        400,
        404,
        405,
    ]
    assert contract.checked - before == len(calls) + 3  # + the pages of the first listing


def test_every_spec_example_request_is_accepted(
    api: httpx.Client, sandbox: Sandbox, contract: Contract
):
    seeded = [s["id"] for s in collect(api, "/Senders", pageSize=1000)[0]]
    pool_id = collect(api, "/SenderPools", key="senderPools")[0][0]["id"]
    cases = [
        ("POST", "/SenderPools", "/SenderPools", 202),
        ("POST", "/SenderPools/{senderPoolId}/Senders", f"/SenderPools/{pool_id}/Senders", 202),
        ("PATCH", "/SenderPools/{senderPoolId}", f"/SenderPools/{pool_id}", 202),
        ("POST", "/Senders/Search", "/Senders/Search", 200),
    ]
    tried = 0
    for method, spec_path, path, status in cases:
        name = (
            f"{method}_{spec_path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}"
        )
        examples = contract.examples(f"{name}__request__*")
        assert examples, name
        for example in examples:
            body = _with_ids(example["value"], {}, list(seeded))
            contract.validate_request(method, spec_path, body)
            answer = api.request(method, path, json=body)
            assert answer.status_code == status, (example["example_name"], answer.text)
            tried += 1
    assert tried == 6


def test_the_spec_example_pool_is_created_as_asked(
    api: httpx.Client, sandbox: Sandbox, contract: Contract
):
    seeded = [s["id"] for s in collect(api, "/Senders", pageSize=1000)[0]]
    (example,) = contract.examples("POST_SenderPools__request__CreatingASenderPoolWithInitial*")
    replacements: dict[str, str] = {}
    body = _with_ids(example["value"], replacements, seeded)
    operation_id = api.post("/SenderPools", json=body).json()["operationId"]
    sandbox.clock.advance(10)
    (pool,) = api.get("/SenderPools", params={"operationId": operation_id}).json()["senderPools"]
    assert (pool["name"], pool["tags"]) == (body["name"], body["tags"])
    members = collect(api, f"/SenderPools/{pool['id']}/Senders")[0]
    assert sorted(m["id"] for m in members) == sorted(set(replacements.values()))


def test_resources_carry_exactly_the_fields_of_the_spec_examples(
    api: httpx.Client, sandbox: Sandbox, contract: Contract
):
    sender = api.get("/Senders").json()["senders"][0]
    pool = api.get("/SenderPools").json()["senderPools"][0]
    operation = api.get("/SenderPools/Operations").json()["operations"][0]
    missing = api.get("/SenderPools/comms_senderpool_01h9krwprkeee8fzqspvwy6nq8")
    pairs = [
        (sender, "GET_Senders_senderId__response-200__RcsSender"),
        (pool, "GET_SenderPools_senderPoolId__response-200__SimpleSmsWhatsappCapableSenderPool"),
        (operation, "GET_SenderPools_Operations_operationId__response-200__*"),
        (missing.json(), "SHARED__response-404__ResourceNotFound"),
        (missing.json()["errors"][0], "SHARED__response-404__ResourceNotFound"),
    ]
    for ours, pattern in pairs:
        spec = contract.examples(pattern)[0]["value"]
        if "errors" in spec and "errors" not in ours:
            spec = spec["errors"][0]
        assert set(ours) == set(spec), pattern
    assert set(operation["stats"]) == {"total", "queued", "created", "failed"}
