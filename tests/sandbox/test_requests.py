"""What any request meets first: auth, versions, routing, body parsing, input checks."""

from __future__ import annotations

import httpx
import pytest

from commstoolkit.sandbox import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Sandbox

from .conftest import Contract, error_of, make_client

POOL = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"
SENDER = "comms_sender_01h9krwprkeee8fzqspvwy6nq8"
OPERATION = "comms_operation_01h9krwprkeee8fzqspvwy6nq8"
AUTH_401 = {
    "errors": [
        {
            "code": 20003,
            "message": "Authentication failed",
            "infoUrl": "https://www.twilio.com/docs/errors/20003",
            "context": None,
        }
    ]
}


@pytest.mark.parametrize(
    "auth",
    [
        (DEFAULT_ACCOUNT_SID, "wrong-token"),
        ("AC11111111111111111111111111111111", DEFAULT_AUTH_TOKEN),
        None,
    ],
)
def test_wrong_or_missing_credentials_get_the_401_body(sandbox: Sandbox, contract, auth):
    with make_client(sandbox, contract, auth=auth) as client:
        answer = client.get("/Senders")
    assert answer.status_code == 401
    assert answer.json() == AUTH_401
    assert answer.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!", "Basic " + "x" * 7, ""])
def test_garbled_authorization_headers_get_401(sandbox: Sandbox, header: str):
    with make_client(sandbox, auth=None) as client:
        answer = client.get("/Senders", headers={"Authorization": header})
    assert answer.status_code == 401


def test_custom_credentials_replace_the_default_pair():
    with Sandbox(":memory:", account_sid="ACmine", auth_token="s3cret", speed=0) as box:
        with make_client(box, auth=("ACmine", "s3cret")) as client:
            assert client.get("/Senders").status_code == 200
        with make_client(box, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)) as client:
            assert client.get("/Senders").status_code == 401
        assert "s3cret" not in repr(box)


def test_v1_and_preview_serve_the_same_account(sandbox: Sandbox, contract):
    v1 = make_client(sandbox, contract, base_url="https://comms.example/v1")
    preview = make_client(sandbox, contract, base_url="http://localhost:9/preview")
    assert v1.get("/Senders").json() == preview.get("/Senders").json()
    created = preview.post("/SenderPools", json={"name": "p"}).json()
    assert created["operationLocation"].startswith("http://localhost:9/preview/SenderPools/")
    assert v1.get(f"/SenderPools/Operations/{created['operationId']}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/Nowhere", 404),
        ("GET", "/v2/Senders", 404),
        ("GET", "/Senders", 404),
        ("GET", "/v1/SenderPools/Operations/x/y", 404),
        ("PUT", "/v1/Senders", 405),
        ("DELETE", "/v1/Senders/" + SENDER, 405),
        ("GET", "/v1/Senders/Search", 405),
        ("POST", "/v1/SenderPools/Operations", 405),
    ],
)
def test_unknown_paths_are_404_and_wrong_methods_405(raw_api, contract, method, path, status):
    answer = raw_api.request(method, "https://sandbox.comms.invalid" + path)
    assert answer.status_code == status
    assert error_of(answer)["code"] == 20000 + status
    contract.validate_response("GET", "/Senders", status, answer.json())
    if status == 405:
        assert answer.headers["allow"]


@pytest.mark.parametrize(
    ("method", "path", "context"),
    [
        ("GET", "/Senders/comms_sender_01H9KRWPRKEEE8FZQSPVWY6NQ8", "senderId"),
        ("GET", "/Senders/comms_sender_81h9krwprkeee8fzqspvwy6nq8", "senderId"),
        ("GET", "/Senders/comms_sender_01h9krwprkeee8fzqspvwy6nq", "senderId"),
        ("GET", "/Senders/comms_sender_01h9krwprkeee8fzqspvwy6nqu", "senderId"),
        ("GET", "/Senders/" + POOL, "senderId"),
        ("GET", "/SenderPools/" + SENDER, "senderPoolId"),
        ("PATCH", "/SenderPools/pool-1", "senderPoolId"),
        ("DELETE", "/SenderPools/pool-1", "senderPoolId"),
        ("GET", "/SenderPools/pool-1/Senders", "senderPoolId"),
        ("DELETE", f"/SenderPools/{POOL}/Senders/s1", "senderId"),
        ("GET", "/SenderPools/Operations/op-1", "operationId"),
        ("GET", f"/SenderPools/{POOL}/Senders/Operations/op-1", "operationId"),
    ],
)
def test_malformed_ids_are_400_naming_the_parameter(api: httpx.Client, method, path, context):
    answer = api.request(method, path, json={"name": "x"} if method == "PATCH" else None)
    assert answer.status_code == 400
    assert error_of(answer)["context"] == context


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/SenderPools/{POOL}"),
        ("DELETE", f"/SenderPools/{POOL}"),
        ("GET", f"/SenderPools/{POOL}/Senders"),
        ("DELETE", f"/SenderPools/{POOL}/Senders/{SENDER}"),
        ("GET", f"/SenderPools/Operations/{OPERATION}"),
        ("GET", f"/SenderPools/{POOL}/Senders/Operations/{OPERATION}"),
    ],
)
def test_well_formed_unknown_ids_are_404(api: httpx.Client, method: str, path: str):
    answer = api.request(method, path)
    assert (answer.status_code, error_of(answer)["code"]) == (404, 20404)


