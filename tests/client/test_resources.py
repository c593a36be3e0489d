"""Resources: the request each method sends, what it returns, and what it refuses."""

from __future__ import annotations

from datetime import date, datetime, timezone

import httpx
import pytest

from commstoolkit.errors import InvalidInputError, OperationError
from commstoolkit.models import Accepted, Operation, Recipient

from .conftest import OP_ID, POOL_ID, SENDER_ID, body_of, sender_json

OTHER_SENDER = "comms_sender_01h9krwprkeee8fzqspvwy6nq7"
POOL = {
    "id": POOL_ID,
    "name": "Support",
    "tags": {"tier": "1"},
    "createdAt": "2024-01-01T00:00:00Z",
    "updatedAt": "2024-01-01T00:00:00Z",
}


def _answer(request):
    """A fake API answering every route the client uses with a plausible body."""
    path, method = request.url.path.removeprefix("/v1"), request.method
    if method == "POST" and path in ("/SenderPools", f"/SenderPools/{POOL_ID}/Senders"):
        return httpx.Response(
            202, json={"operationId": OP_ID, "operationLocation": f"https://x.test/{OP_ID}"}
        )
    if method in ("PATCH", "DELETE"):
        rid = path.rsplit("/", 1)[1]
        return httpx.Response(202, json={"resourceId": rid, "resourceLocation": f"https://x{path}"})
    if path == "/Senders/Resolve":
        route = {
            "from": {"senderId": SENDER_ID, "displayName": "S", "address": "+1", "channel": "SMS"},
            "to": {"address": "+14155550000", "channel": "PHONE"},
            "priority": 0,
        }
        return httpx.Response(200, json={"results": [route]})
    if path == "/SenderPools":
        return httpx.Response(200, json={"senderPools": [POOL], "pagination": {"next": None}})
    if path == f"/SenderPools/{POOL_ID}":
        return httpx.Response(200, json=POOL)
    if path.startswith("/SenderPools/Operations/"):
        stats = {"total": 1, "queued": 0, "created": 1, "failed": 0}
        return httpx.Response(200, json={"id": OP_ID, "status": "COMPLETED", "stats": stats})
    if path.endswith("/Senders"):
        return httpx.Response(200, json={"senders": [sender_json()], "pagination": {"next": None}})
    return httpx.Response(200, json=sender_json())


@pytest.fixture
def api(fake_api):
    return fake_api(_answer)


def _only(api):
    assert len(api.requests) == 1
    request = api.requests[0]
    return request.method, request.url.path.removeprefix("/v1")


def test_senders_get(api):
    sender = api.client().senders.get(SENDER_ID)
    assert sender.display_name == "Sender 0"
    assert _only(api) == ("GET", f"/Senders/{SENDER_ID}")


def test_senders_list_filters_are_normalised(api):
    pager = api.client().senders.list(
        channel="whatsapp",
        status="deactivated",
        start_date=date(2024, 1, 1),
        end_date=datetime(2024, 2, 1, 12, tzinfo=timezone.utc),
    )
    list(pager)
    assert dict(api.requests[0].url.params) == {
        "channel": "WHATSAPP",
        "status": "DEACTIVATED",
        "startDate": "2024-01-01T00:00:00Z",
        "endDate": "2024-02-01T12:00:00Z",
        "pageSize": "1000",
    }


def test_resolve_sends_recipients_pool_and_channels(api):
    routes = api.client().senders.resolve(
        ["+14155550000", "ann@example.com", ("+14155550001", "whatsapp")],
        sender_pool_id=POOL_ID,
        channels=["RCS", "SMS"],
        priority={"RCS": 0, "SMS": 1},
    )
    assert [(r.sender_id, r.to_channel, r.priority) for r in routes] == [(SENDER_ID, "PHONE", 0)]
    assert _only(api) == ("POST", "/Senders/Resolve")
    assert body_of(api.requests[0]) == {
        "senderPoolId": POOL_ID,
        "recipientAddresses": [
            {"address": "+14155550000", "channel": "PHONE"},
            {"address": "ann@example.com", "channel": "EMAIL"},
            {"address": "+14155550001", "channel": "WHATSAPP"},
        ],
        "channels": {
            "filterIn": ["RCS", "SMS"],
            "priority": [{"channel": "RCS", "priority": 0}, {"channel": "SMS", "priority": 1}],
        },
    }


def test_resolve_accepts_one_recipient_object(api):
    api.client().senders.resolve(Recipient("dev-1", "PUSH"))
    assert body_of(api.requests[0]) == {
        "recipientAddresses": [{"address": "dev-1", "channel": "PUSH"}]
    }


