"""The client against the sandbox's fault rules: retries as design.md §7 promises.

In-process (the sandbox's own transport) and over real HTTP (a uvicorn server on
loopback). Requests are counted on the wire, so "not retried" and "not duplicated"
are facts the sandbox saw, not what the client believes it did.
"""

from __future__ import annotations

import httpx
import pytest

import commstoolkit as ct
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import run_server
from tests.transports import CountingTransport


@pytest.fixture
def sandbox():
    box = Sandbox(":memory:", seed=5, senders=120)
    box.clock.instant = True
    yield box
    box.close()


def _client(sandbox, transport, decisions, slept, **retry):
    return ct.CommsClient(
        account_sid=sandbox.account_sid,
        auth_token=sandbox.auth_token,
        base_url=sandbox.base_url,
        transport=transport,
        retry=ct.RetryPolicy(on_retry=decisions.append, jitter=False, **retry),
        sleep=slept.append,
        live=False,
    )


@pytest.fixture
def wired(sandbox):
    transport = CountingTransport(sandbox.transport())
    decisions, slept = [], []
    with _client(sandbox, transport, decisions, slept) as client:
        yield client, transport, decisions, slept


def _pools_named(sandbox, name):
    """Pools with this name, read straight from the sandbox over its raw HTTP API."""
    return [p for p in _raw_pools(sandbox) if p["name"] == name]


def _raw_pools(sandbox):
    with httpx.Client(
        transport=sandbox.transport(), base_url=sandbox.base_url, auth=sandbox.credentials()
    ) as raw:
        return raw.get("/SenderPools", params={"pageSize": 1000}).json()["senderPools"]


def test_retry_after_is_honoured_and_reported_to_the_hook(sandbox, wired):
    client, transport, decisions, slept = wired
    sandbox.faults.add("GET /Senders", status=429, retry_after=2, times=1)
    senders = list(client.senders.list())
    assert len(senders) == 120
    assert transport.count("GET", "/Senders") == 2
    assert [d.delay for d in decisions] == [2.0]
    assert decisions[0].status == 429 and decisions[0].retry
    assert slept == [2.0]


def test_retry_after_is_capped(sandbox):
    transport = CountingTransport(sandbox.transport())
    decisions, slept = [], []
    sandbox.faults.add("GET /Senders", status=503, retry_after=3600, times=1)
    with _client(sandbox, transport, decisions, slept, retry_after_cap=5.0) as client:
        assert len(list(client.senders.list())) == 120
    assert slept == [5.0]


def test_a_500_is_not_retried(sandbox, wired):
    client, transport, decisions, _ = wired
    sandbox.faults.add("GET /Senders", status=500)
    with pytest.raises(ct.ServerError) as caught:
        list(client.senders.list())
    assert transport.count("GET", "/Senders") == 1
    assert caught.value.status == 500 and caught.value.code == 20500
    assert decisions == []  # the hook hears of retries only, and there was none


def test_persistent_503_gives_up_after_max_retries(sandbox, wired):
    client, transport, decisions, _ = wired
    sandbox.faults.add("GET /Senders", status=503, retry_after=1)
    with pytest.raises(ct.ServiceUnavailableError):
        list(client.senders.list())
    assert transport.count("GET", "/Senders") == 4  # 1 + max_retries (3): no storm
    assert [(d.retry, d.attempt) for d in decisions] == [(True, 1), (True, 2), (True, 3)]


def test_a_dropped_connection_on_a_read_is_retried(sandbox, wired):
    client, transport, _, _ = wired
    sandbox.faults.add("GET /Senders", drop="before", times=1)
    assert len(list(client.senders.list())) == 120
    assert transport.count("GET", "/Senders") == 2


def test_a_post_that_may_have_been_applied_is_never_resent(sandbox, wired):
    client, transport, _, _ = wired
    sandbox.faults.add("POST /SenderPools", drop="after", times=1)
    with pytest.raises(ct.CommsConnectionError) as caught:
        client.sender_pools.create(name="dropped-after-commit")
    assert caught.value.request_sent is True
    assert transport.count("POST", "/SenderPools") == 1
    assert len(_pools_named(sandbox, "dropped-after-commit")) == 1  # applied exactly once


def test_a_refused_post_is_retried_once_and_applied_once(sandbox, wired):
    client, transport, decisions, _ = wired
    sandbox.faults.add("POST /SenderPools", status=503, retry_after=1, times=1)
    operation = client.sender_pools.create(name="refused-then-accepted")
    assert client.wait(operation).status == "COMPLETED"
    assert transport.count("POST", "/SenderPools") == 2
    assert len(_pools_named(sandbox, "refused-then-accepted")) == 1
    assert decisions[0].status == 503


def test_a_post_timeout_is_not_resent(sandbox):
    transport = CountingTransport(sandbox.transport())
    sandbox.faults.add("POST /SenderPools", latency=5.0, times=1)
    client = ct.CommsClient(
        account_sid=sandbox.account_sid,
        auth_token=sandbox.auth_token,
        base_url=sandbox.base_url,
        transport=transport,
        timeout=0.2,
        sleep=lambda s: None,
        live=False,
    )
    with client, pytest.raises(ct.CommsTimeoutError) as caught:
        client.sender_pools.create(name="slow-post")
    assert caught.value.request_sent is True
    assert transport.count("POST", "/SenderPools") == 1
    assert len(_pools_named(sandbox, "slow-post")) == 1


def test_over_real_http_drops_and_refusals_behave_the_same(sandbox):
    decisions, slept = [], []
    with run_server(sandbox) as server:
        client = ct.CommsClient(
            account_sid=sandbox.account_sid,
            auth_token=sandbox.auth_token,
            base_url=server.base_url,
            live=True,
            sleep=slept.append,
            retry=ct.RetryPolicy(on_retry=decisions.append, jitter=False),
        )
        with client:
            sandbox.faults.add("GET /Senders", drop="before", times=1)
            assert len(list(client.senders.list())) == 120
            sandbox.faults.add("POST /SenderPools", drop="after", times=1)
            with pytest.raises(ct.CommsConnectionError) as caught:
                client.sender_pools.create(name="http-drop")
            assert caught.value.request_sent is True
            sandbox.faults.add("GET /SenderPools/Operations", status=429, retry_after=1, times=1)
            pool_id = next(iter(client.sender_pools.list())).id
            with pytest.raises(ct.NotFoundError):
                client.sender_pools.get(pool_id.replace(pool_id[-4:], "zzzz"))
    assert len(_pools_named(sandbox, "http-drop")) == 1
    assert decisions[0].retry and decisions[0].status is None  # the dropped read


def test_wrong_credentials_are_an_authentication_error(sandbox):
    client = ct.CommsClient(
        account_sid=sandbox.account_sid,
        auth_token="wrong-token",
        base_url=sandbox.base_url,
        transport=sandbox.transport(),
        live=False,
    )
    with client, pytest.raises(ct.AuthenticationError) as caught:
        client.senders.get("comms_sender_01h9krwprkeee8fzqspvwy6nq8")
    assert caught.value.status == 401 and caught.value.code == 20003
    assert "wrong-token" not in str(caught.value)


def test_server_side_validation_reaches_the_user_as_a_clear_error(sandbox, wired):
    client, _, _, _ = wired
    with pytest.raises(ct.NotFoundError) as caught:
        client.sender_pools.get("comms_senderpool_01h9krwprkeee8fzqspvwy6nq8")
    assert caught.value.code == 20404
    assert "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8" in str(caught.value)
