"""Listing, fetching and searching senders: filters, keyset pagination, page tokens."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from commstoolkit.sandbox import Sandbox

from .conftest import collect, error_of


def test_paging_through_everything_equals_one_full_listing(api: httpx.Client, sandbox: Sandbox):
    everything = api.get("/Senders", params={"pageSize": 1000}).json()
    paged, pages = collect(api, "/Senders", pageSize=7)
    assert everything["pagination"]["next"] is None
    assert len(everything["senders"]) == sandbox.state()["senders"] == 300
    assert paged == everything["senders"]
    assert pages == -(-300 // 7)
    ids = [s["id"] for s in paged]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_default_page_size_is_50(api: httpx.Client):
    page = api.get("/Senders").json()
    assert len(page["senders"]) == 50
    assert page["pagination"]["next"] is not None


@pytest.mark.parametrize(
    "params",
    [
        {"channel": "SMS"},
        {"status": "DEACTIVATED"},
        {"channel": "RCS", "status": "ACTIVATED"},
        {"startDate": "2024-06-01T00:00:00Z"},
        {"endDate": "2024-06-01T00:00:00Z", "channel": "EMAIL"},
        {"startDate": "2024-01-01T00:00:00+02:00", "endDate": "2024-12-31T23:59:59.5Z"},
    ],
)
def test_filters_select_exactly_the_matching_senders(api: httpx.Client, params: dict):
    everything = api.get("/Senders", params={"pageSize": 1000}).json()["senders"]
    filtered, _ = collect(api, "/Senders", pageSize=9, **params)

    start = _moment(params.get("startDate", "1970-01-01T00:00:00Z"))
    end = _moment(params.get("endDate", "2999-01-01T00:00:00Z"))

    def keep(sender: dict) -> bool:
        return (
            sender["channel"] == params.get("channel", sender["channel"])
            and sender["status"] == params.get("status", sender["status"])
            and start <= _moment(sender["createdAt"]) < end
        )

    assert filtered == [s for s in everything if keep(s)]
    assert 0 < len(filtered) < len(everything)


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_self_token_fetches_the_same_page_again(api: httpx.Client):
    first = api.get("/Senders", params={"pageSize": 5, "channel": "SMS"}).json()
    second = api.get(
        "/Senders",
        params={"pageSize": 5, "channel": "SMS", "pageToken": first["pagination"]["next"]},
    ).json()
    again = api.get(
        "/Senders",
        params={"pageSize": 5, "channel": "SMS", "pageToken": second["pagination"]["self"]},
    ).json()
    assert again == second
    assert second["senders"][0]["id"] > first["senders"][-1]["id"]


@pytest.mark.parametrize(
    "other",
    [{"channel": "RCS"}, {"channel": "SMS", "status": "ACTIVATED"}, {}],
)
def test_a_token_only_works_with_the_filters_it_came_from(api: httpx.Client, other: dict):
    token = api.get("/Senders", params={"channel": "SMS", "pageSize": 5}).json()["pagination"][
        "next"
    ]
    answer = api.get("/Senders", params={**other, "pageToken": token})
    assert answer.status_code == 400
    assert error_of(answer)["context"] == "pageToken"


def test_a_token_of_another_listing_is_refused(api: httpx.Client, sandbox: Sandbox):
    token = api.get("/Senders", params={"pageSize": 1}).json()["pagination"]["next"]
    pool_id = api.get("/SenderPools").json()["senderPools"][0]["id"]
    for path in ("/SenderPools", f"/SenderPools/{pool_id}/Senders", "/SenderPools/Operations"):
        answer = api.get(path, params={"pageToken": token})
        assert (answer.status_code, error_of(answer)["context"]) == (400, "pageToken"), path


@pytest.mark.parametrize("token", ["garbage", "eyJhZnRlciI6MX0", "", "%%%"])
def test_a_made_up_token_is_a_400_naming_page_token(api: httpx.Client, token: str):
    answer = api.get("/Senders", params={"pageToken": token})
    assert answer.status_code == 400
    assert error_of(answer)["context"] == "pageToken"


@pytest.mark.parametrize("size", ["0", "1001", "-1", "ten", "1.5", ""])
def test_page_size_outside_1_to_1000_is_a_400_naming_page_size(api: httpx.Client, size: str):
    answer = api.get("/Senders", params={"pageSize": size})
    assert answer.status_code == 400
    assert error_of(answer)["context"] == "pageSize"
    assert "1 to 1000" in error_of(answer)["message"]


@pytest.mark.parametrize("size", [1, 1000])
def test_page_size_bounds_are_accepted(api: httpx.Client, size: int):
    assert len(api.get("/Senders", params={"pageSize": size}).json()["senders"]) == min(size, 300)


@pytest.mark.parametrize(
    ("params", "context"),
    [
        ({"channel": "sms"}, "channel"),
        ({"channel": "PHONE"}, "channel"),
        ({"status": "ACTIVE"}, "status"),
        ({"startDate": "2024-01-01"}, "startDate"),
        ({"endDate": "yesterday"}, "endDate"),
        ({"startDate": "2024-02-30T00:00:00Z"}, "startDate"),
        ({"startDate": "2024-06-01T00:00:00Z", "endDate": "2024-05-01T00:00:00Z"}, "endDate"),
        ({"status": ["ACTIVATED", "DEACTIVATED"]}, "status"),
    ],
)
def test_bad_filters_are_400s_naming_the_parameter(api: httpx.Client, params: dict, context: str):
    answer = api.get("/Senders", params=params)
    assert answer.status_code == 400
    assert error_of(answer)["context"] == context


def test_enum_errors_list_the_allowed_values(api: httpx.Client):
    message = error_of(api.get("/Senders", params={"channel": "FAX"}))["message"]
    assert "SMS, RCS, EMAIL, WHATSAPP, PUSH" in message and "FAX" in message


def test_fetch_one_sender_and_unknown_or_malformed_ids(api: httpx.Client):
    sender = api.get("/Senders").json()["senders"][3]
    assert api.get(f"/Senders/{sender['id']}").json() == sender
    unknown = api.get("/Senders/comms_sender_01h9krwprkeee8fzqspvwy6nq8")
    assert unknown.status_code == 404
    assert error_of(unknown)["code"] == 20404
    assert "comms_sender_01h9krwprkeee8fzqspvwy6nq8" in error_of(unknown)["message"]
    malformed = api.get("/Senders/comms_sender_ABC")
    assert (malformed.status_code, error_of(malformed)["context"]) == (400, "senderId")


def test_search_finds_senders_by_address_and_channel(api: httpx.Client):
    everything = api.get("/Senders", params={"pageSize": 1000}).json()["senders"]
    sms = next(s for s in everything if s["channel"] == "SMS" and s["address"].startswith("+"))
    found = api.post("/Senders/Search", json={"address": sms["address"], "channel": "SMS"})
    assert found.status_code == 200
    assert found.json()["senders"] == [sms]
    assert found.json()["pagination"]["next"] is None
    other_status = "DEACTIVATED" if sms["status"] == "ACTIVATED" else "ACTIVATED"
    none = api.post(
        "/Senders/Search",
        json={"address": sms["address"], "channel": "SMS", "status": other_status},
    )
    assert none.json()["senders"] == []


def test_search_can_find_the_same_number_on_sms_and_whatsapp(api: httpx.Client):
    everything = api.get("/Senders", params={"pageSize": 1000}).json()["senders"]
    whatsapp = {s["address"] for s in everything if s["channel"] == "WHATSAPP"}
    shared = next(
        s["address"] for s in everything if s["channel"] == "SMS" and s["address"] in whatsapp
    )
    for channel in ("SMS", "WHATSAPP"):
        (hit,) = api.post("/Senders/Search", json={"address": shared, "channel": channel}).json()[
            "senders"
        ]
        assert (hit["address"], hit["channel"]) == (shared, channel)


def test_search_pages_with_paging_fields_in_the_body(api: httpx.Client, sandbox: Sandbox):
    body = {"address": "+15550000000", "channel": "SMS", "pageSize": 1000}
    assert api.post("/Senders/Search", json=body).json()["senders"] == []
    bad = api.post("/Senders/Search", json={**body, "pageSize": "10"})
    assert (bad.status_code, error_of(bad)["context"]) == (400, "$.pageSize")
    bad = api.post("/Senders/Search", json={**body, "pageToken": "nope"})
    assert (bad.status_code, error_of(bad)["context"]) == (400, "$.pageToken")


@pytest.mark.parametrize(
    ("body", "context"),
    [
        ({"channel": "SMS"}, "$.address"),
        ({"address": "+14155550100"}, "$.channel"),
        ({"address": 14155550100, "channel": "SMS"}, "$.address"),
        ({"address": "+14155550100", "channel": "PHONE"}, "$.channel"),
        ({"address": "+14155550100", "channel": "SMS", "status": "on"}, "$.status"),
        ([{"address": "+14155550100", "channel": "SMS"}], "$"),
    ],
)
def test_search_rejects_bad_bodies_naming_the_field(api: httpx.Client, body, context: str):
    answer = api.post("/Senders/Search", json=body)
    assert answer.status_code == 400
    assert error_of(answer)["context"] == context


def test_pool_members_listing_takes_the_same_filters(api: httpx.Client, sandbox: Sandbox):
    pool_id = api.get("/SenderPools").json()["senderPools"][0]["id"]
    members, _ = collect(api, f"/SenderPools/{pool_id}/Senders", pageSize=4)
    assert [m["id"] for m in members] == sandbox.backend.pool_member_ids(pool_id)
    sms, _ = collect(api, f"/SenderPools/{pool_id}/Senders", channel="SMS", status="ACTIVATED")
    assert sms == [m for m in members if m["channel"] == "SMS" and m["status"] == "ACTIVATED"]
    bad = api.get(f"/SenderPools/{pool_id}/Senders", params={"channel": "FAX"})
    assert (bad.status_code, error_of(bad)["context"]) == (400, "channel")
