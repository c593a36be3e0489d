"""``client.messages`` against the official contract: spec examples in, spec-valid requests out.

Reuses the contract server of ``test_contract``: every request is matched to its spec
operation and its query and body are validated against the spec's schemas.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from commstoolkit.models import parse_timestamp

from .conftest import OP_ID, POOL_ID, SENDER_ID
from .test_contract import Contract, ContractServer, _client

ACCEPTED = (202, {"operationId": OP_ID, "operationLocation": "https://x.test/op"})
EMPTY_MESSAGES = (200, {"messages": [], "pagination": {"next": None, "self": "s"}})


@pytest.fixture(scope="module")
def contract(contract_dir) -> Contract:
    doc = json.loads((contract_dir / "schemas.json").read_text(encoding="utf-8"))
    examples = [
        {**json.loads(path.read_text(encoding="utf-8")), "file": path.name}
        for path in sorted((contract_dir / "examples").glob("*Messages*.json"))
    ]
    assert examples, f"no Messages examples in {contract_dir / 'examples'}"
    return Contract(doc["$defs"], doc["operations"], examples)


def test_the_list_examples_read_through_the_client(contract):
    for example in contract.examples_of("response", "GET /Messages"):
        server = ContractServer(contract, {"GET /Messages": (200, example["value"])})
        messages = list(_client(server).messages.list())
        items = example["value"]["messages"]
        assert [m.id for m in messages] == [i["id"] for i in items], example["file"]
        assert [m.status for m in messages] == [i["status"] for i in items]
        assert [m.sender_id for m in messages] == [i["from"].get("senderId") for i in items]
        assert [m.to_address for m in messages] == [i["to"][0]["address"] for i in items]
        assert [m.created_at for m in messages] == [parse_timestamp(i["createdAt"]) for i in items]
        assert all(m.attempts is None for m in messages)


def test_the_mixed_channel_listing_keeps_pool_and_operation(contract):
    (example,) = [
        e for e in contract.examples_of("response", "GET /Messages") if "MixedChannels" in e["file"]
    ]
    server = ContractServer(contract, {"GET /Messages": (200, example["value"])})
    first, second = _client(server).messages.list()
    assert (first.channel, first.sender_pool_id) == ("SMS", POOL_ID)
    assert (second.channel, second.sender_pool_id) == ("WHATSAPP", None)
    assert first.operation_id == "comms_operation_01h2xcejqtf2nbrexx3vqjhp41"


def test_the_fallback_example_reads_as_two_attempts(contract):
    (example,) = contract.examples_of("response", "GET /Messages/{messageId}")
    value = example["value"]
    server = ContractServer(contract, {"GET /Messages/{messageId}": (200, value)})
    message = _client(server).messages.get(value["id"])
    assert (message.status, message.n_attempts, message.fallback) == ("DELIVERED", 2, True)
    assert [(a.channel, a.status, a.error_code) for a in message.attempts] == [
        ("RCS", "FAILED", 61337),
        ("SMS", "DELIVERED", None),
    ]
    assert message.operation_id is None  # this example is related to a SESSION only


def test_the_simplest_send_example_is_what_the_client_sends(contract):
    (example,) = [
        e for e in contract.examples_of("request", "POST /Messages") if "Simplest" in e["file"]
    ]
    server = ContractServer(contract, {"POST /Messages": ACCEPTED})
    value = example["value"]
    to = value["to"][0]
    _client(server).messages.send([(to["address"], to["channel"])], text=value["content"]["text"])
    ((_, request),) = server.seen
    assert json.loads(request.content) == value


def test_every_send_the_client_can_make_fits_the_spec(contract):
    server = ContractServer(contract, {"POST /Messages": ACCEPTED})
    client = _client(server)
    numbers = [("+14155550100", "PHONE"), ("+14155550101", "WHATSAPP")]
    client.messages.send(
        numbers,
        text="x" * 1600,
        sender_pool_id=POOL_ID,
        channels=["RCS", "SMS", "WHATSAPP"],
        priority={"RCS": 0, "SMS": 1},
        tags={f"k{n}": "v._~-" for n in range(10)},
        send_at=datetime(2030, 4, 1, tzinfo=timezone.utc),
    )
    client.messages.send(numbers, text="Hi", sender_id=SENDER_ID)
    client.messages.send(numbers, text="Hi")
    client.messages.send(numbers, content={"contentId": "HX" + "a" * 32}, sender_pool_id=POOL_ID)
    modules = {"modules": [{"sms": {"text": "Hi"}}, {"rcs": {"text": "Hi"}}]}
    client.messages.send(numbers, content=modules, sender_pool_id=POOL_ID)
    assert len(server.seen) == 5


def test_the_largest_send_fits_the_spec(contract):
    server = ContractServer(contract, {"POST /Messages": ACCEPTED})
    numbers = [f"+1415{n:07d}" for n in range(10_000)]
    _client(server).messages.send(numbers, text="Hi", sender_pool_id=POOL_ID, channels=["SMS"])
    ((_, request),) = server.seen
    assert len(json.loads(request.content)["to"]) == 10_000


def test_every_read_the_client_can_make_fits_the_spec(contract):
    when = "2024-04-05T06:20:00Z"
    operation = {
        "id": OP_ID,
        "status": "COMPLETED",
        "stats": {},
        "createdAt": when,
        "updatedAt": when,
    }
    (fallback,) = contract.examples_of("response", "GET /Messages/{messageId}")
    answers = {
        "GET /Messages": EMPTY_MESSAGES,
        "GET /Messages/{messageId}": (200, fallback["value"]),
        "GET /Messages/Operations": (200, {"operations": [], "pagination": {"next": None}}),
        "GET /Messages/Operations/{operationId}": (200, operation),
    }
    server = ContractServer(contract, answers)
    client = _client(server)
    window = {"start_date": "2024-01-01T00:00:00+02:00", "end_date": datetime.now(timezone.utc)}
    for status in ("QUEUED", "SENT", "DELIVERED", "READ", "UNDELIVERED", "FAILED"):
        list(client.messages.list(status=status))
    list(
        client.messages.list(
            operation_id=OP_ID,
            channel="WHATSAPP",
            tags={"ct_run": "ts-20240405T062000Z-1a2b3c", "ct_chunk": "1"},
            page_size=1,
            **window,
        )
    )
    client.messages.get("comms_message_01h9krwprkeee8fzqspvwy6nq8")
    list(client.messages.operations.list(status="SCHEDULED", page_size=1000, **window))
    client.messages.operations.get(OP_ID)
    assert {key for key, _ in server.seen} == set(answers)