def test_create_pool_returns_its_operation(api):
    op = api.client().sender_pools.create(
        name="Sales", sender_ids=[SENDER_ID, OTHER_SENDER], tags={"region": "APAC"}
    )
    assert op == Operation(id=OP_ID, kind="sender_pool", location=f"https://x.test/{OP_ID}")
    assert _only(api) == ("POST", "/SenderPools")
    assert body_of(api.requests[0]) == {
        "name": "Sales",
        "senders": [{"senderId": SENDER_ID}, {"senderId": OTHER_SENDER}],
        "tags": {"region": "APAC"},
    }


def test_get_update_delete_pool(api):
    pools = api.client().sender_pools
    assert pools.get(POOL_ID).tags == {"tier": "1"}
    assert pools.update(POOL_ID, name="Tier 1") == Accepted(
        resource_id=POOL_ID, location=f"https://x/SenderPools/{POOL_ID}"
    )
    assert pools.update(POOL_ID, tags={}).resource_id == POOL_ID
    assert pools.delete(POOL_ID).resource_id == POOL_ID
    sent = [(r.method, r.content) for r in api.requests]
    assert sent == [
        ("GET", b""),
        ("PATCH", b'{"name":"Tier 1"}'),
        ("PATCH", b'{"tags":{}}'),
        ("DELETE", b""),
    ]


def test_members_add_sends_a_top_level_array(api):
    op = api.client().sender_pools.members.add(POOL_ID, (s for s in [SENDER_ID, OTHER_SENDER]))
    assert op.kind == "sender_pool"
    assert _only(api) == ("POST", f"/SenderPools/{POOL_ID}/Senders")
    assert body_of(api.requests[0]) == [{"senderId": SENDER_ID}, {"senderId": OTHER_SENDER}]


def test_members_remove_and_list(api):
    members = api.client().sender_pools.members
    assert members.remove(POOL_ID, SENDER_ID).resource_id == SENDER_ID
    assert [s.id for s in members.list(POOL_ID, channel="SMS")] == [sender_json()["id"]]
    paths = [(r.method, r.url.path) for r in api.requests]
    assert paths == [
        ("DELETE", f"/v1/SenderPools/{POOL_ID}/Senders/{SENDER_ID}"),
        ("GET", f"/v1/SenderPools/{POOL_ID}/Senders"),
    ]


def test_operations_get_accepts_an_operation_or_an_id(api):
    ops = api.client().sender_pools.operations
    assert ops.get(OP_ID).stats == {"total": 1, "queued": 0, "created": 1, "failed": 0}
    assert ops.get(Operation(id=OP_ID, kind="sender_pool")).done
    assert {r.url.path for r in api.requests} == {f"/v1/SenderPools/Operations/{OP_ID}"}


def test_find_created_looks_the_pool_up_by_operation(api):
    pool = api.client().sender_pools.find_created(Operation(id=OP_ID, kind="sender_pool"))
    assert pool.id == POOL_ID
    assert dict(api.requests[0].url.params) == {"operationId": OP_ID, "pageSize": "1"}


def test_find_created_without_a_pool_says_to_wait(fake_api):
    api = fake_api(lambda r: httpx.Response(200, json={"senderPools": [], "pagination": {}}))
    with pytest.raises(OperationError, match=r"client\.wait"):
        api.client().sender_pools.find_created(OP_ID)


# -- refused before any request -----------------------------------------------------------

