"""Bad input to the sandbox SERVER's raw HTTP API: always a 4xx ``errors[]`` envelope naming the
field, never a 5xx, never a stack trace, and nothing half-applied.

Requests go over loopback to ``run_server`` with plain httpx, so nothing of the client's own
checking stands in between. Each case names the field the answer must point at (in
``context`` or, for routing and auth, the message).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.front.dispatch import MAX_BODY
from commstoolkit.sandbox.server import RunningServer

OK_SENDER = "comms_sender_01h9krwprkeee8fzqspvwy6nq8"  # well formed, unknown
ONE = [{"address": "+15005550006", "channel": "PHONE"}]
TEXT = {"text": "hello"}


@dataclass(frozen=True)
class Case:
    """One bad request; ``field`` must appear in the answer's context (or its message)."""

    id: str
    method: str
    path: str
    field: str
    status: int = 400
    json: Any = None
    content: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = True


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


CASES = [
    # -- bad JSON ---------------------------------------------------------------------------
    Case("truncated JSON", "POST", "/SenderPools", "$", content=b'{"name": "x"'),
    Case("JSON array for an object", "POST", "/SenderPools", "$", json=[]),
    Case("empty body", "POST", "/SenderPools", "$", content=b""),
    Case("invalid UTF-8", "POST", "/SenderPools", "$", content=b'{"name": "\xff\xfe"}'),
    Case(
        "object for an array",
        "POST",
        "/SenderPools/{pool}/Senders",
        "$",
        json={"senderId": OK_SENDER},
    ),
    Case("100,000 nested arrays", "POST", "/SenderPools", "$", content=_nested(100_000)),
    Case(
        "NaN",
        "POST",
        "/Senders/Search",
        "$",
        content=b'{"address": "+1", "channel": "SMS", "pageSize": NaN}',
    ),
    Case("trailing garbage", "POST", "/Messages", "$", content=b'{"to": []} {"to": []}'),
    # -- wrong types --------------------------------------------------------------------------
    Case("name a number", "POST", "/SenderPools", "$.name", json={"name": 5}),
    Case("tags a list", "POST", "/SenderPools", "$.tags", json={"name": "x", "tags": ["a"]}),
    Case(
        "senders a string",
        "POST",
        "/SenderPools",
        "$.senders",
        json={"name": "x", "senders": OK_SENDER},
    ),
    Case(
        "senderId a number",
        "POST",
        "/SenderPools",
        "$.senders[0].senderId",
        json={"name": "x", "senders": [{"senderId": 5}]},
    ),
    Case(
        "tag value a number",
        "PATCH",
        "/SenderPools/{pool}",
        "$.tags.team",
        json={"tags": {"team": 5}},
    ),
    Case("name null", "PATCH", "/SenderPools/{pool}", "$.name", json={"name": None}),
    Case(
        "address a number",
        "POST",
        "/Senders/Search",
        "$.address",
        json={"address": 1, "channel": "SMS"},
    ),
    Case(
        "pageSize a string in a body",
        "POST",
        "/Senders/Search",
        "$.pageSize",
        json={"address": "+1", "channel": "SMS", "pageSize": "10"},
    ),
    Case("to a string", "POST", "/Messages", "$.to", json={"to": "+15005550006", "content": TEXT}),
    Case(
        "text a number",
        "POST",
        "/Messages",
        "$.content.text",
        json={"to": ONE, "content": {"text": 5}},
    ),
    Case(
        "priority a string",
        "POST",
        "/Messages",
        "$.from.channels.priority[0].priority",
        json={
            "to": ONE,
            "content": TEXT,
            "from": {
                "senderPoolId": "{pool}",
                "channels": {"priority": [{"channel": "SMS", "priority": "1"}]},
            },
        },
    ),
    # -- missing fields -------------------------------------------------------------------------
    Case("search without address", "POST", "/Senders/Search", "$.address", json={"channel": "SMS"}),
    Case("send without to", "POST", "/Messages", "$.to", json={"content": TEXT}),
    Case("send without content", "POST", "/Messages", "$.content", json={"to": ONE}),
    Case("PATCH without name or tags", "PATCH", "/SenderPools/{pool}", "name", json={}),
    Case("resolve without recipients", "POST", "/Senders/Resolve", "$.recipientAddresses", json={}),
    Case(
        "add item without senderId",
        "POST",
        "/SenderPools/{pool}/Senders",
        "$[0].senderId",
        json=[{"id": OK_SENDER}],
    ),
    # -- half valid: nothing of it may be applied ------------------------------------------
    Case(
        "a good and a bad sender",
        "POST",
        "/SenderPools/{pool}/Senders",
        "$[1].senderId",
        json=[{"senderId": OK_SENDER}, {"senderId": "comms_sender_nope"}],
    ),
    Case(
        "a good name and a bad tag",
        "PATCH",
        "/SenderPools/{pool}",
        "$.tags",
        json={"name": "renamed", "tags": {"bad key!": "v"}},
    ),
    Case(
        "a good recipient and an invalid one",
        "POST",
        "/Messages",
        "$.to[1].address",
        json={"to": [*ONE, {"address": "+15005550001", "channel": "PHONE"}], "content": TEXT},
    ),
    # -- oversized ------------------------------------------------------------------------------
    Case(
        "body over the cap",
        "POST",
        "/SenderPools",
        "413",
        status=413,
        content=b'{"name": "' + b"x" * (MAX_BODY + 10) + b'"}',
    ),
    Case(
        "10,001 recipients",
        "POST",
        "/Messages",
        "$.to",
        json={
            "to": [
                {"address": f"+1914318{i % 10_000:04d}", "channel": "PHONE"} for i in range(10_001)
            ],
            "content": TEXT,
        },
    ),
    Case(
        "10,001 senders",
        "POST",
        "/SenderPools",
        "$.senders",
        json={"name": "x", "senders": [{"senderId": OK_SENDER}] * 10_001},
    ),
    Case(
        "11 tags",
        "POST",
        "/SenderPools",
        "$.tags",
        json={"name": "x", "tags": {f"k{i}": "v" for i in range(11)}},
    ),
    Case(
        "a 257-character tag value",
        "PATCH",
        "/SenderPools/{pool}",
        "$.tags.k",
        json={"tags": {"k": "v" * 257}},
    ),
    Case(
        "1,601 characters of text",
        "POST",
        "/Messages",
        "$.content.text",
        json={"to": ONE, "content": {"text": "x" * 1601}},
    ),
    # -- bad ids ----------------------------------------------------------------------------------
    Case("sender id in the path", "GET", "/Senders/not-an-id", "senderId"),
    Case(
        "upper-case pool id",
        "GET",
        "/SenderPools/COMMS_SENDERPOOL_01H9KRWPRKEEE8FZQSPVWY6NQ8",
        "senderPoolId",
    ),
    Case("member id", "DELETE", "/SenderPools/{pool}/Senders/comms_sender_", "senderId"),
    Case("operation id", "GET", "/SenderPools/Operations/comms_operation_x", "operationId"),
    Case("message id", "GET", "/Messages/comms_message_!!", "messageId"),
    Case(
        "operationId filter", "GET", "/SenderPools", "operationId", params={"operationId": "op_1"}
    ),
    Case(
        "pool id of an add",
        "POST",
        "/SenderPools/comms_sender_01h9krwprkeee8fzqspvwy6nq8/Senders",
        "senderPoolId",
        json=[{"senderId": OK_SENDER}],
    ),
    Case(
        "a pool id where a sender id goes",
        "POST",
        "/SenderPools/{pool}/Senders",
        "$[0].senderId",
        json=[{"senderId": "{pool}"}],
    ),
    Case(
        "right-to-left override in an id",
        "GET",
        "/Senders/comms_sender_%E2%80%AE01h9krwp",
        "senderId",
    ),
    # -- bad enums --------------------------------------------------------------------------------
    Case("lower-case channel", "GET", "/Senders", "channel", params={"channel": "sms"}),
    Case("unknown status", "GET", "/Senders", "status", params={"status": "ACTIVE"}),
    Case("operation status", "GET", "/SenderPools/Operations", "status", params={"status": "DONE"}),
    Case(
        "search channel",
        "POST",
        "/Senders/Search",
        "$.channel",
        json={"address": "+1", "channel": "FAX"},
    ),
    Case("message status filter", "GET", "/Messages", "status", params={"status": "LOST"}),
    Case(
        "recipient channel SMS",
        "POST",
        "/Messages",
        "$.to[0].channel",
        json={"to": [{"address": "+15005550006", "channel": "SMS"}], "content": TEXT},
    ),
    Case("full-width SMS", "GET", "/Senders", "channel", params={"channel": "ＳＭＳ"}),
    # -- page tokens and sizes --------------------------------------------------------------------
    Case("garbage token", "GET", "/Senders", "pageToken", params={"pageToken": "%%%garbage"}),
    Case(
        "token of another listing",
        "GET",
        "/Senders",
        "pageToken",
        params={"pageToken": _token({"after": None, "scope": "0" * 16})},
    ),
    Case(
        "token holding a list",
        "GET",
        "/SenderPools",
        "pageToken",
        params={"pageToken": _token([1, 2, 3])},
    ),
    Case(
        "token with a number for after",
        "GET",
        "/Messages",
        "pageToken",
        params={"pageToken": _token({"after": 7, "scope": "x"})},
    ),
    Case("pageSize 0", "GET", "/Senders", "pageSize", params={"pageSize": 0}),
    Case("pageSize 1001", "GET", "/SenderPools/Operations", "pageSize", params={"pageSize": 1001}),
    Case("pageSize abc", "GET", "/Senders", "pageSize", params={"pageSize": "abc"}),
    Case(
        "pageSize 20 digits",
        "GET",
        "/Senders",
        "pageSize",
        params={"pageSize": "99999999999999999999"},
    ),
    Case("pageSize twice", "GET", "/Senders", "pageSize", params={"pageSize": ["1", "2"]}),
    Case(
        "pageSize 1e308 in a body",
        "POST",
        "/Senders/Search",
        "$.pageSize",
        json={"address": "+1", "channel": "SMS", "pageSize": 1e308},
    ),
    # -- unicode, empty strings, dates ------------------------------------------------------------
    Case(
        "accented tag key",
        "POST",
        "/SenderPools",
        "$.tags",
        json={"name": "x", "tags": {"tëam": "ops"}},
    ),
    Case("unpaired surrogate", "POST", "/SenderPools", "$.name", content=b'{"name": "\\udead"}'),
    Case("empty startDate", "GET", "/Senders", "startDate", params={"startDate": ""}),
    Case(
        "startDate yesterday", "GET", "/SenderPools", "startDate", params={"startDate": "yesterday"}
    ),
    Case(
        "end before start",
        "GET",
        "/Senders",
        "endDate",
        params={"startDate": "2025-01-02T00:00:00Z", "endDate": "2025-01-01T00:00:00Z"},
    ),
    Case(
        "empty message text",
        "POST",
        "/Messages",
        "$.content.text",
        json={"to": ONE, "content": {"text": ""}},
    ),
    Case("empty tag key", "POST", "/SenderPools", "$.tags", json={"name": "x", "tags": {"": "v"}}),
    Case("tags filter without a colon", "GET", "/Messages", "tags", params={"tags": "a"}),
    Case(
        "year 0 in a schedule",
        "POST",
        "/Messages",
        "$.schedule.sendAt[0]",
        json={"to": ONE, "content": TEXT, "schedule": {"sendAt": ["0000-01-01T00:00:00Z"]}},
    ),
    # -- huge numbers and nested junk ----------------------------------------------------------
    Case(
        "4,301-digit number",
        "POST",
        "/SenderPools",
        "$",
        content=b'{"name": "x", "n": ' + b"7" * 4301 + b"}",
    ),
    Case(
        "nested arrays for senders",
        "POST",
        "/SenderPools",
        "$.senders[0]",
        json={"name": "x", "senders": [[[[{}]]]]},
    ),
    Case(
        "an object for an address",
        "POST",
        "/Messages",
        "$.to[0].address",
        json={"to": [{"address": {"a": {"b": []}}, "channel": "PHONE"}], "content": TEXT},
    ),
    Case(
        "an object for a tag value",
        "POST",
        "/SenderPools",
        "$.tags.a",
        json={"name": "x", "tags": {"a": {"b": "c"}}},
    ),
    # -- routing and auth ----------------------------------------------------------------------
    Case(
        "wrong password",
        "GET",
        "/Senders",
        "Authentication",
        status=401,
        auth=False,
        headers={"Authorization": "Basic " + base64.b64encode(b"AC0:nope").decode()},
    ),
    Case("PUT senders", "PUT", "/Senders", "PUT", status=405, json={}),
    Case("version 2", "GET", "//v2/Senders", "v2", status=404),
    # -- control endpoints ----------------------------------------------------------------------
    Case(
        "fault status text",
        "POST",
        "//_sandbox/faults",
        "$.status",
        json={"route": "*", "status": "x"},
    ),
    Case(
        "negative senders on reset", "POST", "//_sandbox/reset", "$.senders", json={"senders": -1}
    ),
    Case("speed a word", "POST", "//_sandbox/clock", "$.speed", json={"speed": "fast"}),
    Case("fault id a word", "DELETE", "//_sandbox/faults/abc", "faultId", status=404),
    Case("unknown control field", "POST", "//_sandbox/clock", "$.rewind", json={"rewind": 5}),
]


