"""Schema fuzzing: schemathesis drives the sandbox server from the contract's OpenAPI document.

``schemathesis`` reads ``contract/comms/openapi.json`` (the repo's copy of Twilio's contract)
and generates the requests; each test runs once per operation of the contract (the test id
names it) against the sandbox served on 127.0.0.1, with the sandbox's basic-auth credentials:

- ``test_valid_requests_get_answers_the_schema_describes``: positive requests (path, query and
  body per the spec, plus the spec's own request examples; path ids drawn from the seeded
  account three times in four, so they exist) get an answer whose status the spec documents (or
  another 4xx, then with the ``errors[]`` envelope) and whose body, content type and headers fit
  what the spec says for that status (schemathesis' conformance checks).
- ``test_invalid_requests_get_a_400_envelope``: negative requests (schemathesis breaks the body,
  the query or the path ids) get a 400 (a 404 for an id that names nothing, a 413 past the body
  cap) with the ``errors[]`` envelope, and change nothing in the account (counted before and
  after: schemathesis has no check for that).
- ``test_five_hundreds_come_only_from_fault_rules``: nothing above may answer 5xx; with a 50%
  500-rule on every route, every 5xx is that rule's.

Spec quirks (contract/comms/README.md) handled here: the undefined path the spec's Location
points at (quirk 6) is fuzzed as the one the sandbox serves it as (``SAME_AS``), and the
overlapping ``oneOf`` of ``ResolveSendersRequest`` (quirk 1) is read as ``anyOf``. (The first
run found the sandbox reading a top-level ``null`` in a body as the field left out; it is a 400
now, and these tests fail if it comes back.)

Bounded: ``COMMSTOOLKIT_FUZZ_EXAMPLES`` generated examples per operation and kind (default 12),
derandomized so CI runs the same examples every time, no shrinking, no example database;
``COMMSTOOLKIT_FUZZ_SECONDS`` caps each test's sending time (default 30 s; examples past it are
generated but not sent, with a warning) and a request times out after 10 s.

The tests are ``pytest.mark.parametrize`` over the operations with schemathesis' strategies
(``operation.as_strategy``) under plain ``hypothesis.given``, not ``@schema.parametrize()``:
under pytest 9.2 the items that ``@schema.parametrize()`` (schemathesis 4.32.5) makes all get
the bare function's node id, so the operations would not show (or be selectable) one by one.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
import requests  # noqa: E402
from hypothesis import HealthCheck, Phase, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from jsonschema import Draft202012Validator, FormatChecker  # noqa: E402
from schemathesis import APIOperation, Case, GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
)

from commstoolkit.sandbox import Sandbox  # noqa: E402
from commstoolkit.sandbox.server import RunningServer  # noqa: E402

OPENAPI = Path(__file__).resolve().parents[2] / "contract" / "comms" / "openapi.json"
EXAMPLES = int(os.environ.get("COMMSTOOLKIT_FUZZ_EXAMPLES", "12"))
SECONDS = float(os.environ.get("COMMSTOOLKIT_FUZZ_SECONDS", "30"))
TIMEOUT = 10.0
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    # No shrinking: a failing example is reported as generated, so a failure stays fast.
    phases=[Phase.explicit, Phase.generate],
)
# The spec's 202 example for POST /SenderPools/{id}/Senders points its operationLocation at this
# path without defining it (contract/comms/README.md, quirk 6); the sandbox serves it as the other
# one, so it is fuzzed as a copy of that one with the pool id added.
SAME_AS = {
    "/SenderPools/{senderPoolId}/Senders/Operations/{operationId}": (
        "/SenderPools/Operations/{operationId}"
    )
}
# Path parameter -> the kind of seeded id that exists (see ``wire``).
SEEDED = {
    "senderId": "senders",
    "senderPoolId": "pools",
    "operationId": "operations",
    "messageId": "messages",
    "identifier": "messages",
}
# Deleting the seeded pools would leave the operations after it only unknown pool ids: DELETE
# gets pools of its own, made for it.
SEEDED_FOR = {("DELETE /SenderPools/{senderPoolId}", "senderPoolId"): "doomed"}
# Operations where schemathesis finds nothing to break (the identifier is any string).
NOT_NEGATABLE = {"GET /Messages/Seek/{identifier}"}
# How the sandbox may refuse invalid data: 400, 404 (an id that names nothing) or 413 (a body past
# its 6 MiB cap: schemathesis breaks a maxItems of 10,000 with 10,001 items).
REJECTED = (400, 404, 413)
# What a request could change in the account; an invalid one must change none of it.
COUNTS = ("pools", "memberships", "operations", "messageOperations", "messages")
# Seeded ids by kind, set by ``wire`` while the module runs (``_seeded_path`` draws from them).
IDS: dict[str, list[str]] = {}

POSITIVE_CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
NEGATIVE_CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    content_type_conformance,
    response_schema_conformance,
]


def _document() -> dict[str, Any]:
    """openapi.json with the ``SAME_AS`` paths added and ``ResolveSendersRequest`` an anyOf."""
    doc = json.loads(OPENAPI.read_text(encoding="utf-8"))
    # Its oneOf overlaps (quirk 1): every body naming senderAddresses matches both branches, so
    # strictly it is invalid; the README says to read the union as anyOf, and the sandbox does.
    resolve = doc["components"]["schemas"]["ResolveSendersRequest"]
    resolve["anyOf"] = resolve.pop("oneOf")
    for extra, same in SAME_AS.items():
        item = copy.deepcopy(doc["paths"][same])
        item["get"]["operationId"] += "InSenderPool"
        pool = {"$ref": "#/components/schemas/SenderPoolId"}
        item["get"]["parameters"].insert(
            0, {"name": "senderPoolId", "in": "path", "required": True, "schema": pool}
        )
        doc["paths"][extra] = item
    return doc


def _seeded_path(context: schemathesis.HookContext, case: Case) -> st.SearchStrategy[Case]:
    """Path ids: three times in four a seeded one (so it exists), else the generated one.

    Only where the path was generated valid: a negative case keeps its broken path.
    """
    names = [name for name in case.path_parameters if name in SEEDED]
    if not IDS or not names or "path" in _negated(case):
        return st.just(case)
    label = case.operation.label
    choices = {}
    for name in names:
        seeded = st.sampled_from(IDS[SEEDED_FOR.get((label, name), SEEDED[name])])
        choices[name] = st.one_of(seeded, seeded, seeded, st.just(case.path_parameters[name]))

    def use(path: dict[str, str]) -> Case:
        case.path_parameters = {**case.path_parameters, **path}
        return case

    return st.fixed_dictionaries(choices).map(use)


def _load() -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "generation": {
                # Auth is the sandbox's basic credentials (``wire``), never a generated header.
                "with-security-parameters": False,
                # The server ignores unknown query parameters (as Twilio does): not negative.
                "allow-extra-parameters": False,
            },
            "checks": {
                "negative_data_rejection": {"expected-statuses": [str(s) for s in REJECTED]},
            },
        }
    )
    schema = schemathesis.openapi.from_dict(DOC, config=config)
    schema.hook("flatmap_case")(_seeded_path)
    return schema


DOC = _document()
SCHEMA = _load()
OPERATIONS: dict[str, APIOperation] = {
    result.ok().label: result.ok() for result in SCHEMA.get_all_operations()
}
# An answer whose status the operation does not document must still be the error envelope.
ERRORS = Draft202012Validator(
    {"$ref": "#/components/schemas/TwilioErrors", "components": DOC["components"]},
    format_checker=FormatChecker(),
)


def _body_validator(label: str) -> Draft202012Validator | None:
    method, path = label.split(" ", 1)
    body = DOC["paths"][path][method.lower()].get("requestBody")
    if body is None:
        return None
    schema = body["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": DOC["components"]})


BODIES = {label: _body_validator(label) for label in OPERATIONS}


def _negated(case: Case) -> set[str]:
    """Where schemathesis broke the case: "body", "query", "path"."""
    components = case.meta.components.items() if case.meta else ()
    return {str(where.value) for where, info in components if info.mode.is_negative}


@dataclass
class Budget:
    """One test's sending time, and what it sent and left unsent."""

    until: float
    sent: int = 0
    unsent: int = 0

    def take(self) -> bool:
        """Whether the next example may be sent (counts it either way)."""
        if time.monotonic() < self.until:
            self.sent += 1
            return True
        self.unsent += 1
        return False