BAD_CALLS = [
    pytest.param(lambda c: c.senders.get(POOL_ID), "id", id="sender id prefix"),
    pytest.param(
        lambda c: c.senders.get("comms_sender_01h9krwprkeee8fzqspvwy6nqi"),
        "id",
        id="sender id charset",
    ),
    pytest.param(lambda c: c.senders.get("comms_sender_01h9"), "id", id="sender id too short"),
    pytest.param(
        lambda c: c.senders.get("comms_sender_81h9krwprkeee8fzqspvwy6nq8"),
        "id",
        id="sender id first char",
    ),
    pytest.param(lambda c: c.senders.get(SENDER_ID + "/../x"), "id", id="path injection"),
    pytest.param(lambda c: c.sender_pools.get(SENDER_ID), "id", id="pool id"),
    pytest.param(lambda c: c.sender_pools.delete(None), "id", id="pool id not str"),
    pytest.param(lambda c: c.sender_pools.operations.get(POOL_ID), "id", id="operation id"),
    pytest.param(
        lambda c: c.sender_pools.list(operation_id="op"), "operation_id", id="list operation id"
    ),
    pytest.param(lambda c: c.senders.list(channel="FAX"), "channel", id="channel"),
    pytest.param(lambda c: c.senders.list(status="ACTIVE"), "status", id="status"),
    pytest.param(
        lambda c: c.sender_pools.members.list(POOL_ID, channel="MMS"),
        "channel",
        id="member channel",
    ),
    pytest.param(
        lambda c: c.sender_pools.operations.list(status="FAILED"), "status", id="op status"
    ),
    pytest.param(
        lambda c: c.senders.list(start_date=datetime(2024, 1, 1)), "start_date", id="naive date"
    ),
    pytest.param(lambda c: c.senders.list(end_date="last week"), "end_date", id="bad date"),
    pytest.param(
        lambda c: c.sender_pools.list(start_date=date(2024, 2, 1), end_date=date(2024, 1, 1)),
        "end_date",
        id="reversed dates",
    ),
    pytest.param(lambda c: c.senders.search("+1", "PHONE"), "channel", id="search channel"),
    pytest.param(lambda c: c.senders.search("", "SMS"), "address", id="search address"),
    pytest.param(
        lambda c: c.sender_pools.create(name="p", tags={f"k{i}": "v" for i in range(11)}),
        "tags",
        id="too many tags",
    ),
    pytest.param(
        lambda c: c.sender_pools.create(name="p", tags={"a b": "v"}), "tags", id="tag key charset"
    ),
    pytest.param(
        lambda c: c.sender_pools.create(name="p", tags={"k" * 129: "v"}),
        "tags",
        id="tag key length",
    ),
    pytest.param(
        lambda c: c.sender_pools.update(POOL_ID, tags={"k": "v" * 257}),
        "tags",
        id="tag value length",
    ),
    pytest.param(
        lambda c: c.sender_pools.update(POOL_ID, tags={"k": 1}), "tags", id="tag value type"
    ),
    pytest.param(
        lambda c: c.sender_pools.update(POOL_ID, tags=["a"]), "tags", id="tags not a dict"
    ),
    pytest.param(lambda c: c.sender_pools.update(POOL_ID), "name", id="empty update"),
    pytest.param(lambda c: c.sender_pools.create(name=""), "name", id="empty name"),
    pytest.param(
        lambda c: c.sender_pools.create(name="p", sender_ids=["x"]),
        "sender_ids",
        id="create bad member",
    ),
    pytest.param(
        lambda c: c.sender_pools.create(sender_ids=[SENDER_ID] * 10_001),
        "sender_ids",
        id="create too many",
    ),
    pytest.param(lambda c: c.sender_pools.members.add(POOL_ID, []), "sender_ids", id="add none"),
    pytest.param(
        lambda c: c.sender_pools.members.add(POOL_ID, [SENDER_ID] * 10_001),
        "sender_ids",
        id="add too many",
    ),
    pytest.param(
        lambda c: c.sender_pools.members.add(POOL_ID, SENDER_ID), "sender_ids", id="add one string"
    ),
    pytest.param(
        lambda c: c.sender_pools.members.remove(POOL_ID, "s"), "sender_id", id="remove bad sender"
    ),
    pytest.param(lambda c: c.senders.resolve([]), "recipients", id="resolve none"),
    pytest.param(
        lambda c: c.senders.resolve([f"+1415555{i:04d}" for i in range(101)]),
        "recipients",
        id="resolve too many",
    ),
    pytest.param(
        lambda c: c.senders.resolve([("+1", "SMS")]), "recipients.channel", id="resolve channel"
    ),
    pytest.param(
        lambda c: c.senders.resolve(["+14155550100"], channels=["PHONE"]),
        "channels",
        id="resolve filter",
    ),
    pytest.param(
        lambda c: c.senders.resolve(["+14155550100"], channels=["SMS", "sms"]),
        "channels",
        id="resolve filter dup",
    ),
    pytest.param(
        lambda c: c.senders.resolve(["+14155550100"], sender_pool_id="p"),
        "sender_pool_id",
        id="resolve pool",
    ),
    pytest.param(
        lambda c: c.senders.resolve(["+14155550100"], priority={"SMS": "1"}),
        "priority",
        id="resolve priority",
    ),
]


@pytest.mark.parametrize(("call", "field"), BAD_CALLS)
def test_bad_input_is_refused_before_any_request(api, call, field):
    with pytest.raises(InvalidInputError) as caught:
        call(api.client())
    assert caught.value.field == field
    assert field.split(".")[0].split("_")[0] in str(caught.value)
    assert api.requests == []


def test_enum_errors_list_the_allowed_values(api):
    with pytest.raises(InvalidInputError) as caught:
        api.client().senders.list(channel="FAX")
    assert caught.value.allowed == ("SMS", "RCS", "EMAIL", "WHATSAPP", "PUSH")
    assert "SMS, RCS, EMAIL, WHATSAPP, PUSH" in str(caught.value)


def test_id_errors_show_the_expected_form(api):
    with pytest.raises(InvalidInputError, match="comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"):
        api.client().sender_pools.get("pool-1")


def test_limits_are_inclusive(api):
    client = api.client()
    client.sender_pools.members.add(POOL_ID, [SENDER_ID] * 10_000)
    client.sender_pools.create(name="p", tags={f"k{i}": "v" * 256 for i in range(10)})
    client.sender_pools.update(POOL_ID, tags={"k" * 128: "a.b_c~d-e"})
    client.senders.resolve([f"+1415555{i:04d}" for i in range(100)])
    assert len(api.requests) == 4
