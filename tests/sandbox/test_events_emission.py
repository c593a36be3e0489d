"""Event Streams in process: what is emitted for a scheduled send, sinks that are not
webhooks keep their events, a reset starts Event Streams over, the in-process deliverer, and
no secret in a repr."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.events import outbox, timeline

from .conftest import make_client
from .events_support import receiver, types
from .messaging import numbers, send

COMMS = "com.twilio.comms-api."


@pytest.fixture
def clients(sandbox: Sandbox) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with (
        make_client(sandbox) as api,
        make_client(sandbox, base_url="https://sandbox.invalid/events/v1") as events,
    ):
        yield api, events


def kinesis_subscription(events: httpx.Client, sandbox: Sandbox, *names: str) -> str:
    """A Kinesis sink made active (its test id read from what it kept) and subscribed."""
    configuration = {"arn": "arn:aws:kinesis:us-east-1:1:stream/s", "role_arn": "r",
                     "external_id": "x"}  # fmt: skip
    form = {"Description": "k", "SinkType": "kinesis",
            "SinkConfiguration": json.dumps(configuration)}  # fmt: skip
    sid = events.post("/Sinks", data=form).json()["sid"]
    events.post(f"/Sinks/{sid}/Test")
    (test,) = sandbox.events.emitted(sink_sid=sid)
    assert test["state"] == "kept"  # the sandbox cannot reach Kinesis: it keeps them
    events.post(f"/Sinks/{sid}/Validate", data={"TestId": test["event"]["data"]["test_id"]})
    answer = events.post(
        "/Subscriptions", data={"Description": "d", "SinkSid": sid, "Types": types(*names)}
    )
    assert answer.status_code == 201, answer.text
    return sid


def test_a_scheduled_send_emits_scheduled_then_processing_then_completed(clients, sandbox):
    api, events = clients
    sink = kinesis_subscription(events, sandbox, "operation.scheduled",
                                "operation.processing", "operation.completed")  # fmt: skip
    operation_id = send(api, numbers(2), schedule={"sendAt": ["2025-06-02T10:00:00Z"]})
    sandbox.clock.advance(2 * 3600)
    kept = [r for r in sandbox.events.emitted(sink_sid=sink)
            if r["event"]["type"].startswith(COMMS)]  # fmt: skip
    assert [(r["event"]["type"].rsplit(".", 1)[1], r["state"]) for r in kept] == [
        ("scheduled", "kept"),
        ("processing", "kept"),
        ("completed", "kept"),
    ]
    assert kept[0]["event"]["time"] == "2025-06-02T09:00:00.000Z"
    assert kept[1]["event"]["time"] == "2025-06-02T10:00:00.000Z"
    assert {r["event"]["data"]["operation_id"] for r in kept} == {operation_id}


def test_a_reset_starts_event_streams_over(clients, sandbox):
    api, events = clients
    kinesis_subscription(events, sandbox, "message.queued")
    send(api, numbers(1))
    assert sandbox.events.emitted()
    sandbox.reset()
    assert events.get("/Sinks").json()["sinks"] == []
    assert events.get("/Subscriptions").json()["subscriptions"] == []
    assert sandbox.events.emitted() == []


def test_in_process_the_deliverer_posts_to_a_receiver(clients, sandbox):
    _, events = clients
    with receiver() as hook, sandbox.events.delivering():
        sid = events.post("/Sinks", data={
            "Description": "d", "SinkType": "webhook",
            "SinkConfiguration": json.dumps({"destination": hook.url + "/e"})
        }).json()["sid"]  # fmt: skip
        events.post(f"/Sinks/{sid}/Test")
        hook.wait(lambda: bool(hook.events()))
    assert hook.events()[0]["type"] == "com.twilio.eventstreams.test-event"
    assert "authorization" not in hook.posts[0].headers  # no user info, no Basic auth


def test_no_secret_in_a_repr(sandbox):
    assert sandbox.auth_token not in repr(sandbox.events)
    assert sandbox.auth_token not in repr(sandbox.events.deliverer())


def test_a_big_window_is_emitted_in_chunks_each_event_once(clients, sandbox, monkeypatch):
    """The outbox is written a chunk at a time (the store's lock is never held for a whole
    big send); chunk boundaries, re-read windows and a clock moving meanwhile lose nothing
    and make nothing twice."""
    monkeypatch.setattr(outbox, "CHUNK", 37)
    api, events = clients
    everything = ("operation.processing", "operation.completed", "message.queued",
                  "message.sent", "message.delivered", "message.undelivered", "message.failed",
                  "message.read")  # fmt: skip
    sink = kinesis_subscription(events, sandbox, *everything)
    start = sandbox.clock.seconds()
    send(api, numbers(120))
    for step in (0.5, 1.7, 3.0, 600):
        sandbox.clock.advance(step)
        sandbox.events.publish()
        sandbox.events.publish()  # the same window again: nothing new
    kept = [r["event"] for r in sandbox.events.emitted(sink_sid=sink)
            if r["event"]["type"].startswith(COMMS)]  # fmt: skip
    with sandbox.store.read() as conn:
        expected = timeline.between(conn, start, sandbox.clock.seconds(), sandbox.account_sid)
    assert [e["id"] for e in kept] == [e.id for e in expected]
    assert len({e["id"] for e in kept}) == len(kept) > 120 * 3
