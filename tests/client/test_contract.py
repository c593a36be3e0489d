"""The client against the official contract extract (schemas + the spec's own examples).

A fake server matches each request to a spec operation and checks its path parameters,
query and body against the spec's schemas before answering with a spec example; every
response example is read back through the client into the models.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from commstoolkit.client import CommsClient, RetryPolicy
from commstoolkit.client.responses import error_from_response
from commstoolkit.errors import APIError, NotFoundError, RateLimitError
from commstoolkit.models import Accepted, Operation, Route, Sender, SenderPool, parse_timestamp

from .conftest import OP_ID, POOL_ID, SENDER_ID, SID, TOKEN

OTHER_SENDER = "comms_sender_01h9krwprkeee8fzqspvwy6nq7"


@dataclass
class Contract:
    defs: dict[str, Any]
    operations: dict[str, Any]
    examples: list[dict[str, Any]]

    def validator(self, ref: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$defs": self.defs, "$ref": ref}, format_checker=FormatChecker()
        )

    def schema(self, node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        return self.defs[ref.removeprefix("#/$defs/")] if ref else node

    def examples_of(self, kind: str, operation: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.examples
            if e["kind"] == kind and (operation is None or e["operation"] == operation)
        ]


@pytest.fixture(scope="session")
def contract(contract_dir) -> Contract:
    doc = json.loads((contract_dir / "schemas.json").read_text(encoding="utf-8"))
    examples = []
    for path in sorted((contract_dir / "examples").glob("*.json")):
        example = json.loads(path.read_text(encoding="utf-8"))
        examples.append({**example, "file": path.name})
    assert examples, f"no examples in {contract_dir / 'examples'}"
    return Contract(doc["$defs"], doc["operations"], examples)


class ContractServer:
    """Checks each request against the spec operation it matches, answers from ``answers``."""

    def __init__(self, contract: Contract, answers: dict[str, tuple[int, Any]]) -> None:
        self.contract = contract
        self.answers = answers
        self.seen: list[tuple[str, httpx.Request]] = []
        templates = sorted(contract.operations, key=lambda key: key.count("{"))
        self.routes = [(key, _template_regex(key)) for key in templates]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1")
        key, params = next(
            (key, m.groupdict())
            for key, regex in self.routes
            if (m := regex.fullmatch(f"{request.method} {path}"))
        )
        self._check(key, params, request)
        self.seen.append((key, request))
        status, body = self.answers[key]
        return httpx.Response(status, json=body)

    def _check(self, key: str, path_params: dict[str, str], request: httpx.Request) -> None:
        spec = self.contract.operations[key]
        for name, value in path_params.items():
            self.contract.validator(spec["path"][name]["$ref"]).validate(value)
        for name, value in request.url.params.multi_items():
            assert name in spec["query"], f"{key}: query parameter {name!r} is not in the spec"
            schema = self.contract.schema(spec["query"][name])
            typed = int(value) if schema.get("type") == "integer" else value
            Draft202012Validator(schema, format_checker=FormatChecker()).validate(typed)
        if spec["requestBody"] is None:
            assert not request.content, f"{key} takes no body"
        else:
            body = json.loads(request.content)
            self.contract.validator(spec["requestBody"]["$ref"]).validate(body)


def _template_regex(key: str) -> re.Pattern[str]:
    method, template = key.split(" ", 1)
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"{method} {pattern}")


def _client(server: ContractServer, **kwargs: Any) -> CommsClient:
    return CommsClient(
        account_sid=SID,
        auth_token=TOKEN,
        transport=httpx.MockTransport(server),
        sleep=lambda seconds: None,
        **kwargs,
    )


# -- response examples -> models ---------------------------------------------------------


def _check_senders(senders: list[Sender], value: dict[str, Any]) -> None:
    _check_sender_list(senders, value["senders"])


def _check_sender_list(senders: list[Sender], items: list[dict[str, Any]]) -> None:
    assert [(s.id, s.channel, s.address, s.status) for s in senders] == [
        (i["id"], i["channel"], i["address"], i["status"]) for i in items
    ]
    assert [s.display_name for s in senders] == [i["displayName"] for i in items]
    assert [s.created_at for s in senders] == [parse_timestamp(i["createdAt"]) for i in items]
    assert all(s.created_at.tzinfo == timezone.utc for s in senders)


def _check_pool_operation(op: Operation, value: dict[str, Any]) -> None:
    assert (op.id, op.kind, op.status) == (value["id"], "sender_pool", value["status"])
    assert op.stats == value["stats"]
    assert op.updated_at == parse_timestamp(value["updatedAt"])


# operation -> (call the client, check the result against the example value)
RESPONSE_CASES = {
    "GET /Senders": (lambda c: list(c.senders.list()), _check_senders),
    "GET /Senders/{senderId}": (
        lambda c: [c.senders.get(SENDER_ID)],
        lambda result, value: _check_sender_list(result, [value]),
    ),
    "POST /Senders/Search": (
        lambda c: list(c.senders.search("+14153902337", "SMS")),
        _check_senders,
    ),
    "GET /SenderPools/{senderPoolId}/Senders": (
        lambda c: list(c.sender_pools.members.list(POOL_ID)),
        _check_senders,
    ),
    "POST /Senders/Resolve": (
        lambda c: c.senders.resolve(["+14153902337"]),
        lambda routes, value: _check_routes(routes, value["results"]),
    ),
    "GET /SenderPools/{senderPoolId}": (
        lambda c: c.sender_pools.get(POOL_ID),
        lambda pool, value: _check_pool(pool, value),
    ),
    "POST /SenderPools": (
        lambda c: c.sender_pools.create(name="Sales Leads - APAC"),
        lambda op, value: _check_accepted_operation(op, value, "sender_pool"),
    ),
    "POST /SenderPools/{senderPoolId}/Senders": (
        lambda c: c.sender_pools.members.add(POOL_ID, [SENDER_ID]),
        lambda op, value: _check_accepted_operation(op, value, "sender_pool"),
    ),
    "PATCH /SenderPools/{senderPoolId}": (
        lambda c: c.sender_pools.update(POOL_ID, name="Tier 1"),
        lambda accepted, value: _check_accepted(accepted, value),
    ),
    "DELETE /SenderPools/{senderPoolId}": (
        lambda c: c.sender_pools.delete(POOL_ID),
        lambda accepted, value: _check_accepted(accepted, value),
    ),
    "DELETE /SenderPools/{senderPoolId}/Senders/{senderId}": (
        lambda c: c.sender_pools.members.remove(POOL_ID, SENDER_ID),
        lambda accepted, value: _check_accepted(accepted, value),
    ),
    "GET /SenderPools/Operations/{operationId}": (
        lambda c: c.sender_pools.operations.get(OP_ID),
        _check_pool_operation,
    ),
    "GET /SenderPools/Operations": (
        lambda c: list(c.sender_pools.operations.list()),
        lambda ops, value: _check_pool_operations(ops, value["operations"]),
    ),
    "GET /Messages/Operations/{operationId}": (
        lambda c: c.wait(OP_ID, kind="message"),
        lambda op, value: _check_message_operation(op, value),
    ),
}


def _check_pool_operations(ops: list[Operation], items: list[dict[str, Any]]) -> None:
    for op, item in zip(ops, items, strict=True):
        _check_pool_operation(op, item)


def _check_routes(routes: list[Route], results: list[dict[str, Any]]) -> None:
    assert len(routes) == len(results)
    for route, result in zip(routes, results, strict=True):
        sender, to = result["from"], result["to"]
        assert (route.sender_id, route.sender_channel) == (sender["senderId"], sender["channel"])
        assert (route.display_name, route.sender_address) == (
            sender["displayName"],
            sender.get("address"),
        )
        assert (route.to_address, route.to_channel) == (to["address"], to["channel"])
        assert route.priority == result["priority"]


def _check_pool(pool: SenderPool, value: dict[str, Any]) -> None:
    assert (pool.id, pool.name, pool.tags) == (value["id"], value["name"], value["tags"])
    assert pool.created_at == datetime(2023, 10, 2, 11, 20, tzinfo=timezone.utc)


def _check_accepted_operation(op: Operation, value: dict[str, Any], kind: str) -> None:
    assert op == Operation(id=value["operationId"], kind=kind, location=value["operationLocation"])


def _check_accepted(accepted: Accepted, value: dict[str, Any]) -> None:
    assert accepted == Accepted(resource_id=value["resourceId"], location=value["resourceLocation"])


MESSAGE_STATS = {
    "total", "recipients", "attempts", "unaddressable", "scheduled", "queued",
    "sent", "delivered", "read", "undelivered", "failed", "canceled",
}  # fmt: skip


def _check_message_operation(op: Operation, value: dict[str, Any]) -> None:
    assert (op.id, op.kind, op.status, op.done) == (value["id"], "message", value["status"], True)
    assert set(op.stats) == MESSAGE_STATS
    assert op.stats == value["stats"]


def test_every_response_example_of_our_endpoints_is_covered(contract):
    ours = {e["operation"] for e in contract.examples_of("response") if e["operation"] != "*"}
    messages_only = {"GET /Messages", "GET /Messages/{messageId}", "POST /Messages"}
    assert ours - messages_only == set(RESPONSE_CASES)


def test_response_examples_parse_through_the_client(contract):
    checked = []
    for example in contract.examples_of("response"):
        if example["operation"] not in RESPONSE_CASES:
            continue
        call, check = RESPONSE_CASES[example["operation"]]
        answer = (int(example["status"]), example["value"])
        server = ContractServer(contract, {example["operation"]: answer})
        result = call(_client(server))
        check(result, example["value"])
        assert [key for key, _ in server.seen] == [example["operation"]], example["file"]
        checked.append(example["file"])
    # 33 response examples, less 5 shared errors and 5 for Messages endpoints we do not call.
    assert len(checked) == 23


def test_send_messages_accepted_example_reads_as_a_message_operation(contract):
    (example,) = contract.examples_of("response", "POST /Messages")
    op = Operation.from_accepted(example["value"], "message")
    assert op.id == example["value"]["operationId"]
    assert op.location.endswith(f"/Messages/Operations/{op.id}")
    assert op.status is None


@pytest.mark.parametrize(
    ("status", "cls"), [(400, APIError), (404, NotFoundError), (429, RateLimitError)]
)
def test_error_examples_become_typed_errors(contract, status, cls):
    (example,) = [e for e in contract.examples_of("response") if e["status"] == status]
    server = ContractServer(contract, {"GET /Senders/{senderId}": (status, example["value"])})
    with pytest.raises(cls) as caught:
        _client(server, retry=RetryPolicy(max_retries=0)).senders.get(SENDER_ID)
    expected = example["value"]["errors"][0]
    err = caught.value
    assert (err.status, err.code, err.message) == (status, expected["code"], expected["message"])
    assert err.info_url == expected["infoUrl"]


def test_every_shared_error_example_maps_to_its_status_class(contract):
    shared = [e for e in contract.examples if e["operation"] == "*"]
    assert {e["status"] for e in shared} == {400, 404, 429, 500, 503}
    for example in shared:
        err = error_from_response(httpx.Response(example["status"], json=example["value"]))
        assert err.status == example["status"], example["file"]
        assert err.code == example["value"]["errors"][0]["code"]
        assert str(err).startswith(f"{example['status']} "), str(err)


# -- request examples: the client sends exactly the spec's bodies -------------------------

ACCEPTED_OP = (202, {"operationId": OP_ID, "operationLocation": "https://x.test/op"})
ACCEPTED_RESOURCE = (202, {"resourceId": POOL_ID, "resourceLocation": "https://x.test/pool"})
EMPTY_PAGE = (200, {"senders": [], "pagination": {"next": None, "self": "s"}})

# operation -> (call reproducing the example through the public API, canned answer)
REQUEST_CASES = {
    "POST /SenderPools": (
        lambda c, v: c.sender_pools.create(
            name=v.get("name"),
            sender_ids=[s["senderId"] for s in v.get("senders", [])],
            tags=v.get("tags"),
        ),
        ACCEPTED_OP,
    ),
    "POST /SenderPools/{senderPoolId}/Senders": (
        lambda c, v: c.sender_pools.members.add(POOL_ID, [s["senderId"] for s in v]),
        ACCEPTED_OP,
    ),
    "PATCH /SenderPools/{senderPoolId}": (
        lambda c, v: c.sender_pools.update(POOL_ID, name=v.get("name"), tags=v.get("tags")),
        ACCEPTED_RESOURCE,
    ),
    "POST /Senders/Search": (
        lambda c, v: list(c.senders.search(v["address"], v["channel"], v.get("status"))),
        EMPTY_PAGE,
    ),
    "POST /Senders/Resolve": (
        lambda c, v: c.senders.resolve(
            [(r["address"], r["channel"]) for r in v["recipientAddresses"]],
            sender_pool_id=v.get("senderPoolId"),
        ),
        (200, {"results": []}),
    ),
}


def test_request_examples_are_what_the_client_sends(contract):
    checked = []
    for example in contract.examples_of("request"):
        if example["operation"] not in REQUEST_CASES:
            continue
        call, answer = REQUEST_CASES[example["operation"]]
        server = ContractServer(contract, {example["operation"]: answer})
        call(_client(server), example["value"])
        ((_, request),) = server.seen
        body = json.loads(request.content)
        if example["operation"] == "POST /Senders/Search":
            body.pop("pageSize")
        assert body == example["value"], example["file"]
        checked.append(example["file"])
    assert len(checked) == 8


def test_every_request_the_client_can_make_fits_the_spec(contract):
    """Each method with every optional argument; the server validates what it receives."""
    pool_page = (200, {"senderPools": [], "pagination": {"next": None, "self": "s"}})
    ops_page = (200, {"operations": [], "pagination": {"next": None, "self": "s"}})
    when = "2024-04-05T06:20:00Z"
    operation = {
        "id": OP_ID,
        "status": "COMPLETED",
        "stats": {},
        "createdAt": when,
        "updatedAt": when,
    }
    answers = {
        "GET /Senders": EMPTY_PAGE,
        "POST /Senders/Search": EMPTY_PAGE,
        "POST /Senders/Resolve": (200, {"results": []}),
        "POST /SenderPools": ACCEPTED_OP,
        "GET /SenderPools": pool_page,
        "PATCH /SenderPools/{senderPoolId}": ACCEPTED_RESOURCE,
        "DELETE /SenderPools/{senderPoolId}": ACCEPTED_RESOURCE,
        "GET /SenderPools/Operations": ops_page,
        "GET /SenderPools/Operations/{operationId}": (200, operation),
        "GET /SenderPools/{senderPoolId}/Senders": EMPTY_PAGE,
        "POST /SenderPools/{senderPoolId}/Senders": ACCEPTED_OP,
        "DELETE /SenderPools/{senderPoolId}/Senders/{senderId}": ACCEPTED_RESOURCE,
        "GET /Messages/Operations/{operationId}": (200, operation),
    }
    server = ContractServer(contract, answers)
    client = _client(server)
    window = {"start_date": "2024-01-01T00:00:00+02:00", "end_date": datetime.now(timezone.utc)}
    list(client.senders.list(channel="rcs", status="ACTIVATED", page_size=7, **window))
    list(client.senders.search("+14153902337", "SMS", status="DEACTIVATED", page_size=1))
    client.senders.resolve(
        [("+14153902337", "PHONE"), ("a@example.com", "EMAIL"), ("dev", "PUSH")],
        sender_pool_id=POOL_ID,
        channels=["RCS", "SMS"],
        priority={"RCS": 0, "SMS": 1},
    )
    client.sender_pools.create(name="n", sender_ids=[SENDER_ID, OTHER_SENDER], tags={"a": "b"})
    client.sender_pools.create()
    list(client.sender_pools.list(operation_id=OP_ID, page_size=1000, **window))
    client.sender_pools.update(POOL_ID, tags={"k.1": "v~2"})
    client.sender_pools.delete(POOL_ID)
    list(client.sender_pools.operations.list(status="PROCESSING", **window))
    client.sender_pools.operations.get(OP_ID)
    list(client.sender_pools.members.list(POOL_ID, channel="SMS", status="ACTIVATED", **window))
    client.sender_pools.members.add(POOL_ID, [SENDER_ID] * 3)
    client.sender_pools.members.remove(POOL_ID, SENDER_ID)
    client.wait(OP_ID, kind="message")
    client.wait(OP_ID)
    assert {key for key, _ in server.seen} == set(answers)
