"""Sender pools end to end: create -> operation -> pool, members, update, delete."""

from __future__ import annotations

import httpx
import pytest

from commstoolkit.sandbox import Sandbox

from .conftest import collect, error_of

UNKNOWN_SENDER = "comms_sender_01h9krwprkeee8fzqspvwy6nq8"


@pytest.fixture
def seeded(api: httpx.Client) -> list[dict]:
    """All 300 seeded senders."""
    return api.get("/Senders", params={"pageSize": 1000}).json()["senders"]


def _create(api: httpx.Client, name: str, sender_ids: list[str], tags=None) -> str:
    body = {"name": name, "senders": [{"senderId": s} for s in sender_ids]}
    if tags is not None:
        body["tags"] = tags
    answer = api.post("/SenderPools", json=body)
    assert answer.status_code == 202, answer.text
    return answer.json()["operationId"]


def _operation(api: httpx.Client, operation_id: str) -> dict:
    return api.get(f"/SenderPools/Operations/{operation_id}").json()


def _pool_of(api: httpx.Client, operation_id: str) -> dict:
    (pool,) = api.get("/SenderPools", params={"operationId": operation_id}).json()["senderPools"]
    return pool


def test_create_runs_an_operation_then_the_pool_appears_with_exactly_its_members(
    api: httpx.Client, sandbox: Sandbox, seeded: list[dict]
):
    chosen = [s["id"] for s in seeded[10:30]]
    answer = api.post(
        "/SenderPools",
        json={"name": "Support", "senders": [{"senderId": s} for s in chosen], "tags": {"t": "1"}},
    )
    operation_id = answer.json()["operationId"]
    assert answer.headers["location"] == answer.json()["operationLocation"]
    assert answer.json()["operationLocation"] == (
        f"https://sandbox.comms.invalid/v1/SenderPools/Operations/{operation_id}"
    )
    running = _operation(api, operation_id)
    assert running["status"] == "PROCESSING"
    assert running["stats"] == {"total": 20, "queued": 20, "created": 0, "failed": 0}
    assert api.get("/SenderPools", params={"operationId": operation_id}).json()["senderPools"] == []

    sandbox.clock.advance(1)
    done = _operation(api, operation_id)
    assert done["status"] == "COMPLETED"
    assert done["stats"] == {"total": 20, "queued": 0, "created": 20, "failed": 0}
    pool = _pool_of(api, operation_id)
    assert (pool["name"], pool["tags"]) == ("Support", {"t": "1"})
    assert api.get(f"/SenderPools/{pool['id']}").json() == pool
    members, _ = collect(api, f"/SenderPools/{pool['id']}/Senders", pageSize=6)
    assert [m["id"] for m in members] == sorted(chosen)
    assert members == [s for s in seeded if s["id"] in chosen]


def test_operation_progress_moves_with_the_clock(api: httpx.Client, sandbox: Sandbox, seeded):
    sender_ids = [s["id"] for s in seeded] * 20  # 6000 items: 0.5 s + 3 s of sandbox time
    operation_id = _create(api, "Big", sender_ids)
    sandbox.clock.advance(1.75)
    halfway = _operation(api, operation_id)
    assert halfway["status"] == "PROCESSING"
    assert halfway["stats"]["created"] == 3000
    assert halfway["stats"]["queued"] == 3000
    sandbox.clock.advance(1.75)
    assert _operation(api, operation_id)["stats"]["created"] == 6000


def test_unknown_senders_fail_and_known_ones_are_created(api, sandbox: Sandbox, seeded):
    deactivated = next(s["id"] for s in seeded if s["status"] == "DEACTIVATED")
    operation_id = _create(api, "Mixed", [seeded[0]["id"], UNKNOWN_SENDER, deactivated])
    sandbox.clock.advance(5)
    done = _operation(api, operation_id)
    assert done["stats"] == {"total": 3, "queued": 0, "created": 2, "failed": 1}
    pool = _pool_of(api, operation_id)
    assert sandbox.backend.pool_member_ids(pool["id"]) == sorted([seeded[0]["id"], deactivated])


def test_add_members_with_an_array_body_and_already_members_count_as_created(
    api: httpx.Client, sandbox: Sandbox, seeded
):
    operation_id = _create(api, "Grow", [seeded[0]["id"]])
    sandbox.clock.advance(5)
    pool_id = _pool_of(api, operation_id)["id"]
    body = [{"senderId": s["id"]} for s in seeded[:3]] + [{"senderId": UNKNOWN_SENDER}]
    answer = api.post(f"/SenderPools/{pool_id}/Senders", json=body)
    assert answer.status_code == 202
    add_id = answer.json()["operationId"]
    assert answer.json()["operationLocation"].endswith(
        f"/v1/SenderPools/{pool_id}/Senders/Operations/{add_id}"
    )
    assert sandbox.backend.pool_member_ids(pool_id) == [seeded[0]["id"]]
    sandbox.clock.advance(5)
    via_pool = api.get(f"/SenderPools/{pool_id}/Senders/Operations/{add_id}").json()
    assert via_pool == _operation(api, add_id)
    assert via_pool["stats"] == {"total": 4, "queued": 0, "created": 3, "failed": 1}
    assert sandbox.backend.pool_member_ids(pool_id) == sorted(s["id"] for s in seeded[:3])


