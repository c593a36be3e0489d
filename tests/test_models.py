from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone

import pytest

from commstoolkit.client.bodies import (
    ResolveRequest,
    SenderPoolCreate,
    SenderPoolUpdate,
    SenderSearch,
    query_params,
)
from commstoolkit.models import (
    Accepted,
    Operation,
    Page,
    Recipient,
    Route,
    Sender,
    SenderPool,
    format_timestamp,
    parse_timestamp,
)

SENDER = {
    "id": "comms_sender_01h9krwprkeee8fzqspvwy6nq8",
    "displayName": "Cool Support",
    "channel": "SMS",
    "address": "+14153902337",
    "status": "ACTIVATED",
    "tags": {"region": "emea"},
    "createdAt": "2022-08-24T14:15:22Z",
    "updatedAt": "2023-09-13T12:00:24+02:00",
}


def test_sender_from_api_snake_cases_and_parses_timestamps():
    sender = Sender.from_api(SENDER)
    assert sender.display_name == "Cool Support"
    assert sender.tags == {"region": "emea"}
    assert sender.created_at == datetime(2022, 8, 24, 14, 15, 22, tzinfo=timezone.utc)
    assert sender.updated_at == datetime(2023, 9, 13, 10, 0, 24, tzinfo=timezone.utc)
    assert sender.updated_at.utcoffset() == timedelta(0)


def test_unknown_fields_are_ignored_and_null_display_name_kept():
    sender = Sender.from_api({**SENDER, "displayName": None, "brandNew": {"x": 1}})
    assert sender.display_name is None


def test_models_are_frozen_and_hashable():
    sender = Sender.from_api(SENDER)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sender.status = "DEACTIVATED"
    assert len({sender, Sender.from_api(SENDER)}) == 1
    assert not hasattr(sender, "__dict__")


def test_sender_pool_from_api():
    pool = SenderPool.from_api(
        {
            "id": "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8",
            "name": "Support",
            "tags": {},
            "createdAt": "2023-10-02T11:20:00Z",
            "updatedAt": "2023-10-02T11:20:00.123456789Z",
        }
    )
    assert pool.name == "Support"
    assert pool.updated_at.microsecond == 123456


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-04-05T06:20:00Z", datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc)),
        ("2024-04-05t06:20:00z", datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc)),
        ("2024-04-05T08:20:00+02:00", datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc)),
        ("2024-04-05T01:20:00-0500", datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc)),
        ("2024-04-05T06:20:00.5Z", datetime(2024, 4, 5, 6, 20, 0, 500000, tzinfo=timezone.utc)),
        ("2024-04-05 06:20:00", datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc)),
    ],
)
def test_parse_timestamp_forms(text, expected):
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo == timezone.utc