@pytest.fixture(scope="module")
def api(served: tuple[Sandbox, RunningServer]) -> Iterator[tuple[Sandbox, httpx.Client, dict]]:
    box, server = served
    with httpx.Client(base_url=server.base_url, auth=box.credentials(), timeout=30) as client:
        pool = client.get("/SenderPools").json()["senderPools"][0]["id"]
        yield box, client, {"pool": pool}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{pool}" in value else value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def snapshot(box: Sandbox, pool_id: str) -> tuple:
    """What a rejected request must leave as it was."""
    state = {k: v for k, v in box.state().items() if k != "now"}
    clock = {k: v for k, v in box.clock.to_wire().items() if k in ("speed", "instant")}
    pool = box.backend.get_pool(pool_id)
    return state, clock, pool, box.backend.pool_member_ids(pool_id), box.faults.list()


def assert_envelope(answer: httpx.Response) -> list[dict]:
    """A 4xx with the ``errors[]`` envelope, and no trace of Python in it."""
    assert 400 <= answer.status_code < 500, f"{answer.status_code}: {answer.text[:300]}"
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"errors"} and body["errors"], body
    for item in body["errors"]:
        assert set(item) == {"code", "message", "infoUrl", "context"}
        assert isinstance(item["code"], int) and isinstance(item["message"], str)
        assert item["infoUrl"].startswith("https://www.twilio.com/docs/errors/")
        assert item["context"] is None or isinstance(item["context"], str)
    for marker in ("Traceback", 'File "', ".py", "Exception"):
        assert marker not in answer.text, answer.text[:300]
    return body["errors"]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_request_gets_a_4xx_envelope_naming_the_field(api, case: Case):
    box, client, ids = api
    box.faults.clear()
    before = snapshot(box, ids["pool"])
    path = case.path.format(**ids)
    if path.startswith("//"):  # from the server's root, not /v1
        path = str(client.base_url).rstrip("/").removesuffix("/v1") + path[1:]
    kwargs: dict[str, Any] = {"params": case.params or None, "headers": case.headers}
    if case.content is not None:
        kwargs["content"] = case.content
    elif case.json is not None:
        kwargs["json"] = _fill(case.json, ids)
    if not case.auth:
        kwargs["auth"] = None
    answer = client.request(case.method, path, **kwargs)
    assert answer.status_code == case.status, answer.text[:300]
    errors = assert_envelope(answer)
    named = " ".join(f"{e['context']} {e['message']} {e['code']}" for e in errors)
    assert case.field in named, named
    assert snapshot(box, ids["pool"]) == before
