"""The seeded account: deterministic, realistic, and fast at 100,000 senders."""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from commstoolkit.sandbox import Sandbox

from .conftest import collect, make_client

ID = re.compile(r"comms_(sender|senderpool|operation)_[0-7][a-hjkmnpqrstv-z0-9]{25}")
ADDRESS = {
    "SMS": re.compile(r"\+1[2-9]\d{9}|\+44\d{9,10}|\d{5,6}"),
    "WHATSAPP": re.compile(r"\+1[2-9]\d{9}|\+44\d{9,10}"),
    "RCS": re.compile(r"[a-z]+_[a-z]+_[a-z0-9]{5}_agent"),
    "EMAIL": re.compile(r"[a-z.\-0-9]+@[a-z.]+\.example\.com"),
    "PUSH": re.compile(r"[a-z]+_[a-z_0-9]+_app"),
}


def _everything(box: Sandbox) -> tuple[list[dict], list[dict], dict[str, list[str]]]:
    with make_client(box) as client:
        senders, _ = collect(client, "/Senders", pageSize=1000)
        pools, _ = collect(client, "/SenderPools", key="senderPools")
    return senders, pools, {p["id"]: box.backend.pool_member_ids(p["id"]) for p in pools}


def test_same_seed_same_account_other_seed_other_account():
    with (
        Sandbox(":memory:", speed=0) as a,
        Sandbox(":memory:", seed=7, speed=0) as b,
        Sandbox(":memory:", seed=8, speed=0) as c,
    ):
        account_a, account_b, account_c = _everything(a), _everything(b), _everything(c)
    assert account_a == account_b
    assert {s["id"] for s in account_a[0]}.isdisjoint(s["id"] for s in account_c[0])
    assert [s["address"] for s in account_a[0]] != [s["address"] for s in account_c[0]]


def test_new_ids_are_deterministic_too(api: httpx.Client):
    created = [api.post("/SenderPools", json={}).json()["operationId"] for _ in range(3)]
    with Sandbox(":memory:", speed=0) as other, make_client(other) as client:
        again = [client.post("/SenderPools", json={}).json()["operationId"] for _ in range(3)]
    assert created == again


def test_the_account_looks_real(sandbox: Sandbox):
    senders = _everything(sandbox)[0]
    channels = Counter(s["channel"] for s in senders)
    assert set(channels) == {"SMS", "RCS", "EMAIL", "WHATSAPP", "PUSH"}
    assert channels["SMS"] == max(channels.values())
    deactivated = sum(s["status"] == "DEACTIVATED" for s in senders)
    assert 0.05 <= deactivated / len(senders) <= 0.15
    for sender in senders:
        assert ID.fullmatch(sender["id"])
        assert ADDRESS[sender["channel"]].fullmatch(sender["address"]), sender
        assert {"team", "region"} <= set(sender["tags"])
        assert sender["createdAt"] <= sender["updatedAt"] <= "2025-06-02T09:00:00Z"
        assert sender["createdAt"] >= "2023-06-01T00:00:00Z"
    sms = [s for s in senders if s["channel"] == "SMS"]
    assert {s["tags"]["numberType"] for s in sms} == {"local", "tollfree", "shortcode"}
    assert {s["tags"]["region"] for s in sms} >= {"us-east", "us-west", "uk"}
    assert any(s["displayName"] is None for s in senders)
    assert len({(s["address"], s["channel"]) for s in senders}) == len(senders)
    created = [s["createdAt"] for s in senders]
    assert created == sorted(created)  # ids are time-ordered
    assert _moment(created[-1]) - _moment(created[0]) > timedelta(days=500)


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_three_named_tagged_pools_that_share_senders(sandbox: Sandbox):
    _, pools, members = _everything(sandbox)
    assert [p["name"] for p in pools] == [
        "Customer Support - NAMER",
        "Marketing Promotions - UK",
        "Ops Alerts - Global",
    ]
    assert all(p["tags"] for p in pools)
    support, marketing, ops = (set(members[p["id"]]) for p in pools)
    assert support & ops
    assert all(len(m) >= 5 for m in (support, marketing, ops))


@pytest.fixture(scope="module")
def big() -> Iterator[tuple[Sandbox, float]]:
    started = time.perf_counter()
    box = Sandbox(":memory:", senders=100_000, speed=0)
    yield box, time.perf_counter() - started
    box.close()


@pytest.mark.slow
def test_100000_senders_seed_in_a_few_seconds(big: tuple[Sandbox, float]):
    box, seconds = big
    assert box.state()["senders"] == 100_000
    assert seconds < 10


@pytest.mark.slow
@pytest.mark.parametrize(
    "params",
    [{}, {"channel": "SMS"}, {"status": "DEACTIVATED"}, {"channel": "PUSH", "status": "ACTIVATED"}],
)
def test_any_page_of_100000_senders_is_served_in_near_constant_time(big, params: dict):
    box, _ = big
    with make_client(box) as client:
        timings, token, count = [], None, 0
        while True:
            query = {**params, "pageSize": 1000, **({"pageToken": token} if token else {})}
            started = time.perf_counter()
            page = client.get("/Senders", params=query).json()
            timings.append(time.perf_counter() - started)
            count += len(page["senders"])
            token = page["pagination"]["next"]
            if token is None:
                break
    where = " AND ".join(f"{k} = '{v}'" for k, v in params.items()) or "1"
    expected = box.store.conn.execute(f"SELECT COUNT(*) FROM senders WHERE {where}").fetchone()[0]
    assert count == expected
    full = timings[:-1]  # the last page may be short
    first, last = statistics.median(full[:3]), statistics.median(full[-3:])
    assert last < 3 * first + 0.005  # the last pages cost what the first ones did
    assert max(timings) < 0.5