def test_an_operation_is_not_found_under_another_pool(api: httpx.Client, sandbox: Sandbox):
    pools = api.get("/SenderPools").json()["senderPools"]
    add_id = api.post(
        f"/SenderPools/{pools[0]['id']}/Senders", json=[{"senderId": UNKNOWN_SENDER}]
    ).json()["operationId"]
    answer = api.get(f"/SenderPools/{pools[1]['id']}/Senders/Operations/{add_id}")
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("body", "context"),
    [
        ([], "$"),
        ({"senderId": UNKNOWN_SENDER}, "$"),
        ([{"senderId": UNKNOWN_SENDER}] * 10_001, "$"),
        ([{"id": UNKNOWN_SENDER}], "$[0].senderId"),
        ([{"senderId": UNKNOWN_SENDER}, {"senderId": "comms_sender_x"}], "$[1].senderId"),
        ([{"senderId": UNKNOWN_SENDER}, "comms_sender_01h9krwprkeee8fzqspvwy6nq8"], "$[1]"),
    ],
)
def test_add_members_rejects_bad_bodies(api: httpx.Client, body, context: str):
    pool_id = api.get("/SenderPools").json()["senderPools"][0]["id"]
    answer = api.post(f"/SenderPools/{pool_id}/Senders", json=body)
    assert answer.status_code == 400
    assert error_of(answer)["context"] == context


def test_add_members_accepts_10000_and_reports_every_bad_item(api: httpx.Client, sandbox):
    pool_id = api.get("/SenderPools").json()["senderPools"][0]["id"]
    full = api.post(f"/SenderPools/{pool_id}/Senders", json=[{"senderId": UNKNOWN_SENDER}] * 10_000)
    assert full.status_code == 202
    bad = api.post(
        f"/SenderPools/{pool_id}/Senders",
        json=[{"senderId": "nope"}, {"senderId": UNKNOWN_SENDER}, {"senderId": 7}],
    )
    assert [e["context"] for e in bad.json()["errors"]] == ["$[0].senderId", "$[2].senderId"]


def test_adding_to_an_unknown_pool_is_404(api: httpx.Client):
    answer = api.post(
        "/SenderPools/comms_senderpool_01h9krwprkeee8fzqspvwy6nq8/Senders",
        json=[{"senderId": UNKNOWN_SENDER}],
    )
    assert (answer.status_code, error_of(answer)["code"]) == (404, 20404)


def test_remove_a_member(api: httpx.Client, sandbox: Sandbox):
    pool_id = api.get("/SenderPools").json()["senderPools"][0]["id"]
    member = sandbox.backend.pool_member_ids(pool_id)[0]
    answer = api.delete(f"/SenderPools/{pool_id}/Senders/{member}")
    assert answer.status_code == 202
    assert answer.json() == {
        "resourceId": member,
        "resourceLocation": f"https://sandbox.comms.invalid/v1/SenderPools/{pool_id}/Senders/{member}",
    }
    assert member not in sandbox.backend.pool_member_ids(pool_id)
    again = api.delete(f"/SenderPools/{pool_id}/Senders/{member}")
    assert (again.status_code, error_of(again)["code"]) == (404, 20404)


def test_patch_renames_and_replaces_tags(api: httpx.Client, sandbox: Sandbox):
    pool = api.get("/SenderPools").json()["senderPools"][0]
    assert pool["tags"]
    sandbox.clock.advance(3600)
    answer = api.patch(f"/SenderPools/{pool['id']}", json={"tags": {"tier": "2"}})
    assert answer.status_code == 202
    assert answer.json()["resourceId"] == pool["id"]
    after = api.get(f"/SenderPools/{pool['id']}").json()
    assert (after["name"], after["tags"]) == (pool["name"], {"tier": "2"})
    assert after["updatedAt"] == "2025-06-02T10:00:00Z"
    api.patch(f"/SenderPools/{pool['id']}", json={"name": "Renamed"})
    after = api.get(f"/SenderPools/{pool['id']}").json()
    assert (after["name"], after["tags"]) == ("Renamed", {"tier": "2"})
    api.patch(f"/SenderPools/{pool['id']}", json={"tags": {}})
    assert api.get(f"/SenderPools/{pool['id']}").json()["tags"] == {}


