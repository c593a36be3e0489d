"""``ct.events.subscribe`` / ``unsubscribe`` through the client, against the sandbox (in process
and served on loopback, where the sandbox's delivery must reach a real ``EventReceiver``).

A send with a receiver subscribed this way arrives message by message as the API reports it,
with no duplicate and none missing, also while the receiver is down for a while (the sandbox
retries) and when it answers too late (the same events come twice, kept once). A matching
sink and subscription are reused; bad arguments are refused before any request; a sink made
for a subscription that cannot be finished is deleted again; nothing secret is shown.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.client.event_streams import Sink
from commstoolkit.sandbox.server import RunningServer
from tests.transports import CountingTransport

USER, PASSWORD = "hook", "s3cret:pw"
MIX = ["+15005550006", "+15005550007", "+15005550003", "+15005550004", "+15005550002"] + [
    f"+1415555{n:04d}" for n in range(15)
]
FINAL = {"DELIVERED", "UNDELIVERED", "FAILED", "READ"}


@pytest.fixture
def client(served: RunningServer, sandbox: ct.Sandbox) -> Iterator[ct.CommsClient]:
    sid, token = sandbox.credentials()
    with ct.CommsClient(account_sid=sid, auth_token=token, base_url=served.base_url) as found:
        yield found


def _receiver(sandbox: ct.Sandbox, tmp_path: Path, port: int = 0) -> ct.EventReceiver:
    return ct.EventReceiver(
        port=port, username=USER, password=PASSWORD, auth_token=sandbox.auth_token,
        persist_to=tmp_path / "events.jsonl",
    )  # fmt: skip


@pytest.fixture
def receiver(sandbox: ct.Sandbox, tmp_path: Path) -> Iterator[ct.EventReceiver]:
    with _receiver(sandbox, tmp_path) as found:
        yield found


def _subscribe(client: ct.CommsClient, receiver: ct.EventReceiver) -> ct.SubscriptionChange:
    return ct.events.subscribe(
        client, receiver.destination(USER, PASSWORD), receiver=receiver, timeout=10
    )


def _send(client: ct.CommsClient, sandbox: ct.Sandbox) -> list[ct.Message]:
    """Send MIX, move sandbox time past its end; every message with its attempts."""
    operation = client.messages.send(MIX, text="hi")
    sandbox.clock.advance(600)
    listed = client.messages.list(operation_id=operation.id)
    return [client.messages.get(m.id) for m in listed]


def assert_events_match_the_api(frame: pd.DataFrame, messages: list[ct.Message]) -> None:
    """Message by message: the last event is the status the API reports, each attempt's last
    event is that attempt's status with its error code; no event twice, none missing."""
    assert frame["id"].is_unique
    sends = frame[frame["message_id"].notna()]
    assert set(sends["message_id"]) == {m.id for m in messages}
    for message in messages:
        mine = sends[sends["message_id"] == message.id]
        assert mine["status"].iloc[-1] == message.status, message.id
        attempts = message.attempts or ()
        if not attempts:  # unaddressable: one FAILED event, attempt 0
            assert mine["status"].tolist() == ["FAILED"] and mine["attempt"].tolist() == [0]
            continue
        assert sorted(set(mine["attempt"])) == list(range(1, len(attempts) + 1))
        for n, attempt in enumerate(attempts, 1):
            steps = mine[mine["attempt"] == n]
            assert steps["status"].iloc[0] == "QUEUED"  # none missing at the start
            assert steps["status"].iloc[-1] == attempt.status
            ended = steps[steps["status"].isin(["DELIVERED", "UNDELIVERED", "FAILED"])]
            assert len(ended) == 1
            code = ended["error_code"].iloc[0]
            assert (None if code is pd.NA else int(code)) == attempt.error_code
    operations = frame[frame["message_id"].isna() & frame["operation_id"].notna()]
    assert operations["status"].tolist() == ["PROCESSING", "COMPLETED"]


def _settle(sandbox: ct.Sandbox) -> None:
    deadline = time.monotonic() + 30
    while not sandbox.events.idle():
        assert time.monotonic() < deadline, sandbox.events.emitted(state="pending")[:2]
        time.sleep(0.05)


