"""Fault rules: error statuses, probabilities, limits, latency, dropped connections,
malformed bodies; set in code or through /_sandbox/faults."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from commstoolkit.sandbox import Sandbox

from .conftest import Contract, error_of, make_client

CONTROL = "https://sandbox.comms.invalid/_sandbox"


def _operations(sandbox: Sandbox) -> int:
    return sandbox.state()["operations"]


@pytest.mark.parametrize(
    ("status", "retry_after", "header"),
    [(429, 7, "7"), (429, None, "1"), (503, 2.5, "3"), (503, None, "1"), (500, None, None)],
)
def test_status_rules_answer_the_error_without_processing(
    raw_api: httpx.Client, sandbox: Sandbox, contract: Contract, status, retry_after, header
):
    sandbox.faults.add("POST /SenderPools", status=status, retry_after=retry_after)
    before = _operations(sandbox)
    answer = raw_api.post("/SenderPools", json={"name": "x"})
    assert answer.status_code == status
    assert answer.headers.get("retry-after") == header
    assert error_of(answer)["code"] == 20000 + status
    contract.validate_response("POST", "/SenderPools", status, answer.json(), answer.headers)
    assert _operations(sandbox) == before
    assert raw_api.get("/SenderPools").status_code == 200  # other routes untouched


def test_times_limits_how_often_a_rule_fires(raw_api: httpx.Client, sandbox: Sandbox):
    rule = sandbox.faults.add("GET /Senders", status=503, times=2)
    statuses = [raw_api.get("/Senders").status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    (listed,) = sandbox.faults.list()
    assert (listed.id, listed.remaining, listed.fired, listed.times) == (rule, 0, 2, 2)


def _pattern(seed: int) -> list[int]:
    with Sandbox(":memory:", seed=seed, speed=0) as box, make_client(box) as client:
        box.faults.add("GET /Senders", status=500, probability=0.5)
        return [client.get("/Senders", params={"pageSize": 1}).status_code for _ in range(40)]


def test_probability_is_deterministic_for_a_seed():
    first, again, other = _pattern(7), _pattern(7), _pattern(8)
    assert first == again
    assert first != other
    assert 8 <= first.count(500) <= 32


def test_probability_zero_never_fires_and_one_always_does(raw_api, sandbox: Sandbox):
    sandbox.faults.add("GET /Senders", status=500, probability=0.0)
    assert {raw_api.get("/Senders").status_code for _ in range(10)} == {200}
    sandbox.faults.add("GET /Senders", status=503, probability=1.0)
    assert {raw_api.get("/Senders").status_code for _ in range(10)} == {503}


def test_route_globs_and_star_but_never_control_endpoints(raw_api, sandbox: Sandbox):
    pool_id = raw_api.get("/SenderPools").json()["senderPools"][0]["id"]
    sandbox.faults.add("GET /SenderPools/{senderPoolId}*", status=503)
    assert raw_api.get(f"/SenderPools/{pool_id}/Senders").status_code == 503
    assert raw_api.get(f"/SenderPools/{pool_id}").status_code == 503
    assert raw_api.get("/SenderPools").status_code == 200
    sandbox.faults.clear()
    sandbox.faults.add("*", status=429)
    assert raw_api.get("/Senders").status_code == 429
    assert raw_api.post("/Senders/Search", json={}).status_code == 429
    assert raw_api.get(f"{CONTROL}/state").status_code == 200
    assert raw_api.delete(f"{CONTROL}/faults").status_code == 200
    assert raw_api.get("/Senders").status_code == 200


def test_the_first_rule_that_fires_decides(raw_api: httpx.Client, sandbox: Sandbox):
    sandbox.faults.add("GET /Senders", status=429, times=1)
    sandbox.faults.add("*", status=503)
    assert [raw_api.get("/Senders").status_code for _ in range(2)] == [429, 503]


def test_latency_delays_the_answer(raw_api: httpx.Client, sandbox: Sandbox):
    sandbox.faults.add("GET /Senders", latency=0.3)
    started = time.monotonic()
    assert raw_api.get("/Senders").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_latency_beyond_the_read_timeout_times_out_after_processing(raw_api, sandbox: Sandbox):
    sandbox.faults.add("POST /SenderPools", latency=5.0)
    before = _operations(sandbox)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        raw_api.post("/SenderPools", json={"name": "slow"}, timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 2
    assert _operations(sandbox) == before + 1


def test_drop_before_processing_leaves_nothing_behind(raw_api, sandbox: Sandbox):
    sandbox.faults.add("POST /SenderPools", drop="before", times=1)
    before = _operations(sandbox)
    with pytest.raises(httpx.RemoteProtocolError):
        raw_api.post("/SenderPools", json={"name": "lost"})
    assert _operations(sandbox) == before
    assert raw_api.post("/SenderPools", json={"name": "kept"}).status_code == 202


def test_drop_after_processing_commits_the_change(raw_api, sandbox: Sandbox):
    sandbox.faults.add("POST /SenderPools", drop="after", times=1)
    before = _operations(sandbox)
    with pytest.raises(httpx.RemoteProtocolError):
        raw_api.post("/SenderPools", json={"name": "ambiguous"})
    assert _operations(sandbox) == before + 1
    sandbox.clock.advance(5)
    names = [p["name"] for p in raw_api.get("/SenderPools").json()["senderPools"]]
    assert "ambiguous" in names


def test_malformed_bodies_keep_the_status_but_are_not_json(raw_api, sandbox: Sandbox):
    sandbox.faults.add("GET /Senders", malformed=True, times=1)
    answer = raw_api.get("/Senders")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        answer.json()
    assert raw_api.get("/Senders").json()["senders"]


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"route": "GET /Nowhere", "status": 500}, "route"),
        ({"route": "GET /senders", "status": 500}, "route"),
        ({"route": "*", "status": 200}, "status"),
        ({"route": "*", "status": 503, "probability": 1.5}, "probability"),
        ({"route": "*", "status": 503, "times": 0}, "times"),
        ({"route": "*", "drop": "sometimes"}, "drop"),
        ({"route": "*", "latency": -1}, "latency"),
        ({"route": "*"}, "needs status, drop, malformed or latency"),
    ],
)
def test_bad_rules_are_refused_naming_the_argument(sandbox: Sandbox, kwargs: dict, named: str):
    with pytest.raises(ValueError, match=named):
        sandbox.faults.add(**kwargs)
    assert sandbox.faults.list() == []


def test_rules_through_the_control_endpoints(raw_api: httpx.Client, sandbox: Sandbox):
    rule = {"route": "GET /Senders", "status": 429, "retryAfter": 4, "times": 1}
    created = raw_api.post(f"{CONTROL}/faults", json=rule)
    assert created.status_code == 201
    assert created.json() | rule == created.json()
    assert raw_api.get(f"{CONTROL}/faults").json()["faults"] == [created.json()]
    limited = raw_api.get("/Senders")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "4")
    raw_api.post(f"{CONTROL}/faults", json={"route": "*", "drop": "before"})
    second = raw_api.get(f"{CONTROL}/faults").json()["faults"][1]["id"]
    assert raw_api.delete(f"{CONTROL}/faults/{second}").status_code == 200
    assert [r.id for r in sandbox.faults.list()] == [created.json()["id"]]
    assert raw_api.delete(f"{CONTROL}/faults/{second}").status_code == 404
    assert raw_api.delete(f"{CONTROL}/faults").json() == {"faults": []}
    assert sandbox.faults.list() == []


@pytest.mark.parametrize(
    ("body", "context"),
    [
        ({"status": 503}, "$.route"),
        ({"route": "*", "status": "503"}, "$.status"),
        ({"route": "*", "retryAfter": -1, "status": 429}, "$.retryAfter"),
        ({"route": "*", "status": 503, "colour": "red"}, "$.colour"),
        ({"route": "GET /Nope", "status": 503}, "$.route"),
    ],
)
def test_bad_rules_through_the_control_endpoint_are_400s(raw_api, body: dict, context: str):
    answer = raw_api.post(f"{CONTROL}/faults", json=body)
    assert (answer.status_code, error_of(answer)["context"]) == (400, context)
