"""``traffic_health`` on the sandbox's history, recomputed from the raw ``GET /Messages``
pages: the JSON read by hand (the sender, its pool, the status, the recipient's country by
phonenumbers' own parser), counted per group in plain Python, window by window."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import httpx
import phonenumbers
import pytest

from commstoolkit.analysis import load_traffic, traffic_health
from commstoolkit.sandbox import Sandbox
from tests.instant import instant_client

RATED = ("DELIVERED", "READ", "UNDELIVERED", "FAILED")


@pytest.fixture(scope="module")
def history():
    box = Sandbox(":memory:", seed=7, senders=300, traffic_days=4, daily_messages=1500)
    yield box
    box.close()


def _raw(box: Sandbox, start: datetime, end: datetime) -> list[dict]:
    """Every message of ``[start, end)``, page by page, as the API's JSON."""
    items: list[dict] = []
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    params = {"startDate": start.strftime(stamp), "endDate": end.strftime(stamp), "pageSize": 500}
    with httpx.Client(
        transport=box.transport(), base_url=box.base_url, auth=box.credentials()
    ) as http:
        while True:
            page = http.get("/Messages", params=params).json()
            items += page["messages"]
            if not page["pagination"]["next"]:
                return items
            params["pageToken"] = page["pagination"]["next"]


def _key(item: dict, by: str) -> str:
    sender = item["from"]
    if by == "sender":
        return sender.get("senderId") or "no sender"
    if by == "pool":
        return sender.get("senderPoolId") or "no pool"
    number = item["to"][0]["address"]
    region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
    return region or "unknown"


@pytest.mark.parametrize("by", ["sender", "pool", "country"])
def test_the_health_table_is_the_hand_count_of_the_raw_pages(history, by):
    end = history.clock.now().replace(microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=2)
    client = instant_client(history)
    health = traffic_health(load_traffic(client, start, end, compare=True, progress=False), by)
    count: dict = defaultdict(lambda: defaultdict(int))
    for item in _raw(history, start - (end - start), end):
        created = datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00"))
        window = "now" if created >= start else "before"
        group = count[(window, _key(item, by))]
        status = item["status"]
        group["messages"] += 1
        group["rated"] += status in RATED
        group["delivered"] += status in ("DELIVERED", "READ")
        group["errors"] += status in ("UNDELIVERED", "FAILED")
        reads = item["from"].get("channel") in ("RCS", "WHATSAPP") and bool(
            item["from"].get("senderId")
        )
        group["read_eligible"] += reads and status in ("DELIVERED", "READ")
        group["read"] += reads and status == "READ"
    key = {"sender": "sender_id", "pool": "pool_id", "country": "to_country"}[by]
    rows = {row[key]: row for row in health.to_dict("records")}
    now = {k: v for (w, k), v in count.items() if w == "now"}
    assert set(rows) == set(now)
    assert sum(row["messages"] for row in rows.values()) > 1000
    for group, want in now.items():
        row = rows[group]
        for column in ("messages", "rated", "delivered", "errors", "read_eligible", "read"):
            assert row[column] == want[column], (group, column)
        before = count.get(("before", group), {})
        assert row["prev_rated"] == before.get("rated", 0)
        assert row["prev_delivered"] == before.get("delivered", 0)
        if want["rated"]:
            assert row["delivery_rate"] == pytest.approx(want["delivered"] / want["rated"])
