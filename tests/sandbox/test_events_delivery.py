"""Event Streams delivery over real HTTP: a sandbox server sends the Communications API's
events to a real local webhook (``http.server``) subscribed through the API. What arrives
equals, message by message, what the API reports; nothing twice, nothing missing, also while
the receiver refuses or stalls (retries); Basic auth and ``X-Twilio-Signature`` on every post;
the API keeps answering while a sink is slow."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.events import signature
from commstoolkit.sandbox.events.outbox import RetryPolicy
from commstoolkit.sandbox.server import RunningServer, run_server

from .events_support import Receiver, receiver, types, webhook
from .messaging import (
    ALWAYS_RCS,
    FAILS,
    RCS_OFF,
    UNADDRESSABLE,
    UNDELIVERED,
    full,
    messages_of,
    numbers,
    pool_id,
    send,
)  # fmt: skip

COMMS = "com.twilio.comms-api."
ALL_TYPES = (
    "operation.processing", "operation.completed", "message.queued", "message.sent",
    "message.delivered", "message.undelivered", "message.failed", "message.read",
)  # fmt: skip
USER, PASSWORD = "events-user", "pa:ss w/rd"


@pytest.fixture
def served(sandbox: Sandbox) -> Iterator[RunningServer]:
    sandbox.events.retry = RetryPolicy(timeout=0.5, delays=(0.2, 0.3, 0.5, 0.8, 1.0))
    with run_server(sandbox) as server:
        yield server


@pytest.fixture
def clients(served: RunningServer, sandbox: Sandbox) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    auth = sandbox.credentials()
    with (
        httpx.Client(base_url=served.base_url, auth=auth) as api,
        httpx.Client(base_url=served.events_url, auth=auth) as events,
    ):
        yield api, events


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as found:
        yield found


def destination(hook: Receiver) -> str:
    host = hook.url.removeprefix("http://")
    user, password = USER, PASSWORD.replace(":", "%3A").replace(" ", "%20").replace("/", "%2F")
    return f"http://{user}:{password}@{host}/twilio/events?source=sandbox"


def subscribe(events: httpx.Client, hook: Receiver, *names: str) -> str:
    """What a user does: make the sink, Test it, read the test id the receiver got, Validate,
    subscribe. Returns the sink sid."""
    sid = events.post("/Sinks", data=webhook(destination(hook))).json()["sid"]
    assert events.post(f"/Sinks/{sid}/Test").status_code == 201
    hook.wait(lambda: bool(hook.events()))
    (test,) = hook.events()
    assert test["type"] == "com.twilio.eventstreams.test-event"
    answer = events.post(f"/Sinks/{sid}/Validate", data={"TestId": test["data"]["test_id"]})
    assert answer.status_code == 201 and events.get(f"/Sinks/{sid}").json()["status"] == "active"
    form = {"Description": "all", "SinkSid": sid, "Types": types(*(names or ALL_TYPES))}
    assert events.post("/Subscriptions", data=form).status_code == 201
    with hook.lock:
        hook.posts.clear()
    return sid


def send_mix(api: httpx.Client) -> str:
    """A send whose messages take every path: delivered, read, RCS refused then SMS, failed,
    undelivered, unaddressable."""
    to = [*numbers(24), ALWAYS_RCS, RCS_OFF, FAILS, UNDELIVERED, UNADDRESSABLE]
    return send(api, to, **{"from": {"senderPoolId": pool_id(api)}})


def settle(sandbox: Sandbox, hook: Receiver) -> None:
    """Move sandbox time past every change, then wait until every event is delivered."""
    sandbox.clock.advance(600)
    deadline = time.monotonic() + 30
    while not sandbox.events.idle():
        assert time.monotonic() < deadline, sandbox.events.emitted(state="pending")[:3]
        time.sleep(0.05)


def emitted(sandbox: Sandbox, sink: str) -> list[dict[str, Any]]:
    """What the sandbox emitted to ``sink`` since it was validated (its test event left out)."""
    return [r for r in sandbox.events.emitted(sink_sid=sink)
            if not r["event"]["type"].startswith("com.twilio.eventstreams.")]  # fmt: skip


def by_message(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        if event["type"].startswith(COMMS + "message."):
            grouped[event["data"]["message_id"]].append(event)
    return grouped


def status_of(event: dict[str, Any]) -> str:
    return event["type"].rsplit(".", 1)[1].upper()


def assert_events_match_the_api(api: httpx.Client, operation_id: str, events: list[dict]) -> None:
    """Message by message: the last event is the message's status; each attempt's last event
    is that attempt's status and error code; operations start and complete once."""
    messages = messages_of(api, operation_id)
    grouped = by_message(events)
    assert set(grouped) == {m["id"] for m in messages}
    for message in messages:
        detail = full(api, message["id"])
        mine = sorted(grouped[message["id"]], key=lambda e: e["time"])
        assert status_of(mine[-1]) == detail["status"], (message["id"], mine)
        attempts = detail["attempts"]
        if not attempts:  # unaddressable: one failed event, no attempt
            assert [(status_of(e), e["data"]["attempt"]) for e in mine] == [("FAILED", 0)]
            continue
        assert sorted({e["data"]["attempt"] for e in mine}) == list(range(1, len(attempts) + 1))
        for n, attempt in enumerate(attempts, 1):
            steps = [e for e in mine if e["data"]["attempt"] == n]
            assert status_of(steps[0]) == "QUEUED"
            assert status_of(steps[-1]) == attempt["status"]
            code = attempt["error"]["code"] if attempt["error"] else None
            final = next(e for e in steps if status_of(e) not in ("QUEUED", "SENT", "READ"))
            assert final["data"]["error_code"] == code
            assert final["data"]["from"]["address"] == attempt["from"]["address"]
            assert final["data"]["to"]["address"] == attempt["to"][0]["address"]
        assert mine[0]["data"]["operation_id"] == operation_id
    operations = Counter(
        (e["type"].rsplit(".", 1)[1], e["data"]["operation_id"])
        for e in events
        if e["type"].startswith(COMMS + "operation.")
    )
    assert operations == {("processing", operation_id): 1, ("completed", operation_id): 1}


