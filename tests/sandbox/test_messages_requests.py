"""``POST /Messages`` refuses what the spec refuses: a 400 ``errors[]`` answer naming the place
(``context``), nothing stored; and accepts the edges the spec allows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from commstoolkit.sandbox import Sandbox

from .conftest import error_of
from .messaging import ALWAYS_RCS, numbers, phones, pool_id

ONE = phones(ALWAYS_RCS)
TEXT = {"text": "Hello"}
MISSING_POOL = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"
MISSING_SENDER = "comms_sender_01h9krwprkeee8fzqspvwy6nq8"
RCS_TEXT_AND_FILE = {"rcs": {"text": "x", "contentInfo": {"fileUrl": "https://x.test/a.png"}}}

BAD: list[tuple[str, dict[str, Any], int, str]] = [
    ("no recipients", {"to": [], "content": TEXT}, 20400, "$.to"),
    ("10,001 recipients", {"to": phones(*numbers(10_001)), "content": TEXT}, 20400, "$.to"),
    ("to missing", {"content": TEXT}, 20400, "$.to"),
    ("content missing", {"to": ONE}, 20400, "$.content"),
    ("SMS as a recipient channel", {"to": [{"address": ALWAYS_RCS, "channel": "SMS"}],
                                    "content": TEXT}, 20400, "$.to[0].channel"),
    ("an unknown recipient field", {"to": [{"address": ALWAYS_RCS, "channel": "PHONE",
                                            "name": "x"}], "content": TEXT}, 20400, "$.to[0].name"),
    ("the invalid magic number", {"to": phones(ALWAYS_RCS, "+15005550001"), "content": TEXT},
     21614, "$.to[1].address"),
    ("not E.164", {"to": phones("4155550100"), "content": TEXT}, 21614, "$.to[0].address"),
    ("a bad connected address", {"to": [{"addresses": [{"address": "+1", "channel": "PHONE"}]}],
                                 "content": TEXT}, 21614, "$.to[0].addresses[0].address"),
    ("11 connected addresses", {"to": [{"addresses": phones(*numbers(11))}], "content": TEXT},
     20400, "$.to[0]"),
    ("a bad profile id", {"to": [{"profileId": "p", "memoryStoreId": "mem_store_" + "0" * 26}],
                          "content": TEXT}, 20400, "$.to[0].profileId"),
    ("variables that are not strings", {"to": [{"address": ALWAYS_RCS, "channel": "PHONE",
                                                "variables": {"n": 1}}], "content": TEXT},
     20400, "$.to[0].variables"),
    ("empty text", {"to": ONE, "content": {"text": ""}}, 20400, "$.content.text"),
    ("1,601 characters", {"to": ONE, "content": {"text": "x" * 1601}}, 21617, "$.content.text"),
    ("empty content", {"to": ONE, "content": {}}, 20400, "$.content"),
    ("a template id with modules", {"to": ONE, "content": {"contentId": "HX" + "a" * 32,
                                    "modules": [{"sms": {"text": "y"}}]}}, 20400, "$.content"),
    ("a bad template id", {"to": ONE, "content": {"contentId": "HX1"}}, 20400,
     "$.content.contentId"),
    ("no modules", {"to": ONE, "content": {"modules": []}}, 20400, "$.content.modules"),
    ("an sms module with an unknown field", {"to": ONE, "content": {"modules": [
        {"sms": {"text": "x", "body": "y"}}]}}, 20400, "$.content.modules[0].sms.body"),
    ("an rcs module of two shapes", {"to": ONE, "content": {"modules": [RCS_TEXT_AND_FILE]}},
     20400, "$.content.modules[0].rcs"),
    ("an sms module over 1,600", {"to": ONE, "content": {"modules": [
        {"sms": {"text": "x" * 1601}}]}}, 21617, "$.content.modules[0].sms.text"),
    ("a malformed sender id", {"to": ONE, "content": TEXT, "from": {"senderId": "s1"}}, 20400,
     "$.from.senderId"),
    ("a malformed pool id", {"to": ONE, "content": TEXT, "from": {"senderPoolId": "p1"}}, 20400,
     "$.from.senderPoolId"),
    ("an unknown pool", {"to": ONE, "content": TEXT, "from": {"senderPoolId": MISSING_POOL}},
     20404, "$.from.senderPoolId"),
    ("an unknown sender", {"to": ONE, "content": TEXT, "from": {"senderId": MISSING_SENDER}},
     20404, "$.from.senderId"),
    ("an unknown sender address", {"to": ONE, "content": TEXT,
                                   "from": {"address": "+14155550100", "channel": "SMS"}},
     20404, "$.from.address"),
    ("both senderId and senderPoolId", {"to": ONE, "content": TEXT, "from": {
        "senderId": MISSING_SENDER, "senderPoolId": MISSING_POOL}}, 20400, "$.from"),
    ("a PHONE sender channel", {"to": ONE, "content": TEXT,
                                "from": {"address": "+14155550100", "channel": "PHONE"}},
     20400, "$.from.channel"),
    ("a repeated filterIn channel", {"to": ONE, "content": TEXT, "from": {
        "senderPoolId": MISSING_POOL, "channels": {"filterIn": ["SMS", "SMS"]}}},
     20400, "$.from.channels.filterIn"),
    ("a bad priority", {"to": ONE, "content": TEXT, "from": {"senderPoolId": MISSING_POOL,
        "channels": {"priority": [{"channel": "SMS", "priority": "high"}]}}},
     20400, "$.from.channels.priority[0].priority"),
    ("11 tags", {"to": ONE, "content": TEXT, "tags": {f"k{i}": "v" for i in range(11)}},
     20400, "$.tags"),
    ("a bad schedule", {"to": ONE, "content": TEXT, "schedule": {"sendAt": ["tomorrow"]}},
     20400, "$.schedule.sendAt[0]"),
    ("a schedule field", {"to": ONE, "content": TEXT, "schedule": {"at": "x"}}, 20400,
     "$.schedule.at"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "code", "context"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_send_is_a_400_naming_the_place(
    api: httpx.Client, sandbox: Sandbox, case: str, body: dict, code: int, context: str
):
    answer = api.post("/Messages", json=body)
    assert answer.status_code == 400, answer.text
    assert (error_of(answer)["code"], error_of(answer)["context"]) == (code, context)
    assert sandbox.state()["messages"] == 0


def test_the_edges_the_spec_allows_are_accepted(api: httpx.Client, sandbox: Sandbox):
    pool = pool_id(api)
    accepted = [
        {"to": phones(*numbers(10_000)), "content": TEXT},
        {"to": ONE, "content": {"text": "x" * 1600}},
        {"to": ONE, "content": {"media": [{"url": "https://x.test/a.png"}]}},
        {"to": ONE, "content": {"contentId": "HX" + "a" * 32}},
        {"to": ONE, "content": {"modules": [{"rcs": {"text": "x"}}, {"sms": {"text": "y"}}]}},
        {"to": ONE, "content": TEXT, "from": {"senderPoolId": pool, "channels": {}}},
        {"to": ONE, "content": TEXT, "sessionId": "comms_session_01h9krwprkeee8fzqspvwy6nq8"},
        {"to": ONE, "content": TEXT, "schedule": {"sendAt": []}},
        {"to": ONE, "content": TEXT, "schedule": {"sendAt": ["2025-06-01T09:00:00Z"]}},  # past
    ]
    for body in accepted:
        answer = api.post("/Messages", json=body)
        assert answer.status_code == 202, (body.get("content"), answer.text)
    assert sandbox.state()["messages"] == 10_000 + len(accepted) - 1


def test_bodies_that_are_not_json_objects_are_refused(raw_api: httpx.Client):
    for content in (b"", b"[]", b"{", b'"x"'):
        answer = raw_api.post("/Messages", content=content)
        assert answer.status_code == 400
        assert error_of(answer)["context"] == "$"


def _mutations(value: Any) -> list[Any]:
    """Variants of ``value`` with one change each: a key dropped, an unknown key added, a
    string emptied, an array emptied, a number out of range."""
    found: list[Any] = []
    if isinstance(value, dict):
        found += [{k: v for k, v in value.items() if k != key} for key in value]
        found.append({**value, "zz": "x"})
        for key, item in value.items():
            found += [{**value, key: variant} for variant in _mutations(item)]
    elif isinstance(value, list):
        found.append([])
        for i, item in enumerate(value):
            found += [[*value[:i], variant, *value[i + 1 :]] for variant in _mutations(item)]
    elif isinstance(value, str):
        found.append("")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        found.append(1000)
    return found


RICH = {"modules": [
    {"rcs": {"richCard": {"carouselCard": {"cardWidth": "SMALL", "cardContents": [
        {"title": "A", "media": {"contentInfo": {"fileUrl": "https://x.test/a.png"},
                                 "height": "TALL"}},
        {"description": "B", "suggestions": [
            {"action": {"text": "Call", "postbackData": "c",
                        "dialAction": {"phoneNumber": "+14155550100"}}},
            {"action": {"text": "Map", "postbackData": "m", "viewLocationAction": {
                "latLong": {"latitude": 40.7, "longitude": -74.0}, "label": "NYC"}}}]}]}},
        "suggestions": [{"reply": {"text": "Yes", "postbackData": "y"}},
                        {"action": {"text": "Go", "postbackData": "g", "openUrlAction": {
                            "url": "https://x.test", "application": "WEBVIEW",
                            "webviewViewMode": "HALF"}}},
                        {"action": {"text": "Cal", "postbackData": "e",
                                    "createCalendarEventAction": {
                                        "startTime": "2025-06-03T09:00:00Z",
                                        "endTime": "2025-06-03T10:00:00Z",
                                        "title": "T", "description": "D"}}},
                        {"action": {"text": "Here", "postbackData": "h",
                                    "shareLocationAction": {}}}]}},
    {"sms": {"text": "fallback", "media": [{"url": "https://x.test/a.png"}]}},
]}  # fmt: skip


def test_content_is_accepted_exactly_when_the_spec_schema_accepts_it(
    raw_api: httpx.Client, contract
):
    examples = [e["value"]["content"] for e in contract.examples("POST_Messages__request__*")]
    validator = contract.validator("#/$defs/SendMessagesRequest")
    variants = [RICH, *_mutations(RICH)]
    for content in examples:
        variants += [content, *_mutations(content)]
    assert len(variants) > 200
    disagreements = []
    for content in variants:
        body = {"to": ONE, "content": content}
        expected = validator.is_valid(body)
        status = raw_api.post("/Messages", json=body).status_code
        if (status == 202) != expected:
            disagreements.append((content, status))
    assert disagreements == []