def test_a_served_sandbox_reaches_the_receiver_and_a_send_arrives_as_the_api_reports(
    client, sandbox, receiver
):
    change = _subscribe(client, receiver)
    sink = client.event_streams.get_sink(change.sink_sid)
    assert sink.status == "active" and sink.sink_type == "webhook"
    assert change.created_sink and change.created_subscription
    assert [a.split(" ")[0] for a in change.actions] == ["created", "Test:", "Validate:", "created"]
    assert set(client.event_streams.subscribed_types(change.subscription_sid)) == set(
        ct.events.DEFAULT_TYPES
    )
    shown = repr(change) + change._repr_html_()
    assert PASSWORD not in shown and "s3cret" not in shown and ":****@" in shown
    messages = _send(client, sandbox)
    receiver.wait_for(final=[m.id for m in messages], timeout=20)
    _settle(sandbox)
    frame = receiver.frame()
    assert_events_match_the_api(frame[frame["status"].notna()], messages)
    assert receiver.duplicates == 0 and receiver.refused == 0


def test_a_receiver_down_for_a_while_still_gets_everything_once(
    client, sandbox, receiver, tmp_path
):
    _subscribe(client, receiver)
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    receiver.stop()  # down: every post is refused (no one listens), the sandbox retries
    messages = _send(client, sandbox)
    time.sleep(0.6)
    failed_tries = max(r["tries"] for r in sandbox.events.emitted(state="pending"))
    assert failed_tries >= 1
    with _receiver(sandbox, tmp_path, port=port) as back:  # up again, same file
        back.wait_for(final=[m.id for m in messages], timeout=20)
        _settle(sandbox)
        frame = back.frame()
        assert back.duplicates == 0
    assert_events_match_the_api(frame[frame["status"].notna()], messages)


def test_a_receiver_that_answers_too_late_gets_events_twice_and_keeps_them_once(
    client, sandbox, receiver
):
    _subscribe(client, receiver)
    stalled: list[int] = []

    def slow_once(events: list[dict]) -> None:
        if not stalled:  # answering after the sink's 0.5 s: the batch is sent again
            stalled.append(len(events))
            time.sleep(1.0)

    receiver.watch(slow_once)
    messages = _send(client, sandbox)
    receiver.wait_for(final=[m.id for m in messages], timeout=20)
    _settle(sandbox)
    assert stalled and receiver.duplicates >= stalled[0]
    frame = receiver.frame()
    assert_events_match_the_api(frame[frame["status"].notna()], messages)


def test_the_embedded_sandbox_delivers_once_subscribed_and_a_match_is_reused(tmp_path: Path):
    client = ct.connect(sandbox=True, db=tmp_path / "box.sqlite3", quiet=True)
    client.sandbox.clock.instant = True
    try:
        with ct.EventReceiver(auth_token=client.sandbox.auth_token) as receiver:
            first = ct.events.subscribe(client, receiver, types=["message.delivered"])
            assert first.actions[0] == "started the embedded sandbox's event delivery"
            again = ct.events.subscribe(client, receiver, types="message.delivered")
            assert not again.created_sink and not again.created_subscription
            assert (again.sink_sid, again.subscription_sid) == (
                first.sink_sid, first.subscription_sid,
            )  # fmt: skip
            assert len(list(client.event_streams.list_sinks())) == 1
            assert len(receiver.test_ids(first.sink_sid)) == 2  # each subscribe tested it
            other = ct.events.subscribe(client, receiver, types=["message.failed"])
            assert other.sink_sid == first.sink_sid and other.created_subscription
            operation = client.messages.send(["+15005550006"], text="hi")
            (message,) = client.messages.list(operation_id=operation.id)
            receiver.wait_for(until=lambda got: any(
                e["type"].endswith("message.delivered") for e in got
            ), timeout=10)  # fmt: skip
            delivered = receiver.frame().query("status == 'DELIVERED'")
            assert delivered["message_id"].tolist() == [message.id]
            gone = ct.events.unsubscribe(client, first.sink_sid)
            assert gone.actions == [
                f"deleted subscription {first.subscription_sid}",
                f"deleted subscription {other.subscription_sid}",
                f"deleted sink {first.sink_sid}",
                "stopped the embedded sandbox's event delivery (no subscription left)",
            ]
            assert list(client.event_streams.list_sinks()) == []
    finally:
        client.close()
        client.sandbox.close()