def test_events_received_equal_what_the_api_reports(
    clients: tuple[httpx.Client, httpx.Client], sandbox: Sandbox, hook: Receiver
):
    api, events = clients
    sink = subscribe(events, hook)
    operation_id = send_mix(api)
    settle(sandbox, hook)
    received = hook.events()
    ids = [e["id"] for e in received]
    assert len(ids) == len(set(ids)), "an event arrived twice"
    emitted_ = emitted(sandbox, sink)
    assert {r["state"] for r in emitted_} == {"delivered"}
    assert ids == [r["event"]["id"] for r in emitted_]  # none missing, in order
    assert_events_match_the_api(api, operation_id, received)
    assert any(len(post.events) > 1 for post in hook.posts), "events come in batches"
    for event in received:
        assert event["specversion"] == "1.0" and event["source"].startswith("/v1/Messages")
        assert event["dataschema"].startswith("https://events-schemas.twilio.com/CommsApi.")


def test_read_messages_keep_their_delivered_event_and_times_are_exact(
    clients: tuple[httpx.Client, httpx.Client], sandbox: Sandbox, hook: Receiver
):
    api, events = clients
    subscribe(events, hook)
    operation_id = send(api, [ALWAYS_RCS], **{"from": {"senderPoolId": pool_id(api)}})
    settle(sandbox, hook)
    (message,) = messages_of(api, operation_id)
    mine = by_message(hook.events())[message["id"]]
    assert [status_of(e) for e in mine] == ["QUEUED", "SENT", "DELIVERED", "READ"]
    times = [e["time"] for e in mine]
    assert times == sorted(times) and all(len(t) == len("2025-06-02T09:00:01.234Z") for t in times)
    # The API's updatedAt of a READ message is its read time, to the second.
    assert times[-1][:19] == full(api, message["id"])["updatedAt"][:19]


def test_every_post_carries_basic_auth_and_a_valid_signature(
    clients: tuple[httpx.Client, httpx.Client], sandbox: Sandbox, hook: Receiver
):
    api, events = clients
    subscribe(events, hook)
    send_mix(api)
    settle(sandbox, hook)
    assert hook.posts
    token = sandbox.auth_token
    for post in hook.posts:
        expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        assert post.headers["authorization"] == f"Basic {expected}"
        assert post.headers["content-type"] == "application/json"
        url = hook.url + post.target  # what the receiver saw, as Twilio signs it
        query = parse_qs(urlsplit(url).query)
        assert query["source"] == ["sandbox"]
        assert query["bodySHA256"] == [hashlib.sha256(post.body).hexdigest()]
        mac = hmac.new(token.encode(), url.encode(), hashlib.sha1).digest()
        assert post.headers["x-twilio-signature"] == base64.b64encode(mac).decode()
        assert signature.verify(token, url, post.body, post.headers["x-twilio-signature"])
        assert not signature.verify(
            token, url, post.body + b" ", post.headers["x-twilio-signature"]
        )
        assert not signature.verify("another-token", url, post.body,
                                    post.headers["x-twilio-signature"])  # fmt: skip