@pytest.fixture(scope="module")
def wire(served: tuple[Sandbox, RunningServer]) -> Iterator[tuple[Sandbox, requests.Session, str]]:
    """(sandbox, session with its credentials, base URL); fills ``IDS`` for the module."""
    box, server = served
    base = server.base_url
    with requests.Session() as session:
        session.auth = box.credentials()

        def call(method: str, path: str, **kwargs: Any) -> Any:
            answer = session.request(method, base + path, timeout=TIMEOUT, **kwargs)
            answer.raise_for_status()
            return answer.json()

        pools = [p["id"] for p in call("GET", "/SenderPools")["senderPools"]]
        senders = [s["id"] for s in call("GET", "/Senders")["senders"]]
        added = call("POST", f"/SenderPools/{pools[0]}/Senders", json=[{"senderId": senders[0]}])
        sent = call(
            "POST",
            "/Messages",
            json={
                "to": [{"address": "+15005550006", "channel": "PHONE"}],
                "content": {"text": "seed"},
                "from": {"senderPoolId": pools[0]},
            },
        )
        messages = call("GET", "/Messages", params={"operationId": sent["operationId"]})
        history = call("GET", "/Messages", params={"pageSize": 3})["messages"]  # the seed's
        doomed = []
        for n in range(3):
            made = call("POST", "/SenderPools", json={"name": f"doomed {n}"})
            listed = call("GET", "/SenderPools", params={"operationId": made["operationId"]})
            doomed += [p["id"] for p in listed["senderPools"]]
        IDS.update(
            pools=pools,
            senders=senders[:20],
            operations=[added["operationId"], sent["operationId"]],
            messages=[m["id"] for m in messages["messages"] + history],
            doomed=doomed,
        )
        assert all(IDS.values()), IDS
        try:
            yield box, session, base
        finally:
            IDS.clear()