@pytest.mark.parametrize(
    ("arguments", "field", "said"),
    [
        ({"types": ["message.deliverd"]}, "types", "message.delivered"),
        ({"types": []}, "types", "at least one"),
        ({"types": [7]}, "types", "allowed"),
        ({"destination": "ftp://x/y"}, "destination", "must be an http"),
        (
            {"destination": "https://u:topsecret@example.com/e", "receiver": None},
            "receiver",
            "reaches",
        ),
        ({"timeout": 0}, "timeout", "> 0"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(tmp_path, arguments, field, said):
    box = ct.Sandbox(tmp_path / "box.sqlite3")
    counting = CountingTransport(box.transport())
    sid, token = box.credentials()
    client = ct.CommsClient(
        account_sid=sid, auth_token=token, base_url=box.base_url, transport=counting, live=False
    )
    with ct.EventReceiver(auth_token=token) as receiver:
        given = {"destination": receiver.destination(), "receiver": receiver, **arguments}
        destination = given.pop("destination")
        with pytest.raises(ct.InvalidInputError, match=said) as caught:
            ct.events.subscribe(client, destination, **given)
    assert caught.value.field == field
    assert "topsecret" not in str(caught.value)
    assert counting.sent == []
    client.close()
    box.close()


def test_a_loopback_destination_is_refused_for_twilio_before_any_request():
    counting = CountingTransport(httpx.MockTransport(lambda request: httpx.Response(500)))
    client = ct.CommsClient(account_sid="AC" + "1" * 32, auth_token="t", transport=counting)
    with ct.EventReceiver(auth_token="t") as receiver:
        with pytest.raises(ct.InvalidInputError, match="tunnel") as caught:
            ct.events.subscribe(client, receiver)
        with (
            pytest.raises(ct.InvalidInputError, match=r"receiver.destination\(username"),
            ct.EventReceiver(username="u", password="p") as basic,
        ):
            ct.events.subscribe(client, basic)
    assert caught.value.field == "destination" and counting.sent == []
    assert client.events_base_url == "https://events.twilio.com/v1"


def test_a_sink_whose_test_never_arrives_is_deleted_again(client, sandbox, receiver):
    wrong = receiver.destination(USER, "not-the-password")  # the receiver refuses every post
    with pytest.raises(ct.SinkTestError, match="test event failed") as caught:
        ct.events.subscribe(client, wrong, receiver=receiver, timeout=1)
    assert caught.value.step == "test event" and caught.value.removed
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert "not-the-password" not in str(caught.value)
    assert list(client.event_streams.list_sinks()) == []
    assert receiver.refused >= 1


def test_a_sink_that_fails_validation_is_deleted_and_a_reused_one_kept(
    client, sandbox, receiver, monkeypatch
):
    monkeypatch.setattr(receiver, "test_id", lambda sink, **kw: "not-the-test-id")
    with pytest.raises(ct.SinkTestError, match="Validate failed") as caught:
        _subscribe(client, receiver)
    assert caught.value.step == "Validate" and caught.value.removed
    assert isinstance(caught.value.__cause__, ct.BadRequestError)
    assert caught.value.__cause__.code == 20001
    assert list(client.event_streams.list_sinks()) == []
    monkeypatch.undo()
    made = _subscribe(client, receiver)
    monkeypatch.setattr(receiver, "test_id", lambda sink, **kw: "not-the-test-id")
    with pytest.raises(ct.SinkTestError, match="left the reused sink") as kept:
        _subscribe(client, receiver)
    assert not kept.value.removed
    assert [s.sid for s in client.event_streams.list_sinks()] == [made.sink_sid]


def test_unsubscribe_a_subscription_keeps_a_sink_still_in_use(client, sandbox, receiver):
    one = ct.events.subscribe(client, receiver.destination(USER, PASSWORD), ["message.sent"],
                              receiver=receiver)  # fmt: skip
    two = ct.events.subscribe(client, receiver.destination(USER, PASSWORD), ["message.read"],
                              receiver=receiver)  # fmt: skip
    first = ct.events.unsubscribe(client, one)
    assert first.actions == [
        f"deleted subscription {one.subscription_sid}",
        f"kept sink {one.sink_sid}: subscription {two.subscription_sid} still uses it",
    ]
    assert first.types == ["com.twilio.comms-api.message.sent"]
    last = ct.events.unsubscribe(client, two.subscription_sid)
    assert last.actions[-1] == f"deleted sink {two.sink_sid}"
    with pytest.raises(ct.NotFoundError):
        ct.events.unsubscribe(client, two.subscription_sid)
    with pytest.raises(ct.InvalidInputError, match=r"DF\.\.\. or DG\.\.\.") as caught:
        ct.events.unsubscribe(client, "nope")
    assert caught.value.field == "subscription_or_sink"


def test_event_streams_errors_read_into_the_exception_tree_and_forms_are_sent():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/Sinks") and request.method == "POST":
            body = {"code": 20001, "message": "Invalid SinkConfiguration", "status": 400,
                    "more_info": "https://www.twilio.com/docs/errors/20001"}  # fmt: skip
            return httpx.Response(400, json=body)
        page = int(request.url.params.get("Page", "0"))
        configuration = {"destination": "https://x/e"}
        sinks = [{"sid": f"DG{page:032d}", "status": "active", "sink_type": "webhook",
                  "description": "d", "sink_configuration": configuration}]  # fmt: skip
        following = "https://events.twilio.com/v1/Sinks?PageSize=1&Page=1" if page == 0 else None
        return httpx.Response(200, json={"sinks": sinks, "meta": {"next_page_url": following}})

    client = ct.CommsClient(
        account_sid="AC" + "1" * 32, auth_token="t", transport=httpx.MockTransport(answer)
    )
    with pytest.raises(ct.BadRequestError) as caught:
        client.event_streams.create_webhook_sink("https://x/e", description="d")
    assert (caught.value.status, caught.value.code) == (400, 20001)
    assert caught.value.message == "Invalid SinkConfiguration"
    assert caught.value.info_url == "https://www.twilio.com/docs/errors/20001"
    sent = seen[0]
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent.url.host == "events.twilio.com"
    form = dict(httpx.QueryParams(sent.content.decode()))
    assert json.loads(form["SinkConfiguration"]) == {"destination": "https://x/e", "method": "POST"}
    listed = list(client.event_streams.list_sinks())
    assert [s.sid for s in listed] == [f"DG{0:032d}", f"DG{1:032d}"]
    assert isinstance(listed[0], Sink) and listed[0].id == listed[0].sid


def test_connect_knows_the_event_streams_base_url(served, sandbox):
    sid, token = sandbox.credentials()
    env = {"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token}
    served_client = ct.connect(base_url=served.base_url, env=env, quiet=True)
    assert served_client.events_base_url == served.events_url  # the served sandbox's
    types = [t.type for t in served_client.event_streams.list_types()]
    assert set(types) == set(ct.events.COMMS_TYPES)
    elsewhere = {**env, "COMMSTOOLKIT_EVENTS_BASE_URL": "https://events.example.com/v1"}
    assert ct.connect(env=elsewhere, quiet=True).events_base_url == "https://events.example.com/v1"
    assert ct.connect(env=env, quiet=True).events_base_url == "https://events.twilio.com/v1"
    with pytest.raises(ct.ConfigurationError, match=r"events_base_url: .*plain http"):
        ct.connect(env=env, events_base_url="http://events.example.com/v1", quiet=True)
    with ct.connect(sandbox=True, db=":memory:", quiet=True) as embedded:
        assert embedded.events_base_url == "https://sandbox.comms.invalid/events/v1"
    served_client.close()


def test_the_embedded_sandbox_delivers_until_it_closes():
    def delivering() -> int:
        return sum(t.name == "sandbox-event-delivery" for t in threading.enumerate())

    before = delivering()
    box = ct.Sandbox(":memory:")
    assert box.events.keep_delivering() and not box.events.keep_delivering()  # one thread
    assert delivering() == before + 1
    box.close()
    assert delivering() == before