@pytest.mark.parametrize("text", ["yesterday", "2024-04-05", "2024-13-05T00:00:00Z", ""])
def test_parse_timestamp_rejects_garbage(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_format_timestamp_is_utc_with_z():
    paris = timezone(timedelta(hours=2))
    assert format_timestamp(datetime(2024, 4, 5, 8, 20, tzinfo=paris)) == "2024-04-05T06:20:00Z"
    assert format_timestamp(date(2024, 4, 5)) == "2024-04-05T00:00:00Z"


def test_query_params_camel_cases_and_drops_none():
    params = query_params(
        channel="SMS", status=None, start_date=date(2024, 1, 1), page_size=10, operation_id="x"
    )
    assert params == {
        "channel": "SMS",
        "startDate": "2024-01-01T00:00:00Z",
        "pageSize": 10,
        "operationId": "x",
    }


MESSAGE_STATS = {
    "total": 4,
    "recipients": 4,
    "attempts": 5,
    "unaddressable": 1,
    "scheduled": 0,
    "queued": 1,
    "sent": 0,
    "delivered": 1,
    "read": 1,
    "undelivered": 0,
    "failed": 1,
    "canceled": 0,
}


def test_message_operation_stats_and_progress():
    op = Operation.from_api(
        {
            "id": "comms_operation_01h2xcejqtf2nbrexx3vqjhp41",
            "status": "PROCESSING",
            "stats": MESSAGE_STATS,
            "createdAt": "2024-04-05T06:20:00Z",
            "updatedAt": "2024-04-05T06:21:00Z",
        },
        kind="message",
    )
    assert op.stats == MESSAGE_STATS
    assert (op.total, op.processed, op.done) == (4, 3, False)


def test_operation_stats_keys_are_snake_cased_and_non_counts_dropped():
    stats = {"newCounter": 2, "attempts": None, "note": "n/a"}
    op = Operation.from_api({"id": "x", "status": "COMPLETED", "stats": stats}, "message")
    assert op.stats == {"new_counter": 2}
    assert op.done


def test_pool_operation_progress_counts_created_and_failed():
    op = Operation.from_api(
        {
            "id": "comms_operation_01h9krwprkeee8fzqspvwy6nq8",
            "status": "PROCESSING",
            "stats": {"total": 10, "queued": 3, "created": 6, "failed": 1},
            "createdAt": "2024-04-05T06:20:00Z",
            "updatedAt": "2024-04-05T06:20:00Z",
        },
        kind="sender_pool",
    )
    assert (op.total, op.processed) == (10, 7)


def test_accepted_operation_has_no_status_yet():
    op = Operation.from_accepted(
        {
            "operationId": "comms_operation_01h9krwprkeee8fzqspvwy6nq8",
            "operationLocation": "https://comms.twilio.com/v1/SenderPools/Operations/x",
        },
        kind="sender_pool",
    )
    assert op.status is None
    assert not op.done
    assert op.total is None
    assert op.location == "https://comms.twilio.com/v1/SenderPools/Operations/x"


def test_accepted_resource():
    accepted = Accepted.from_api({"resourceId": "r", "resourceLocation": "https://x.test/r"})
    assert accepted == Accepted(resource_id="r", location="https://x.test/r")


def test_route_without_sender_address():
    route = Route.from_api(
        {
            "from": {"senderId": "s", "displayName": None, "channel": "PUSH"},
            "to": {"address": "device", "channel": "PUSH"},
            "priority": 1,
        }
    )
    assert route.sender_address is None
    assert route.priority == 1


def test_page_reads_items_and_next():
    page = Page.from_api(
        {"senderPools": [{"id": "a"}], "pagination": {"next": "tok", "self": "s"}},
        "sender_pools",
        lambda d: d["id"],
    )
    assert (page.items, page.next) == (["a"], "tok")
    empty = Page.from_api({"pagination": {"next": None, "self": "s"}}, "senders", dict)
    assert (empty.items, empty.next) == ([], None)


def test_request_bodies_are_camel_case_and_leave_out_empty_parts():
    assert SenderPoolCreate(name="P").to_api() == {"name": "P"}
    assert SenderPoolCreate(name="P", sender_ids=("a", "b"), tags={"k": "v"}).to_api() == {
        "name": "P",
        "senders": [{"senderId": "a"}, {"senderId": "b"}],
        "tags": {"k": "v"},
    }
    assert SenderPoolUpdate(tags={}).to_api() == {"tags": {}}
    assert SenderSearch(address="+1", channel="SMS").to_api() == {"address": "+1", "channel": "SMS"}
    body = ResolveRequest(
        recipients=(Recipient("+1", "PHONE"),),
        sender_pool_id="p",
        channels=("RCS", "SMS"),
        priority={"RCS": 0, "SMS": 1},
    ).to_api()
    assert body == {
        "senderPoolId": "p",
        "recipientAddresses": [{"address": "+1", "channel": "PHONE"}],
        "channels": {
            "filterIn": ["RCS", "SMS"],
            "priority": [{"channel": "RCS", "priority": 0}, {"channel": "SMS", "priority": 1}],
        },
    }
