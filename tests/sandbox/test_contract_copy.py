"""The sandbox validates requests against the official schemas it ships (package data): the copy
is the repo's contract byte for byte, a spec revision is a data refresh, and what the schema
refuses beyond the sandbox's own rules (a null inside a body, a fourth RCS module) is a 400
naming the place, nothing stored."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from commstoolkit.sandbox import Sandbox, contract
from commstoolkit.sandbox.exceptions import ApiError
from commstoolkit.sandbox.front import schema

from .conftest import error_of
from .messaging import ALWAYS_RCS, phones

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_COPY = ROOT / "commstoolkit" / "sandbox" / "contract"
ONE = phones(ALWAYS_RCS)
EXAMPLES = sorted((ROOT / "contract" / "comms" / "examples").glob("*__request__*.json"))


@pytest.mark.parametrize(
    ("shipped", "source"),
    [
        ("schemas.json", "contract/comms/schemas.json"),
        ("events_openapi.json", "contract/events/openapi.json"),
        ("NOTICE", "contract/NOTICE"),
    ],
)
def test_the_package_copy_is_the_repos_contract_byte_for_byte(shipped: str, source: str):
    kind = source.split("/")[1] if source.count("/") > 1 else "comms"
    assert (PACKAGE_COPY / shipped).read_bytes() == (ROOT / source).read_bytes(), (
        f"run scripts/refresh-contract {kind} (or copy {source} to {PACKAGE_COPY / shipped})"
    )


def test_the_events_contract_loads_as_package_data_and_names_its_source():
    document = contract.events_openapi()
    assert document["info"]["x-source"]["commit"] == "d50069b44ea8cd23141385bdb6db48f16ff75bb5"
    assert {"/v1/Sinks", "/v1/Subscriptions", "/v1/Types"} <= set(document["paths"])
    notice = (PACKAGE_COPY / "NOTICE").read_text(encoding="utf-8")
    assert "contract/events/" in notice and "d50069b44ea8cd23141385bdb6db48f16ff75bb5" in notice


def test_the_schemas_load_as_package_data():
    document = contract.schemas()
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert contract.request_body("POST /Messages") == {"$ref": "#/$defs/SendMessagesRequest"}
    assert contract.request_body("GET /Senders") is None


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name.split("__")[-1][:-5] for p in EXAMPLES])
def test_every_request_example_of_the_spec_passes_the_check(path: Path):
    example = json.loads(path.read_text(encoding="utf-8"))
    assert contract.request_body(example["operation"]) == {"$ref": example["schema_ref"]}
    schema.check(example["operation"], example["value"])


BEYOND_THE_OLD_CHECKS: list[tuple[str, dict[str, Any], str]] = [
    ("null variables", {"to": [{**ONE[0], "variables": None}], "content": {"text": "x"}},
     "$.to[0].variables"),
    ("null media", {"to": ONE, "content": {"text": "x", "media": None}}, "$.content.media"),
    ("null channels", {"to": ONE, "content": {"text": "x"},
                       "from": {"senderPoolId": "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8",
                                "channels": None}}, "$.from.channels"),
    ("four modules", {"to": ONE, "content": {"modules": [{"sms": {"text": "y"}}] * 4}},
     "$.content.modules"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "body", "context"), BEYOND_THE_OLD_CHECKS, ids=[b[0] for b in BEYOND_THE_OLD_CHECKS]
)
def test_what_the_schema_refuses_is_a_400_naming_the_place(
    api: httpx.Client, sandbox: Sandbox, case: str, body: dict, context: str
):
    answer = api.post("/Messages", json=body)
    assert answer.status_code == 400, answer.text
    assert (error_of(answer)["code"], error_of(answer)["context"]) == (20400, context)
    assert sandbox.state()["messages"] == 0


def test_three_modules_are_accepted(api: httpx.Client):
    modules = [{"rcs": {"text": "x"}}, {"sms": {"text": "y"}}, {"sms": {"text": "z"}}]
    answer = api.post("/Messages", json={"to": ONE, "content": {"modules": modules}})
    assert answer.status_code == 202, answer.text


def test_a_null_inside_a_resolve_body_is_refused(api: httpx.Client):
    body = {"recipientAddresses": ONE, "channels": {"filterIn": None}}
    answer = api.post("/Senders/Resolve", json=body)
    assert (answer.status_code, error_of(answer)["context"]) == (400, "$.channels.filterIn")
    assert "null" in error_of(answer)["message"]
    body["channels"] = {"filterIn": ["SMS"]}
    assert api.post("/Senders/Resolve", json=body).status_code == 200


def test_the_error_names_the_branch_the_body_meant():
    def context(value: object) -> str:
        with pytest.raises(ApiError) as caught:
            schema.check_value("SendMessagesRequest/properties/content", value, "$.content")
        return str(caught.value.items[0].context)

    rcs = {"modules": [{"rcs": {"richCard": {"standaloneCard": {"cardContent": {}}}}}]}
    assert context(rcs).startswith("$.content.modules[0].rcs.richCard.standaloneCard")
    assert context({"text": "x", "body": "y"}) == "$.content.body"
    assert context({"contentId": "HX1"}) == "$.content.contentId"
    assert context([]) == "$.content"


@pytest.fixture
def revised(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A spec revision as data: a copy of the schemas the test may change."""
    document = copy.deepcopy(contract.schemas())
    monkeypatch.setattr(contract, "schemas", lambda: document)
    schema._schema.cache_clear()
    yield document
    schema._schema.cache_clear()


def test_a_spec_revision_is_a_data_refresh(revised: dict[str, Any], api: httpx.Client):
    revised["$defs"]["MessageContentChannelModules"]["properties"]["modules"]["maxItems"] = 1
    two = {"to": ONE, "content": {"modules": [{"sms": {"text": "y"}}] * 2}}
    answer = api.post("/Messages", json=two)
    assert (answer.status_code, error_of(answer)["context"]) == (400, "$.content.modules")
    revised["$defs"]["Tags"]["maxProperties"] = 1
    schema._schema.cache_clear()
    answer = api.post("/SenderPools", json={"name": "x", "tags": {"a": "b", "c": "d"}})
    assert (answer.status_code, error_of(answer)["context"]) == (400, "$.tags")
