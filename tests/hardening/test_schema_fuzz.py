"""Schema fuzzing: requests generated from the official schemas drive the sandbox server.

``hypothesis-jsonschema`` turns ``comms-contract/schemas.json`` into strategies. Valid requests
(path, query and body per the spec; path ids drawn from the seeded account most of the time so
they exist) must get an answer whose status the spec documents (or another 4xx) and whose body
validates against that status's schema; invalid bodies (a valid body with a required field
dropped, a field replaced by junk, or an unknown field where the schema forbids one) must get a
400 with the ``errors[]`` envelope. Nothing ever answers 5xx unless a fault rule asks for it.

Bounded: ``COMMSTOOLKIT_FUZZ_EXAMPLES`` examples per route and kind (default 12), derandomized
so CI runs the same examples every time, no shrinking; request arrays hold at most 5 items,
and ``POST /Messages`` is fuzzed with text content and address recipients only (the full
``oneOf`` of content modules is too slow to generate).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

hypothesis = pytest.importorskip("hypothesis")
hjs = pytest.importorskip("hypothesis_jsonschema")
from hypothesis import HealthCheck, Phase, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from jsonschema import Draft202012Validator, FormatChecker  # noqa: E402

from commstoolkit.sandbox import Sandbox  # noqa: E402
from commstoolkit.sandbox.server import RunningServer  # noqa: E402

EXAMPLES = int(os.environ.get("COMMSTOOLKIT_FUZZ_EXAMPLES", "12"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    # No shrinking: a failing example is reported as generated, so a failure stays fast.
    phases=[Phase.explicit, Phase.generate],
)
# The spec's example points at this path without defining it; it answers as the other one.
SAME_AS = {
    "GET /SenderPools/{senderPoolId}/Senders/Operations/{operationId}": (
        "GET /SenderPools/Operations/{operationId}"
    )
}
# Path parameter -> the kind of seeded id that exists.
SEEDED = {
    "senderId": "senders",
    "senderPoolId": "pools",
    "operationId": "operations",
    "messageId": "messages",
}


class Spec:
    """The schemas document: strategies, validators and the documented answers."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.operations = dict(doc["operations"])
        self._validators: dict[str, Draft202012Validator] = {}

    def schema(self, ref_or_schema: dict[str, Any] | str) -> dict[str, Any]:
        inner = {"$ref": ref_or_schema} if isinstance(ref_or_schema, str) else ref_or_schema
        return {"$defs": self.doc["$defs"], **inner}

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            self._validators[key] = Draft202012Validator(
                self.schema(schema), format_checker=FormatChecker()
            )
        return self._validators[key]

    def body_schema(self, key: str) -> dict[str, Any] | None:
        """The request body's schema, with long arrays capped at 5 items (10,000-item lists
        are slow to generate, not to serve); ``POST /Messages`` narrowed to text content and
        address recipients."""
        body = self.operations[key].get("requestBody")
        if body is None:
            return None
        schema = copy.deepcopy(self.doc["$defs"][body["$ref"].rsplit("/", 1)[1]])
        if key == "POST /Messages":
            schema["properties"]["content"] = {"$ref": "#/$defs/MessageContentTextWithMedia"}
            to = schema["properties"]["to"]
            to["items"] = to["items"]["oneOf"][0]
        return _capped(schema)

    def check_answer(self, key: str, answer: httpx.Response) -> None:
        """The answer's status is documented (or a 4xx) and its body fits that status's schema."""
        assert answer.status_code < 500, f"{key} answered {answer.status_code}: {answer.text[:300]}"
        responses = self.operations[SAME_AS.get(key, key)]["responses"]
        ref = responses.get(str(answer.status_code), {}).get("$ref")
        if ref is None:
            assert 400 <= answer.status_code < 500, f"{key}: undocumented {answer.status_code}"
            ref = "#/$defs/TwilioErrors"
        errors = list(self.validator({"$ref": ref}).iter_errors(answer.json()))
        assert not errors, f"{key} {answer.status_code}: {[e.message for e in errors][:3]}"


def _capped(schema: Any, most: int = 5) -> Any:
    if isinstance(schema, dict):
        capped = {key: _capped(value, most) for key, value in schema.items()}
        if isinstance(capped.get("maxItems"), int) and capped["maxItems"] > most:
            capped["maxItems"] = max(most, capped.get("minItems", 0))
        return capped
    if isinstance(schema, list):
        return [_capped(item, most) for item in schema]
    return schema


@pytest.fixture(scope="module")
def spec(contract_dir) -> Spec:
    doc = json.loads((contract_dir / "schemas.json").read_text(encoding="utf-8"))
    for extra, same in SAME_AS.items():
        doc["operations"].setdefault(extra, doc["operations"][same])
    return Spec(doc)


@pytest.fixture(scope="module")
def wire(served: tuple[Sandbox, RunningServer]) -> Iterator[tuple[Sandbox, httpx.Client, dict]]:
    """(sandbox, raw client on its server, seeded ids by kind)."""
    box, server = served
    with httpx.Client(base_url=server.base_url, auth=box.credentials(), timeout=30) as client:
        pools = [p["id"] for p in client.get("/SenderPools").json()["senderPools"]]
        senders = [s["id"] for s in client.get("/Senders").json()["senders"]]
        added = client.post(f"/SenderPools/{pools[0]}/Senders", json=[{"senderId": senders[0]}])
        sent = client.post(
            "/Messages",
            json={
                "to": [{"address": "+15005550006", "channel": "PHONE"}],
                "content": {"text": "seed"},
                "from": {"senderPoolId": pools[0]},
            },
        )
        messages = client.get("/Messages", params={"operationId": sent.json()["operationId"]})
        ids = {
            "pools": pools,
            "senders": senders[:20],
            "operations": [added.json()["operationId"], sent.json()["operationId"]],
            "messages": [m["id"] for m in messages.json()["messages"]],
        }
        yield box, client, ids


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value).encode("utf-8")
        str(value).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _path_strategy(spec: Spec, key: str, ids: dict[str, list[str]]) -> st.SearchStrategy:
    params = spec.operations[key].get("path", {})
    strategies = {}
    for name, schema in params.items():
        generated = hjs.from_schema(spec.schema(schema)).filter(
            lambda v: _encodable(v) and "/" not in v and v not in (".", "..")
        )
        seeded = st.sampled_from(ids[SEEDED[name]])
        strategies[name] = st.one_of(seeded, seeded, seeded, generated)
    return st.fixed_dictionaries(strategies)