@pytest.fixture
def budget(wire) -> Iterator[Budget]:
    """The test's time budget; at the end, at least one example must have been answered."""
    wire[0].faults.clear()
    spend = Budget(time.monotonic() + SECONDS)
    yield spend
    assert spend.sent, "no example was sent"
    if spend.unsent:
        warnings.warn(
            f"time budget ({SECONDS:g} s) spent: {spend.unsent} examples not sent", stacklevel=1
        )


def _call(case: Case, session: requests.Session, base: str) -> schemathesis.Response:
    return case.call(base_url=base, session=session, timeout=TIMEOUT)


def _check_envelope(case: Case, answer: schemathesis.Response) -> None:
    """An undocumented status is a 4xx and its body the ``errors[]`` envelope (a documented
    one is checked against its own schema by ``response_schema_conformance``)."""
    if case.operation.responses.find_by_status_code(answer.status_code) is not None:
        return
    label = case.operation.label
    assert 400 <= answer.status_code < 500, f"{label}: undocumented {answer.status_code}"
    errors = [e.message for e in ERRORS.iter_errors(answer.json())]
    assert not errors, f"{label} {answer.status_code}: {errors[:3]}\n{case.as_curl_command()}"


def _path_of(operation: APIOperation) -> dict[str, str]:
    """The first seeded id for each path parameter of ``operation``."""
    names = re.findall(r"\{(\w+)\}", operation.path)
    return {name: IDS[SEEDED_FOR.get((operation.label, name), SEEDED[name])][0] for name in names}


def _spec_examples(operation: APIOperation) -> list[Case]:
    """The spec's request examples for ``operation``, on seeded path ids."""
    method = DOC["paths"][operation.path][operation.method.lower()]
    content = (method.get("requestBody") or {}).get("content", {}).get("application/json", {})
    return [
        operation.Case(path_parameters=_path_of(operation), body=copy.deepcopy(item["value"]))
        for item in content.get("examples", {}).values()
    ]


@pytest.mark.parametrize("label", list(OPERATIONS))
def test_valid_requests_get_answers_the_schema_describes(label: str, wire, budget: Budget):
    _, session, base = wire
    operation = OPERATIONS[label]

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def check(case: Case) -> None:
        if not budget.take():
            return
        answer = _call(case, session, base)
        case.validate_response(answer, checks=POSITIVE_CHECKS)
        _check_envelope(case, answer)

    for case in _spec_examples(operation):
        check = example(case=case)(check)
    check()


@pytest.mark.parametrize("label", [label for label in OPERATIONS if label not in NOT_NEGATABLE])
def test_invalid_requests_get_a_400_envelope(label: str, wire, budget: Budget):
    box, session, base = wire
    operation = OPERATIONS[label]

    def counts() -> dict[str, object]:
        """What the account holds (schemathesis checks answers, never the server's state)."""
        state = box.state()
        return {key: state[key] for key in COUNTS}

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def check(case: Case) -> None:
        if not budget.take():
            return
        before = counts()
        answer = _call(case, session, base)
        case.validate_response(answer, checks=NEGATIVE_CHECKS)
        assert answer.status_code in REJECTED, (
            f"{label} answered {answer.status_code} to invalid data\n{case.as_curl_command()}"
        )
        assert answer.json()["errors"], answer.text
        _check_envelope(case, answer)
        assert counts() == before, f"{label}: invalid data changed the account"

    check()


def test_five_hundreds_come_only_from_fault_rules(wire):
    """With a 50% 500-rule on every route, every 5xx is that rule's 500 (code 20500)."""
    box, session, base = wire
    reads = [operation for operation in OPERATIONS.values() if operation.method.upper() == "GET"]
    box.faults.clear()
    box.faults.add("*", status=500, probability=0.5)
    statuses = []
    try:
        for operation in reads:
            case = operation.Case(path_parameters=_path_of(operation))
            for _ in range(4):
                answer = _call(case, session, base)
                statuses.append(answer.status_code)
                # not_a_server_error left out: this rule's 500s are the point.
                case.validate_response(answer, checks=POSITIVE_CHECKS[1:])
                if answer.status_code >= 500:
                    assert answer.status_code == 500
                    assert answer.json()["errors"][0]["code"] == 20500
                else:
                    _check_envelope(case, answer)
    finally:
        box.faults.clear()
    assert 500 in statuses and 200 in statuses
