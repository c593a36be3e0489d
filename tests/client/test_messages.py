"""``client.messages``: the requests it sends, what it reads back, what it refuses up front."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from commstoolkit.errors import CommsConnectionError, InvalidInputError, NotFoundError
from commstoolkit.models import Message, Operation, Recipient

from .conftest import OP_ID, POOL_ID, SENDER_ID, body_of, replies

MESSAGE_ID = "comms_message_01h9krwprkeee8fzqspvwy6nq8"
WHEN = "2024-04-05T06:20:00Z"
ACCEPTED = {
    "operationId": OP_ID,
    "operationLocation": f"https://x.test/v1/Messages/Operations/{OP_ID}",
}


def message_json(n: int = 0, *, attempts=None, status="DELIVERED", **overrides):
    """A message as the API lists it (add ``attempts`` for ``GET /Messages/{id}``)."""
    data = {
        "id": f"comms_message_01h9krwprkeee8fzqspvwy{n:04d}",
        "from": {
            "address": "+12065558844",
            "channel": "SMS",
            "senderId": SENDER_ID,
            "senderPoolId": POOL_ID,
        },
        "to": [{"address": f"+1415555{n:04d}", "channel": "PHONE"}],
        "status": status,
        "related": [{"name": "OPERATION", "id": OP_ID, "uri": f"https://x.test/{OP_ID}"}],
        "tags": {"ct_run": "r1"},
        "scheduledFor": None,
        "createdAt": WHEN,
        "updatedAt": "2024-04-05T06:20:04.5Z",
        "deletedAt": None,
        **overrides,
    }
    if attempts is not None:
        data["attempts"] = attempts
    return data


def attempt_json(channel="SMS", status="DELIVERED", error=None):
    return {
        "from": {"address": f"{channel.lower()}-sender", "channel": channel, "senderId": SENDER_ID},
        "to": [{"address": "+14155550000", "channel": "PHONE"}],
        "status": status,
        "attemptedAt": WHEN,
        "infoUrl": "https://console.twilio.com/x",
        "error": error,
    }


def _page(messages, next_token=None):
    return httpx.Response(200, json={"messages": messages, "pagination": {"next": next_token}})


@pytest.fixture
def sent(fake_api):
    return fake_api(replies(httpx.Response(202, json=ACCEPTED)))


def test_send_text_through_a_pool_builds_the_spec_body(sent):
    op = sent.client().messages.send(
        ["+14155550000", ("+14155550001", "whatsapp"), Recipient("+14155550002", "PHONE")],
        text="Hello",
        sender_pool_id=POOL_ID,
        channels=["rcs", "SMS"],
        priority={"RCS": 0, "SMS": 1},
        tags={"ct_run": "r1"},
        send_at=datetime(2030, 4, 1, 10, 4, 1, tzinfo=timezone.utc),
    )
    assert op == Operation(id=OP_ID, kind="message", location=ACCEPTED["operationLocation"])
    (request,) = sent.requests
    assert (request.method, request.url.path) == ("POST", "/v1/Messages")
    assert body_of(request) == {
        "to": [
            {"address": "+14155550000", "channel": "PHONE"},
            {"address": "+14155550001", "channel": "WHATSAPP"},
            {"address": "+14155550002", "channel": "PHONE"},
        ],
        "content": {"text": "Hello"},
        "from": {
            "senderPoolId": POOL_ID,
            "channels": {
                "filterIn": ["RCS", "SMS"],
                "priority": [{"channel": "RCS", "priority": 0}, {"channel": "SMS", "priority": 1}],
            },
        },
        "tags": {"ct_run": "r1"},
        "schedule": {"sendAt": ["2030-04-01T10:04:01Z"]},
    }


def test_send_from_one_sender_or_from_nobody(sent):
    client = sent.client()
    client.messages.send("+14155550000", content={"media": [{"url": "https://x.test/a.png"}]})
    client.messages.send(["+14155550000"], text="Hi", sender_id=SENDER_ID)
    first, second = (body_of(r) for r in sent.requests)
    assert "from" not in first and first["content"] == {"media": [{"url": "https://x.test/a.png"}]}
    assert second["from"] == {"senderId": SENDER_ID}


def test_ten_thousand_recipients_is_one_request(sent):
    numbers = [f"+1415{n:07d}" for n in range(10_000)]
    sent.client().messages.send(numbers, text="Hi", sender_pool_id=POOL_ID)
    assert len(sent.requests) == 1
    assert len(body_of(sent.requests[0])["to"]) == 10_000


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"recipients": []}, "recipients"),
        ({"recipients": [f"+1415{n:07d}" for n in range(10_001)]}, "recipients"),
        ({"recipients": [("+14155550000", "SMS")]}, "recipients.channel"),
        ({"recipients": [("+14155550000", "EMAIL")]}, "recipients.channel"),
        ({"recipients": [""]}, "recipients.address"),
        ({"recipients": 42}, "recipients"),
        ({"text": "x" * 1601}, "text"),
        ({"text": ""}, "text"),
        ({"text": None}, "text"),
        ({"content": {"text": "Hi"}}, "text"),
        ({"text": None, "content": {}}, "content"),
        ({"text": None, "content": {"text": "y" * 1601}}, "content.text"),
        ({"sender_pool_id": "pool-1"}, "sender_pool_id"),
        ({"sender_id": SENDER_ID}, "sender_id"),
        ({"sender_pool_id": None, "channels": ["SMS"]}, "channels"),
        ({"channels": ["SMS", "SMS"]}, "channels"),
        ({"channels": ["EMAIL"]}, "channels"),
        ({"priority": {"PUSH": 1}}, "priority"),
        ({"priority": {"SMS": "high"}}, "priority"),
        ({"tags": {f"k{n}": "v" for n in range(11)}}, "tags"),
        ({"tags": {"run id": "x"}}, "tags"),
        ({"send_at": datetime(2030, 1, 1)}, "send_at"),
        ({"send_at": "next tuesday"}, "send_at"),
    ],
)
def test_send_refuses_bad_arguments_before_any_request(sent, kwargs, field):
    args = {"recipients": ["+14155550000"], "text": "Hi", "sender_pool_id": POOL_ID, **kwargs}
    recipients = args.pop("recipients")
    with pytest.raises(InvalidInputError) as caught:
        sent.client().messages.send(recipients, **args)
    assert caught.value.field == field
    assert sent.requests == []


def test_a_send_whose_answer_was_lost_is_not_resent(fake_api):
    api = fake_api(replies(httpx.RemoteProtocolError("server disconnected")))
    with pytest.raises(CommsConnectionError) as caught:
        api.client().messages.send(["+14155550000"], text="Hi", sender_pool_id=POOL_ID)
    assert caught.value.request_sent is True
    assert "may have applied it" in str(caught.value)
    assert len(api.requests) == 1


def test_a_refused_send_is_retried_after_retry_after(fake_api):
    busy = httpx.Response(503, headers={"Retry-After": "2"}, json={"errors": []})
    api = fake_api(replies(busy, httpx.Response(202, json=ACCEPTED)))
    op = api.client().messages.send(["+14155550000"], text="Hi", sender_pool_id=POOL_ID)
    assert op.id == OP_ID and len(api.requests) == 2 and api.sleeps == [2.0]


def test_list_sends_every_filter_and_pages_through(fake_api):
    api = fake_api(replies(_page([message_json(0)], "tok2"), _page([message_json(1)])))
    messages = list(
        api.client().messages.list(
            operation_id=Operation(id=OP_ID, kind="message"),
            status="delivered",
            channel="rcs",
            tags={"ct_run": "r1", "ct_chunk": "2"},
            start_date="2024-04-01T00:00:00Z",
            end_date=datetime(2024, 4, 6, tzinfo=timezone.utc),
            page_size=500,
        )
    )
    assert [m.to_address for m in messages] == ["+14155550000", "+14155550001"]
    first, second = (dict(r.url.params) for r in api.requests)
    assert first == {
        "operationId": OP_ID,
        "status": "DELIVERED",
        "channel": "RCS",
        "tags": "ct_run:r1;ct_chunk:2;",
        "startDate": "2024-04-01T00:00:00Z",
        "endDate": "2024-04-06T00:00:00Z",
        "pageSize": "500",
    }
    assert second["pageToken"] == "tok2"


def test_listed_messages_read_into_models_without_attempts(fake_api):
    api = fake_api(replies(_page([message_json(7, status="SENT")])))
    (message,) = api.client().messages.list()
    assert message == Message(
        id="comms_message_01h9krwprkeee8fzqspvwy0007",
        operation_id=OP_ID,
        status="SENT",
        to_address="+14155550007",
        to_channel="PHONE",
        sender_id=SENDER_ID,
        sender_address="+12065558844",
        channel="SMS",
        sender_pool_id=POOL_ID,
        tags={"ct_run": "r1"},
        scheduled_for=None,
        created_at=datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc),
        updated_at=datetime(2024, 4, 5, 6, 20, 4, 500000, tzinfo=timezone.utc),
        attempts=None,
    )
    assert (message.n_attempts, message.fallback) == (None, None)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"status": "LOST"}, "status"),
        ({"channel": "PHONE"}, "channel"),
        ({"tags": {}}, "tags"),
        ({"tags": {"a:b": "c"}}, "tags"),
        ({"operation_id": "op-1"}, "operation_id"),
        ({"page_size": 1001}, "page_size"),
        ({"start_date": "2024-02-01T00:00:00Z", "end_date": "2024-01-01T00:00:00Z"}, "end_date"),
    ],
)
def test_list_refuses_bad_filters_before_any_request(fake_api, kwargs, field):
    api = fake_api(replies(_page([])))
    with pytest.raises(InvalidInputError) as caught:
        api.client().messages.list(**kwargs)
    assert caught.value.field == field and api.requests == []


def test_get_reads_attempts_and_the_fallback(fake_api):
    rcs_failed = attempt_json(
        "RCS", "FAILED", {"code": 61337, "message": "Recipient does not have RCS enabled."}
    )
    body = message_json(attempts=[rcs_failed, attempt_json("SMS", "DELIVERED")])
    api = fake_api(replies(httpx.Response(200, json=body)))
    message = api.client().messages.get(body["id"])
    assert api.requests[0].url.path == f"/v1/Messages/{body['id']}"
    assert (message.n_attempts, message.fallback) == (2, True)
    first, second = message.attempts
    assert (first.channel, first.status, first.error_code) == ("RCS", "FAILED", 61337)
    assert first.error_message == "Recipient does not have RCS enabled."
    assert (second.channel, second.error_code, second.sender_address) == ("SMS", None, "sms-sender")
    assert second.attempted_at == datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc)


def test_an_unaddressable_message_has_no_attempts_and_no_fallback(fake_api):
    body = message_json(attempts=[], status="FAILED")
    api = fake_api(replies(httpx.Response(200, json=body)))
    message = api.client().messages.get(body["id"])
    assert (message.status, message.n_attempts, message.fallback) == ("FAILED", 0, False)


def test_get_refuses_a_malformed_id_and_reports_a_missing_one(fake_api):
    missing = {"errors": [{"code": 20404, "message": "Not found", "infoUrl": "u", "context": None}]}
    api = fake_api(replies(httpx.Response(404, json=missing)))
    client = api.client()
    with pytest.raises(InvalidInputError):
        client.messages.get(OP_ID)
    assert api.requests == []
    with pytest.raises(NotFoundError):
        client.messages.get(MESSAGE_ID)


def test_message_operations_get_list_and_wait(fake_api):
    stats = {"total": 2, "recipients": 2, "attempts": 3, "delivered": 1, "failed": 1}
    done = {
        "id": OP_ID,
        "status": "COMPLETED",
        "stats": stats,
        "createdAt": WHEN,
        "updatedAt": WHEN,
    }
    running = {**done, "status": "PROCESSING"}
    listing = httpx.Response(200, json={"operations": [done], "pagination": {"next": None}})
    api = fake_api(
        replies(
            httpx.Response(200, json=running),
            listing,
            httpx.Response(200, json=running),
            httpx.Response(200, json=done),
        )
    )
    client = api.client()
    op = client.messages.operations.get(OP_ID)
    assert (op.kind, op.status, op.done, op.processed) == ("message", "PROCESSING", False, 2)
    (listed,) = client.messages.operations.list(status="completed")
    assert listed.stats["attempts"] == 3
    final = client.wait(Operation(id=OP_ID, kind="message"), poll_interval=0.1)
    assert final.status == "COMPLETED"
    paths = [(r.url.path, dict(r.url.params)) for r in api.requests]
    assert paths == [
        (f"/v1/Messages/Operations/{OP_ID}", {}),
        ("/v1/Messages/Operations", {"status": "COMPLETED", "pageSize": "1000"}),
        (f"/v1/Messages/Operations/{OP_ID}", {}),
        (f"/v1/Messages/Operations/{OP_ID}", {}),
    ]
    with pytest.raises(InvalidInputError):
        client.messages.operations.list(status="FAILED")