def test_the_signature_follows_twilios_own_test_vector():
    """twilio-python's request-validator test: token 12345, this URL and body, this signature
    (the events contract gives no example of its own)."""
    body = b'{"property": "value", "boolean": true}'
    url, signed = signature.sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", body)
    assert url == (
        "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256="
        "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    )
    assert signed == "a9nBmqA0ju/hNViExpshrM61xv4="
    assert signature.verify("12345", url, body, signed)


def test_a_receiver_that_refuses_for_a_while_still_gets_everything_once(
    clients: tuple[httpx.Client, httpx.Client], sandbox: Sandbox, hook: Receiver
):
    api, events = clients
    sink = subscribe(events, hook)
    hook.refuse = 3  # 503 to the next three posts
    operation_id = send_mix(api)
    settle(sandbox, hook)
    assert hook.refused == 3
    received = hook.events()
    ids = [e["id"] for e in received]
    assert len(ids) == len(set(ids))
    emitted_ = emitted(sandbox, sink)
    assert ids == [r["event"]["id"] for r in emitted_]
    assert {r["state"] for r in emitted_} == {"delivered"}
    assert max(r["tries"] for r in emitted_) == 4  # three refusals, then delivered
    assert events.get(f"/Sinks/{sink}").json()["status"] == "active"
    assert_events_match_the_api(api, operation_id, received)


def test_a_receiver_that_times_out_gets_the_same_events_again_and_nothing_is_lost(
    clients: tuple[httpx.Client, httpx.Client], sandbox: Sandbox, hook: Receiver
):
    api, events = clients
    sink = subscribe(events, hook)
    hook.stall, hook.stall_seconds = 1, 1.5  # keeps the batch, answers after the 0.5 s timeout
    operation_id = send_mix(api)
    settle(sandbox, hook)
    received = hook.events()
    copies: dict[str, list[dict]] = defaultdict(list)
    for event in received:
        copies[event["id"]].append(event)
    twice = [id_ for id_, same in copies.items() if len(same) > 1]
    assert twice, "the stalled batch was sent again"
    assert all(all(c == same[0] for c in same) for same in copies.values())  # same event
    unique = list({e["id"]: e for e in received}.values())
    emitted_ = emitted(sandbox, sink)
    assert [e["id"] for e in unique] == [r["event"]["id"] for r in emitted_]
    assert_events_match_the_api(api, operation_id, unique)


def test_a_sink_that_keeps_failing_is_marked_failed(
    clients: tuple[httpx.Client, httpx.Client], sandbox: Sandbox, hook: Receiver, served
):
    api, events = clients
    sink = subscribe(events, hook)
    hook.refuse = 1000
    send_mix(api)
    sandbox.clock.advance(600)
    deadline = time.monotonic() + 30
    while events.get(f"/Sinks/{sink}").json()["status"] != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert hook.refused == 1 + len(sandbox.events.retry.delays)
    control = httpx.get(f"{served.url}/_sandbox/events", params={"sinkSid": sink},
                        auth=sandbox.credentials()).json()  # fmt: skip
    states = {e["state"] for e in control["events"] if e["event"]["type"].startswith(COMMS)}
    assert states == {"failed"}  # none delivered, none waiting
    (state,) = [s for s in control["sinks"] if s["sid"] == sink]
    assert (state["status"], state["last_error"]) == ("failed", "HTTP 503")


def test_the_api_answers_while_a_sink_is_slow(
    clients: tuple[httpx.Client, httpx.Client], sandbox: Sandbox, hook: Receiver
):
    api, events = clients
    subscribe(events, hook)
    sandbox.events.retry = RetryPolicy(timeout=5.0, delays=(0.2,))
    hook.stall, hook.stall_seconds = 1, 2.0
    send_mix(api)
    sandbox.clock.advance(600)
    hook.wait(lambda: hook.stall == 0)  # the delivery thread is now waiting on the receiver
    started = time.monotonic()
    assert api.get("/Senders", params={"pageSize": 5}).status_code == 200
    assert events.get("/Sinks").status_code == 200
    assert time.monotonic() - started < 1.0


def test_only_subscribed_types_from_the_subscription_on_arrive(
    clients: tuple[httpx.Client, httpx.Client], sandbox: Sandbox, hook: Receiver
):
    api, events = clients
    done = send(api, numbers(3, start=500))
    sandbox.clock.advance(600)  # over before the subscription
    under_way = send(api, numbers(3, start=600))
    sandbox.clock.advance(0.2)  # queued before the subscription, delivered after it
    subscribe(events, hook, "message.queued", "message.delivered")
    after = send_mix(api)
    settle(sandbox, hook)
    received = hook.events()
    seen = Counter((e["data"]["operation_id"], status_of(e)) for e in received)
    delivered = {
        op: sum(m["status"] in ("DELIVERED", "READ") for m in messages_of(api, op))
        for op in (under_way, after)
    }
    queued = sum(1 for e in received if e["data"]["operation_id"] == after and
                 status_of(e) == "QUEUED")  # fmt: skip
    assert seen[(under_way, "DELIVERED")] == delivered[under_way] > 0
    assert seen[(after, "DELIVERED")] == delivered[after]
    assert queued >= 29 - 1  # every attempt of the later send but the unaddressable message
    assert (under_way, "QUEUED") not in seen and done not in json.dumps(received)
    assert {status_of(e) for e in received} == {"QUEUED", "DELIVERED"}
