"""Retry policy: the pure functions, then the retry loop through a fake server."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timezone

import httpx
import pytest

from commstoolkit.client import RetryDecision, RetryPolicy
from commstoolkit.client.retry import backoff_delay, retry_after_seconds, should_retry
from commstoolkit.errors import (
    CommsConnectionError,
    CommsTimeoutError,
    InvalidInputError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
)

from .conftest import OP_ID, POOL_ID, SENDER_ID, TOKEN, errors_json, replies, sender_json

POLICY = RetryPolicy(max_retries=3)


def _status(code: int) -> httpx.Response:
    return httpx.Response(code)


@pytest.mark.parametrize(
    ("method", "outcome", "idempotent", "expected"),
    [
        ("GET", _status(429), None, True),
        ("POST", _status(429), None, True),
        ("GET", _status(503), None, True),
        ("POST", _status(503), None, True),
        ("GET", _status(500), None, False),
        ("POST", _status(500), None, False),
        ("GET", _status(502), None, True),
        ("GET", _status(504), None, True),
        ("POST", _status(502), None, False),
        ("POST", _status(504), True, True),
        ("GET", _status(400), None, False),
        ("GET", _status(404), None, False),
        ("GET", httpx.ConnectError("refused"), None, True),
        ("POST", httpx.ConnectError("refused"), None, True),
        ("POST", httpx.ConnectTimeout("slow"), None, True),
        ("DELETE", httpx.PoolTimeout("busy"), None, True),
        ("GET", httpx.ReadError("reset"), None, True),
        ("HEAD", httpx.ReadTimeout("slow"), None, True),
        ("GET", httpx.RemoteProtocolError("dropped"), None, True),
        ("POST", httpx.ReadError("reset"), None, False),
        ("POST", httpx.ReadTimeout("slow"), None, False),
        ("POST", httpx.WriteError("broken pipe"), None, False),
        ("PATCH", httpx.RemoteProtocolError("dropped"), None, False),
        ("DELETE", httpx.ReadTimeout("slow"), None, False),
        ("POST", httpx.ReadError("reset"), True, True),
        ("GET", httpx.ReadError("reset"), False, False),
        ("GET", httpx.UnsupportedProtocol("ftp"), None, False),
    ],
)
def test_should_retry(method, outcome, idempotent, expected):
    assert should_retry(method, outcome, 1, POLICY, idempotent=idempotent) is expected


@pytest.mark.parametrize(("attempt", "expected"), [(1, True), (3, True), (4, False), (10, False)])
def test_should_retry_stops_after_max_retries(attempt, expected):
    assert should_retry("GET", _status(503), attempt, POLICY) is expected


def test_zero_max_retries_never_retries():
    assert not should_retry("GET", _status(503), 1, RetryPolicy(max_retries=0))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": "0"}, 0.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:00:00 GMT"}, 0.0),
        ({"Retry-After": "later"}, None),
        ({}, None),
    ],
)
def test_retry_after_seconds(headers, expected):
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(headers, now=now) == expected
    assert retry_after_seconds(httpx.Headers(headers), now=now) == expected


@pytest.mark.parametrize(
    ("attempt", "expected"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]
)
def test_backoff_doubles_up_to_the_cap(attempt, expected):
    policy = RetryPolicy(jitter=False)
    assert backoff_delay(attempt, policy, random.Random(1)) == expected


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 6])
def test_jitter_stays_between_half_and_full(attempt):
    policy = RetryPolicy(jitter=True)
    full = backoff_delay(attempt, RetryPolicy(jitter=False), random.Random(0))
    delays = {backoff_delay(attempt, policy, random.Random(seed)) for seed in range(50)}
    assert all(full / 2 <= d <= full for d in delays)
    assert len(delays) > 40  # spread, not one value


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"max_retries": 1.5}, {"backoff_initial": -0.1}, {"on_retry": "log"}],
)
def test_policy_rejects_bad_settings(kwargs):
    with pytest.raises(InvalidInputError):
        RetryPolicy(**kwargs)


# -- the retry loop, through a fake server ----------------------------------------------

LIST_OK = httpx.Response(200, json={"senders": [sender_json()], "pagination": {"next": None}})
ACCEPTED = httpx.Response(
    202,
    json={
        "operationId": OP_ID,
        "operationLocation": f"https://x.test/SenderPools/Operations/{OP_ID}",
    },
)


def _hooked(**kwargs):
    seen: list[RetryDecision] = []
    return RetryPolicy(jitter=False, on_retry=seen.append, **kwargs), seen


def test_429_waits_what_retry_after_says(fake_api):
    policy, seen = _hooked()
    limited = httpx.Response(429, headers={"Retry-After": "2"}, json=errors_json(20429, "slow"))
    api = fake_api(replies(limited, LIST_OK))
    senders = list(api.client(retry=policy).senders.list())
    assert len(senders) == 1
    assert len(api.requests) == 2
    assert [d.delay for d in seen] == [2.0]
    assert api.sleeps == [2.0]
    assert (seen[0].status, seen[0].attempt, seen[0].method) == (429, 1, "GET")
    assert "Retry-After 2s" in seen[0].reason


def test_huge_retry_after_is_capped(fake_api):
    policy, seen = _hooked(retry_after_cap=60.0)
    limited = httpx.Response(429, headers={"Retry-After": "86400"})
    api = fake_api(replies(limited, LIST_OK))
    list(api.client(retry=policy).senders.list())
    assert [d.delay for d in seen] == [60.0]
    assert api.sleeps == [60.0]


def test_429_without_retry_after_backs_off(fake_api):
    policy, _ = _hooked()
    api = fake_api(replies(httpx.Response(429), httpx.Response(429), LIST_OK))
    list(api.client(retry=policy).senders.list())
    assert api.sleeps == [0.5, 1.0]


def test_503_is_retried_even_for_a_post(fake_api):
    policy, seen = _hooked()
    unavailable = httpx.Response(503, headers={"Retry-After": "1"})
    api = fake_api(replies(unavailable, ACCEPTED))
    op = api.client(retry=policy).sender_pools.create(name="p")
    assert op.id == OP_ID
    assert [r.method for r in api.requests] == ["POST", "POST"]
    assert api.requests[0].content == api.requests[1].content
    assert seen[0].status == 503


def test_500_is_not_retried(fake_api):
    api = fake_api(replies(httpx.Response(500, json=errors_json(20500, "boom"))))
    with pytest.raises(ServerError) as caught:
        list(api.client().senders.list())
    assert len(api.requests) == 1
    assert caught.value.code == 20500
    assert api.sleeps == []


def test_max_retries_is_respected(fake_api):
    policy, seen = _hooked(max_retries=2)
    api = fake_api(replies(httpx.Response(503, headers={"Retry-After": "1"})))
    with pytest.raises(ServiceUnavailableError) as caught:
        api.client(retry=policy).senders.get(SENDER_ID)
    assert len(api.requests) == 3
    assert len(seen) == 2
    assert caught.value.retry_after == 1


def test_rate_limit_error_after_retries_says_how_long_to_wait(fake_api):
    api = fake_api(replies(httpx.Response(429, headers={"Retry-After": "30"})))
    with pytest.raises(RateLimitError) as caught:
        api.client(retry=RetryPolicy(max_retries=0)).senders.get(SENDER_ID)
    assert caught.value.retry_after == 30
    assert len(api.requests) == 1


def test_read_error_on_get_is_retried(fake_api):
    api = fake_api(replies(httpx.ReadError("connection reset"), LIST_OK))
    assert len(list(api.client().senders.list())) == 1
    assert len(api.requests) == 2


def test_dropped_connection_on_post_is_never_resent(fake_api):
    policy, seen = _hooked()
    api = fake_api(replies(httpx.RemoteProtocolError("Server disconnected"), ACCEPTED))
    client = api.client(retry=policy)
    with pytest.raises(CommsConnectionError) as caught:
        client.sender_pools.members.add(POOL_ID, [SENDER_ID])
    assert len(api.requests) == 1
    assert seen == []
    err = caught.value
    assert err.request_sent is True
    assert "may have applied it" in str(err)
    assert err.method == "POST"


def test_read_timeout_on_post_is_a_timeout_error_that_may_have_applied(fake_api):
    api = fake_api(replies(httpx.ReadTimeout("timed out"), ACCEPTED))
    with pytest.raises(CommsTimeoutError) as caught:
        api.client().sender_pools.create(name="p")
    assert len(api.requests) == 1
    assert caught.value.request_sent is True


def test_connect_error_on_post_is_retried(fake_api):
    api = fake_api(replies(httpx.ConnectError("refused"), ACCEPTED))
    op = api.client().sender_pools.create(name="p")
    assert op.id == OP_ID
    assert len(api.requests) == 2


def test_connect_errors_give_up_after_max_retries_and_say_not_sent(fake_api):
    api = fake_api(replies(httpx.ConnectError("refused")))
    with pytest.raises(CommsConnectionError) as caught:
        api.client(retry=RetryPolicy(max_retries=2, jitter=False)).senders.get(SENDER_ID)
    assert len(api.requests) == 3
    assert api.sleeps == [0.5, 1.0]
    assert caught.value.request_sent is False
    assert "not sent" in str(caught.value)
    assert "3 attempts" in str(caught.value)


def test_search_is_a_read_so_a_dropped_post_is_retried(fake_api):
    api = fake_api(replies(httpx.ReadError("reset"), LIST_OK))
    found = list(api.client().senders.search("+14155550000", "SMS"))
    assert len(found) == 1
    assert [r.method for r in api.requests] == ["POST", "POST"]


def test_resolve_is_a_read_so_a_dropped_post_is_retried(fake_api):
    api = fake_api(replies(httpx.ReadTimeout("slow"), httpx.Response(200, json={"results": []})))
    assert api.client().senders.resolve(["+14155550000"]) == []
    assert len(api.requests) == 2


def test_each_decision_is_logged_at_debug(fake_api, caplog):
    api = fake_api(replies(httpx.Response(503, headers={"Retry-After": "1"}), LIST_OK))
    with caplog.at_level(logging.DEBUG, logger="commstoolkit.client"):
        list(api.client().senders.list())
    lines = [r.getMessage() for r in caplog.records if r.name == "commstoolkit.client"]
    assert any("503" in line and "retry 1/3" in line for line in lines)
    assert any(line.endswith("-> 200") for line in lines)


def test_secret_never_reaches_logs_or_errors(fake_api, caplog):
    api = fake_api(
        replies(
            httpx.Response(503),
            httpx.RemoteProtocolError(f"odd failure mentioning {TOKEN}"),
        )
    )
    client = api.client()
    with caplog.at_level(logging.DEBUG), pytest.raises(CommsConnectionError) as caught:
        client.sender_pools.create(name="p", sender_ids=[SENDER_ID])
    assert api.requests[0].headers["Authorization"].startswith("Basic ")
    encoded = api.requests[0].headers["Authorization"].split()[1]
    texts = [str(caught.value), repr(caught.value), repr(client)]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        assert TOKEN not in text
        assert encoded not in text
    assert caught.value.__cause__ is None
