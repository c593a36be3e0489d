"""``client.server_now()``: the server's clock from its answers' ``Date`` header, which a
window like ``"7d"`` counts back from (a sandbox's clock runs far from this machine's)."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx

from .conftest import SENDER_ID, replies, sender_json


def test_no_answer_yet_no_server_time(fake_api):
    assert fake_api(replies()).client().server_now() is None


def test_the_date_header_of_the_last_answer_is_the_servers_now(fake_api):
    dated = httpx.Response(
        200, json=sender_json(), headers={"Date": "Mon, 02 Jun 2025 09:00:07 GMT"}
    )
    client = fake_api(replies(dated, dated)).client()
    client.senders.get(SENDER_ID)
    now = client.server_now()
    assert now is not None and now.tzinfo is not None
    start = datetime(2025, 6, 2, 9, 0, 7, tzinfo=timezone.utc)
    assert 0 <= (now - start).total_seconds() < 5  # plus the time since the answer


def test_an_answer_without_a_readable_date_keeps_the_last_one(fake_api):
    dated = httpx.Response(
        200, json=sender_json(), headers={"Date": "Tue, 03 Jun 2025 10:00:00 GMT"}
    )
    garbled = httpx.Response(200, json=sender_json(), headers={"Date": "yesterday-ish"})
    bare = httpx.Response(200, json=sender_json())
    client = fake_api(replies(dated, garbled, bare)).client()
    for _ in range(3):
        client.senders.get(SENDER_ID)
    assert client.server_now().date().isoformat() == "2025-06-03"
