"""``ct.EventReceiver`` against the sandbox's real HTTP server: a send's events arrive message
by message as the API reports them; Basic auth and the signature are checked (forged and
unsigned posts refused, a flood of bad posts survived); an event delivered twice is kept once;
JSON-lines persistence reads back the same frame; arguments checked before anything listens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.sandbox.server import RunningServer

COMMS = "com.twilio.comms-api."
TYPES = [
    json.dumps({"type": COMMS + name})
    for name in ("operation.processing", "operation.completed", "message.queued",
                 "message.sent", "message.delivered", "message.undelivered", "message.failed",
                 "message.read")
]  # fmt: skip
USER, PASSWORD = "hook", "s3cret:pw"
MIX = ["+15005550006", "+15005550007", "+15005550003", "+15005550004", "+15005550002"] + [
    f"+1415555{n:04d}" for n in range(15)
]


@pytest.fixture
def receiver(sandbox: ct.Sandbox, tmp_path: Path) -> Iterator[ct.EventReceiver]:
    with ct.EventReceiver(
        username=USER, password=PASSWORD, auth_token=sandbox.auth_token,
        persist_to=tmp_path / "events.jsonl",
    ) as found:  # fmt: skip
        yield found


def subscribe(served: RunningServer, sandbox: ct.Sandbox, receiver: ct.EventReceiver) -> None:
    """Sink -> Test -> the test id the receiver got -> Validate -> subscription."""
    with httpx.Client(base_url=served.events_url, auth=sandbox.credentials()) as events:
        configuration = {"destination": receiver.destination(USER, PASSWORD), "method": "POST"}
        sid = events.post("/Sinks", data={
            "Description": "receiver", "SinkType": "webhook",
            "SinkConfiguration": json.dumps(configuration),
        }).json()["sid"]  # fmt: skip
        events.post(f"/Sinks/{sid}/Test")
        (test,) = receiver.wait_for(count=1, timeout=10)
        events.post(f"/Sinks/{sid}/Validate", data={"TestId": test["data"]["test_id"]})
        answer = events.post("/Subscriptions", data={
            "Description": "all", "SinkSid": sid, "Types": TYPES
        })  # fmt: skip
        assert answer.status_code == 201, answer.text


def send_and_track(served: RunningServer, sandbox: ct.Sandbox) -> tuple[str, list[dict]]:
    """Send MIX, let the sandbox finish it; (operation id, every message with attempts)."""
    with httpx.Client(base_url=served.base_url, auth=sandbox.credentials()) as api:
        to = [{"address": a, "channel": "PHONE"} for a in MIX]
        operation_id = api.post("/Messages", json={
            "to": to, "content": {"text": "hi"}
        }).json()["operationId"]  # fmt: skip
        sandbox.clock.advance(600)
        listed = api.get("/Messages", params={"operationId": operation_id, "pageSize": 100})
        messages = [api.get(f"/Messages/{m['id']}").json() for m in listed.json()["messages"]]
    return operation_id, messages


def test_a_send_arrives_message_by_message_as_the_api_reports(served, sandbox, receiver):
    subscribe(served, sandbox, receiver)
    operation_id, messages = send_and_track(served, sandbox)
    receiver.wait_for(final=[m["id"] for m in messages], timeout=20)
    frame = receiver.frame()
    assert list(frame.columns) == [
        "id", "type", "status", "time", "message_id", "operation_id", "attempt", "error_code",
        "sender", "sender_channel", "recipient", "recipient_channel", "tags",
    ]  # fmt: skip
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["attempt"].dtype) == "Int64" and str(frame["error_code"].dtype) == "Int64"
    assert frame["id"].is_unique
    sends = frame[frame["operation_id"] == operation_id]
    for message in messages:
        mine = sends[sends["message_id"] == message["id"]]
        assert mine["time"].is_monotonic_increasing
        assert mine["status"].iloc[-1] == message["status"]  # the last event is the status
        for n, attempt in enumerate(message["attempts"], 1):
            steps = mine[mine["attempt"] == n]
            assert steps["status"].iloc[-1] == attempt["status"]
            ended = steps[steps["status"].isin(["DELIVERED", "UNDELIVERED", "FAILED"])]
            code = attempt["error"]["code"] if attempt["error"] else None
            assert (
                ended["error_code"].iloc[0] is pd.NA
                if code is None
                else (ended["error_code"].iloc[0] == code)
            )
            assert ended["recipient"].iloc[0] == attempt["to"][0]["address"]
    operations = sends[sends["message_id"].isna()]
    assert operations["status"].tolist() == ["PROCESSING", "COMPLETED"]
    assert receiver.duplicates == 0 and receiver.refused == 0


def _signed_post(receiver: ct.EventReceiver, token: str, body: bytes, **headers: str):
    url = f"{receiver.url}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    mac = hmac.new(token.encode(), url.encode(), hashlib.sha1).digest()
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    sent = {
        "X-Twilio-Signature": base64.b64encode(mac).decode(),
        "Authorization": f"Basic {auth}",
        "Content-Type": "application/json",
        **headers,
    }
    return httpx.post(url, content=body, headers=sent)  # fmt: skip


EVENT = {
    "specversion": "1.0", "type": COMMS + "message.delivered", "source": "/v1/Messages/m1",
    "id": "evt-1", "time": "2025-06-02T09:00:03.250Z",
    "data": json.dumps({"message_id": "m1", "operation_id": "op1", "attempt": 1,
                        "error_code": None, "to": {"address": "+14155550100"}}),
}  # fmt: skip


def test_an_event_delivered_twice_is_kept_once(sandbox, receiver):
    body = json.dumps([EVENT]).encode()
    assert _signed_post(receiver, sandbox.auth_token, body).status_code == 204
    assert _signed_post(receiver, sandbox.auth_token, body).status_code == 204
    assert len(receiver) == 1 and receiver.duplicates == 1
    row = receiver.frame().iloc[0]
    assert (row["status"], row["message_id"], row["attempt"]) == ("DELIVERED", "m1", 1)
    assert row["time"] == pd.Timestamp("2025-06-02T09:00:03.250Z")


def test_forged_and_unsigned_posts_are_refused_and_a_flood_is_survived(sandbox, receiver):
    body = json.dumps([EVENT]).encode()
    assert _signed_post(receiver, "not-the-token", body).status_code == 401
    assert (
        _signed_post(receiver, sandbox.auth_token, body, **{"X-Twilio-Signature": ""}).status_code
        == 401
    )
    wrong_user = base64.b64encode(b"hook:guess").decode()
    answer = _signed_post(receiver, sandbox.auth_token, body, Authorization=f"Basic {wrong_user}")
    assert answer.status_code == 401
    tampered = _signed_post(receiver, sandbox.auth_token, body)  # signed, then body changed
    assert tampered.status_code == 204
    forged = httpx.post(tampered.request.url, content=body.replace(b"m1", b"m2"),
                        headers=dict(tampered.request.headers))  # fmt: skip
    assert forged.status_code == 401

    def flood() -> None:
        for _ in range(50):
            httpx.post(receiver.url, content=b"[not json", headers={"Authorization": "Basic x"})

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert receiver.refused == 4 + 200
    assert len(receiver) == 1  # only the genuine post was kept
    assert httpx.get(receiver.url).status_code == 405  # still up
    assert (
        _signed_post(
            receiver, sandbox.auth_token, json.dumps([{**EVENT, "id": "evt-2"}]).encode()
        ).status_code
        == 204
    )
    assert len(receiver) == 2


def test_the_json_lines_file_reads_back_the_same_frame(sandbox, receiver, tmp_path):
    for n in range(3):
        event = {**EVENT, "id": f"evt-{n}", "time": f"2025-06-02T09:00:0{n}.000Z"}
        _signed_post(receiver, sandbox.auth_token, json.dumps([event]).encode())
    path = tmp_path / "events.jsonl"
    assert len(path.read_text().splitlines()) == 3
    pd.testing.assert_frame_equal(ct.load_events(path), receiver.frame())
    receiver.stop()
    with ct.EventReceiver(auth_token=sandbox.auth_token, persist_to=path) as again:
        assert [e["id"] for e in again.events()] == ["evt-0", "evt-1", "evt-2"]


def test_arguments_are_checked_before_anything_listens():
    with pytest.raises(ct.InvalidInputError) as caught:
        ct.EventReceiver()
    assert caught.value.field == "auth_token" and "username and password" in str(caught.value)
    for kwargs, field in (
        ({"auth_token": "t", "port": 70000}, "port"),
        ({"auth_token": "t", "path": "events"}, "path"),
        ({"username": "u"}, "password"),
        ({"auth_token": "t", "public_url": "ftp://x"}, "public_url"),
        ({"auth_token": "t", "public_url": "https://u:p@x.example/e"}, "public_url"),
    ):
        with pytest.raises(ct.InvalidInputError) as caught:
            ct.EventReceiver(**kwargs)
        assert caught.value.field == field


def test_loopback_by_default_no_secret_in_its_repr_and_a_clear_timeout(sandbox):
    with ct.EventReceiver(username=USER, password=PASSWORD, auth_token=sandbox.auth_token) as r:
        assert r.url.startswith("http://127.0.0.1:") and r.url.endswith("/events")
        assert PASSWORD not in repr(r) and sandbox.auth_token not in repr(r)
        assert r.destination(USER, PASSWORD).startswith("http://hook:s3cret%3Apw@127.0.0.1:")
        with pytest.raises(TimeoutError, match="1 more event"):
            r.wait_for(count=1, timeout=0.2)


def test_a_notebooks_embedded_sandbox_delivers_while_asked(tmp_path: Path):
    """The README's in-process way: ``ct.connect()``'s sandbox delivers to a receiver inside
    ``with client.sandbox.events.delivering():``."""
    client = ct.connect(sandbox=True, db=tmp_path / "sandbox.sqlite3")
    sandbox = client.sandbox
    sandbox.clock.instant = True
    auth = sandbox.credentials()
    with (
        ct.EventReceiver(auth_token=sandbox.auth_token) as receiver,
        httpx.Client(
            transport=sandbox.transport(), base_url="https://sandbox.invalid/events/v1", auth=auth
        ) as events,
        httpx.Client(transport=sandbox.transport(), base_url=sandbox.base_url, auth=auth) as api,
        sandbox.events.delivering(),
    ):
        sid = events.post("/Sinks", data={
            "Description": "notebook", "SinkType": "webhook",
            "SinkConfiguration": json.dumps({"destination": receiver.destination()}),
        }).json()["sid"]  # fmt: skip
        events.post(f"/Sinks/{sid}/Test")
        (test,) = receiver.wait_for(count=1, timeout=10)
        events.post(f"/Sinks/{sid}/Validate", data={"TestId": test["data"]["test_id"]})
        events.post("/Subscriptions", data={"Description": "d", "SinkSid": sid, "Types": TYPES})
        to = [{"address": "+15005550006", "channel": "PHONE"}]
        operation_id = api.post("/Messages", json={"to": to, "content": {"text": "hi"}}).json()[
            "operationId"
        ]
        (message,) = api.get("/Messages", params={"operationId": operation_id}).json()["messages"]
        receiver.wait_for(final=[message["id"]], timeout=10)
    mine = receiver.frame().query("message_id == @message['id']")
    assert mine["status"].tolist() == ["QUEUED", "SENT", "DELIVERED", "READ"]
    client.close()


def test_a_test_event_gives_its_id_for_its_sink_only(sandbox, receiver):
    sink, other = "DG" + "a" * 32, "DG" + "b" * 32
    tests = [
        {"source": f"/v1/Sinks/{sink}", "data": {"test_id": "T1"}},
        {"source": "/events", "data": {"test_id": "T2", "sink_sid": sink}},
        {"source": f"/v1/Sinks/{other}", "data": {"test_id": "T3"}},
        {"source": "/events", "data": {"test_id": "T4"}},  # names no sink: may be any
    ]
    body = json.dumps([
        {"specversion": "1.0", "type": "com.twilio.eventstreams.test-event", "id": f"t{n}",
         "time": "2025-06-02T09:00:00.000Z", **test} for n, test in enumerate(tests)
    ]).encode()  # fmt: skip
    assert _signed_post(receiver, sandbox.auth_token, body).status_code == 204
    assert receiver.test_ids(sink) == ["T1", "T2", "T4"]
    assert receiver.test_ids(other) == ["T3", "T4"]
    assert receiver.test_id(sink, known=["T1", "T2"], timeout=1) == "T4"
    with pytest.raises(TimeoutError, match=f"no test event for sink {sink}"):
        receiver.test_id(sink, known=["T1", "T2", "T4"], timeout=0.2)