@pytest.mark.parametrize(
    ("tags", "context"),
    [
        ({f"k{i}": "v" for i in range(11)}, "$.tags"),
        ({"k" * 129: "v"}, "$.tags." + "k" * 129),
        ({"team": "v" * 257}, "$.tags.team"),
        ({"team": "sales team"}, "$.tags.team"),
        ({"bad key": "v"}, '$.tags["bad key"]'),
        ({"team": 5}, "$.tags.team"),
        ({"team": ""}, "$.tags.team"),
        (["team"], "$.tags"),
    ],
)
def test_tags_over_the_limits_are_400s(api: httpx.Client, tags, context: str):
    for answer in (
        api.post("/SenderPools", json={"name": "t", "tags": tags}),
        api.patch(f"/SenderPools/{_a_pool(api)}", json={"tags": tags}),
    ):
        assert answer.status_code == 400
        assert error_of(answer)["context"] == context


def test_tags_at_the_limits_are_accepted(api: httpx.Client):
    tags = {f"{i}{'k' * 127}": "~._-" + "v" * 252 for i in range(10)}
    assert api.post("/SenderPools", json={"name": "t", "tags": tags}).status_code == 202


def _a_pool(api: httpx.Client) -> str:
    return api.get("/SenderPools").json()["senderPools"][0]["id"]


@pytest.mark.parametrize(
    ("content", "context"),
    [
        (b"", "$"),
        (b"{", "$"),
        (b"name=x", "$"),
        (b"\xff\xfe\x00", "$"),
        (b"[]", "$"),
        (b'"pool"', "$"),
        (b'{"name": 5}', "$.name"),
        (b'{"name": "x", "senders": {}}', "$.senders"),
        (b'{"senders": [{"senderId": 1}]}', "$.senders[0].senderId"),
        (b'{"senders": [{}]}', "$.senders[0].senderId"),
        (b'{"senders": ["comms_sender_01h9krwprkeee8fzqspvwy6nq8"]}', "$.senders[0]"),
    ],
)
def test_bad_create_bodies_are_400s_naming_the_field(api: httpx.Client, content, context):
    answer = api.post("/SenderPools", content=content, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert error_of(answer)["context"] == context


def test_create_with_more_than_10000_senders_is_a_400(api: httpx.Client):
    senders = [{"senderId": SENDER}] * 10_001
    answer = api.post("/SenderPools", json={"name": "big", "senders": senders})
    assert (answer.status_code, error_of(answer)["context"]) == (400, "$.senders")


def test_unknown_body_fields_are_ignored_where_the_schema_allows_them(api: httpx.Client):
    answer = api.post("/SenderPools", json={"name": "x", "description": "not in the spec"})
    assert answer.status_code == 202


def test_a_body_over_6_mib_is_413(api: httpx.Client):
    answer = api.post("/SenderPools", content=b" " * (6 * 1024 * 1024 + 1))
    assert (answer.status_code, error_of(answer)["code"]) == (413, 20413)


def test_nothing_a_client_sends_makes_the_sandbox_answer_5xx(raw_api: httpx.Client, contract):
    """A spray of odd requests: every answer is a 4xx or success with an errors[] body."""
    paths = ["/Senders", "/SenderPools", f"/SenderPools/{POOL}/Senders", "/Senders/Search", ""]
    bodies = [b"null", b"[null]", b"{}", b'{"senders": null}', b"1e999", b"[" * 5000, b"\x00"]
    queries = [{"pageSize": "1" * 40}, {"startDate": "9999-99-99T99:99:99Z"}, {"channel": ""}]
    for path in paths:
        for method in ("GET", "POST", "PATCH", "DELETE"):
            for body in bodies:
                for query in queries:
                    answer = raw_api.request(method, path, content=body, params=query)
                    assert answer.status_code < 500, (method, path, body, query)
                    assert "Traceback" not in answer.text
                    if answer.status_code >= 400:
                        errors = contract.validator("#/$defs/TwilioErrors").iter_errors(
                            answer.json()
                        )
                        assert not list(errors)


def test_the_contract_fixture_rejects_what_the_spec_rejects(contract: Contract):
    """The schema checks used throughout these tests do catch a wrong answer."""
    with pytest.raises(AssertionError):
        contract.validate_response("GET", "/Senders/{senderId}", 200, {"id": SENDER})
    with pytest.raises(AssertionError):
        contract.validate_response("GET", "/Senders", 201, {"senders": []})