def _query_strategy(spec: Spec, key: str) -> st.SearchStrategy:
    query = spec.operations[key].get("query", {})
    optional = {
        name: hjs.from_schema(spec.schema(schema)).filter(_encodable)
        for name, schema in query.items()
    }
    return st.fixed_dictionaries({}, optional=optional)


BODY_KEYS = [
    "POST /Senders/Search",
    "POST /Senders/Resolve",
    "POST /SenderPools",
    "PATCH /SenderPools/{senderPoolId}",
    "POST /SenderPools/{senderPoolId}/Senders",
    "POST /Messages",
]
READ_KEYS = [
    "GET /Senders",
    "GET /Senders/{senderId}",
    "GET /SenderPools",
    "GET /SenderPools/{senderPoolId}",
    "GET /SenderPools/Operations",
    "GET /SenderPools/Operations/{operationId}",
    "GET /SenderPools/{senderPoolId}/Senders",
    "GET /Messages",
    "GET /Messages/{messageId}",
    "GET /Messages/Operations",
    "GET /Messages/Operations/{operationId}",
]
OPERATION_KEYS = BODY_KEYS + READ_KEYS


def _send(client: httpx.Client, key: str, path: dict, query: dict, body: Any) -> httpx.Response:
    method, template = key.split(" ", 1)
    url = template.format(**{name: quote(value, safe="") for name, value in path.items()})
    params = {k: str(v) if not isinstance(v, str) else v for k, v in query.items()}
    if body is None:
        return client.request(method, url, params=params)
    return client.request(method, url, params=params, content=json.dumps(body).encode())


@pytest.mark.parametrize("key", OPERATION_KEYS)
def test_valid_requests_get_answers_the_schemas_describe(spec: Spec, wire, key: str):
    box, client, ids = wire
    box.faults.clear()
    body_schema = spec.body_schema(key)
    body = hjs.from_schema(spec.schema(body_schema)) if body_schema else st.none()
    seen: list[int] = []

    @FUZZ
    @given(path=_path_strategy(spec, key, ids), query=_query_strategy(spec, key), body=body)
    def check(path: dict, query: dict, body: Any) -> None:
        assume(_encodable(body))
        answer = _send(client, key, path, query, body)
        try:
            spec.check_answer(key, answer)
        except AssertionError as exc:
            sent = json.dumps({"path": path, "query": query, "body": body})[:500]
            raise AssertionError(f"{exc}\nrequest: {sent}") from None
        seen.append(answer.status_code)

    check()
    assert seen


def _junk() -> st.SearchStrategy:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    )


@st.composite
def _invalid_body(draw: st.DrawFn, spec: Spec, schema: dict[str, Any]) -> Any:
    body = draw(hjs.from_schema(spec.schema(schema)))
    how = draw(st.sampled_from(["drop", "junk", "extra", "replace"]))
    if how == "replace" or not isinstance(body, dict) or not body:
        return draw(_junk())
    key = draw(st.sampled_from(sorted(body)))
    if how == "drop":
        del body[key]
    elif how == "junk":
        body[key] = draw(_junk())
    else:
        body["x-" + draw(st.text(min_size=1, max_size=6))] = draw(_junk())
    return body


@pytest.mark.parametrize("key", BODY_KEYS)
def test_invalid_bodies_get_a_400_envelope(spec: Spec, wire, key: str):
    box, client, ids = wire
    box.faults.clear()
    schema = spec.body_schema(key)
    assert schema is not None
    validator = spec.validator(schema)
    seen: list[int] = []

    @FUZZ
    @given(path=_path_strategy(spec, key, ids), body=_invalid_body(spec, schema))
    def check(path: dict, body: Any) -> None:
        assume(_encodable(body) and not validator.is_valid(body))
        before = box.state()["operations"], box.state()["messages"]
        answer = _send(client, key, path, {}, body)
        assert answer.status_code in (400, 404), f"{answer.status_code}: {json.dumps(body)[:300]}"
        spec.check_answer(key, answer)
        assert (box.state()["operations"], box.state()["messages"]) == before
        seen.append(answer.status_code)

    check()
    assert seen


def test_five_hundreds_come_only_from_fault_rules(spec: Spec, wire):
    """With a 50% 500-rule on every route, every 5xx is that rule's 500 (code 20500)."""
    box, client, ids = wire
    box.faults.clear()
    box.faults.add("*", status=500, probability=0.5)
    statuses = []
    try:
        for key in READ_KEYS:
            path = {name: ids[SEEDED[name]][0] for name in spec.operations[key].get("path", {})}
            for _ in range(4):
                answer = _send(client, key, path, {}, None)
                statuses.append(answer.status_code)
                if answer.status_code >= 500:
                    assert answer.status_code == 500
                    assert answer.json()["errors"][0]["code"] == 20500
                else:
                    spec.check_answer(key, answer)
    finally:
        box.faults.clear()
    assert 500 in statuses and 200 in statuses