@pytest.mark.parametrize(
    ("body", "context"),
    [({}, "$"), ({"label": "x"}, "$"), ({"name": None}, "$.name"), ({"tags": []}, "$.tags")],
)
def test_patch_needs_name_or_tags(api: httpx.Client, body, context: str):
    pool_id = api.get("/SenderPools").json()["senderPools"][0]["id"]
    answer = api.patch(f"/SenderPools/{pool_id}", json=body)
    assert (answer.status_code, error_of(answer)["context"]) == (400, context)
    assert api.patch(f"/SenderPools/{pool_id}").status_code == 400


def test_delete_removes_the_pool_and_its_memberships(api: httpx.Client, sandbox: Sandbox):
    pool_id = api.get("/SenderPools").json()["senderPools"][0]["id"]
    members_before = sandbox.state()["memberships"]
    size = len(sandbox.backend.pool_member_ids(pool_id))
    answer = api.delete(f"/SenderPools/{pool_id}")
    assert answer.status_code == 202
    assert answer.json()["resourceLocation"].endswith(f"/v1/SenderPools/{pool_id}")
    for path in (f"/SenderPools/{pool_id}", f"/SenderPools/{pool_id}/Senders"):
        assert api.get(path).status_code == 404
    assert api.delete(f"/SenderPools/{pool_id}").status_code == 404
    assert sandbox.state()["memberships"] == members_before - size
    assert pool_id not in [p["id"] for p in api.get("/SenderPools").json()["senderPools"]]


def test_deleting_a_pool_cancels_its_running_operations(api: httpx.Client, sandbox: Sandbox):
    pool_id = api.get("/SenderPools").json()["senderPools"][0]["id"]
    everything = api.get("/Senders", params={"pageSize": 1000}).json()["senders"]
    add_id = api.post(
        f"/SenderPools/{pool_id}/Senders", json=[{"senderId": s["id"]} for s in everything]
    ).json()["operationId"]
    api.delete(f"/SenderPools/{pool_id}")
    sandbox.clock.advance(5)
    canceled = _operation(api, add_id)
    assert canceled["status"] == "CANCELED"
    assert canceled["stats"] == {"total": 300, "queued": 0, "created": 0, "failed": 300}


def test_pool_names_need_not_be_unique_and_name_and_senders_are_optional(api, sandbox):
    first, second = _create(api, "Same", []), _create(api, "Same", [])
    bare = api.post("/SenderPools", json={})
    assert bare.status_code == 202
    sandbox.clock.advance(1)
    assert _pool_of(api, first)["id"] != _pool_of(api, second)["id"]
    assert _pool_of(api, bare.json()["operationId"])["name"] == ""


def test_operations_listing_filters_by_status_and_date(api: httpx.Client, sandbox: Sandbox):
    seeded_ops = collect(api, "/SenderPools/Operations", key="operations")[0]
    assert [o["status"] for o in seeded_ops] == ["COMPLETED"] * 3
    running = _create(api, "Later", [])
    processing = api.get("/SenderPools/Operations", params={"status": "PROCESSING"}).json()
    assert [o["id"] for o in processing["operations"]] == [running]
    recent = api.get("/SenderPools/Operations", params={"startDate": "2025-06-01T00:00:00Z"})
    assert [o["id"] for o in recent.json()["operations"]] == [running]
    bad = api.get("/SenderPools/Operations", params={"status": "FAILED"})
    assert (bad.status_code, error_of(bad)["context"]) == (400, "status")


def test_pools_listing_filters_by_created_date(api: httpx.Client, sandbox: Sandbox):
    seeded_pools = collect(api, "/SenderPools", key="senderPools", pageSize=1)[0]
    assert len(seeded_pools) == 3
    cut = seeded_pools[1]["createdAt"]
    later = api.get("/SenderPools", params={"startDate": cut}).json()["senderPools"]
    earlier = api.get("/SenderPools", params={"endDate": cut}).json()["senderPools"]
    assert later == seeded_pools[1:] and earlier == seeded_pools[:1]
    bad = api.get("/SenderPools", params={"operationId": "comms_operation_?"})
    assert (bad.status_code, error_of(bad)["context"]) == (400, "operationId")


def test_instant_clock_finishes_operations_on_the_next_request(api, sandbox: Sandbox, seeded):
    sandbox.clock.instant = True
    operation_id = _create(api, "Now", [seeded[0]["id"]])
    assert _operation(api, operation_id)["status"] == "COMPLETED"
    assert _pool_of(api, operation_id)["name"] == "Now"


def test_ids_of_new_resources_sort_in_creation_order_even_on_a_frozen_clock(api, sandbox):
    created = [_create(api, f"p{i}", []) for i in range(20)]
    assert created == sorted(created) and len(set(created)) == 20
    sandbox.clock.advance(1)
    pools = [_pool_of(api, op)["id"] for op in created]
    assert pools == sorted(pools)
    assert all(p["id"] < pools[0] for p in api.get("/SenderPools").json()["senderPools"][:3])
