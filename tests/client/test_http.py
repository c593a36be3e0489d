"""Client configuration, authentication, error mapping and secret hygiene."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from commstoolkit.client import DEFAULT_BASE_URL, PREVIEW_BASE_URL, CommsClient
from commstoolkit.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    UnexpectedResponseError,
)

from .conftest import POOL_ID, SENDER_ID, SID, TOKEN, errors_json, replies, sender_json


def _client(**kwargs):
    transport = httpx.MockTransport(replies(httpx.Response(200, json=sender_json())))
    return CommsClient(transport=transport, **kwargs)


def test_base_urls():
    assert DEFAULT_BASE_URL == "https://comms.twilio.com/v1"
    assert PREVIEW_BASE_URL == "https://comms.twilio.com/preview"
    assert _client(account_sid=SID, auth_token=TOKEN).base_url == DEFAULT_BASE_URL


def test_requests_use_basic_auth_with_the_account_pair(fake_api):
    api = fake_api(replies(httpx.Response(200, json=sender_json())))
    api.client().senders.get(SENDER_ID)
    request = api.requests[0]
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    )
    assert str(request.url) == f"https://comms.twilio.com/v1/Senders/{SENDER_ID}"
    assert request.headers["Accept"] == "application/json"


def test_api_key_pair_is_used_when_given():
    seen = []

    def handler(request):
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json=sender_json())

    client = CommsClient(
        account_sid=SID,
        api_key="SK123",
        api_secret="s3cret",
        transport=httpx.MockTransport(handler),
    )
    client.senders.get(SENDER_ID)
    assert seen == ["Basic " + base64.b64encode(b"SK123:s3cret").decode()]


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({}, "no credentials"),
        ({"account_sid": SID}, "auth_token"),
        ({"auth_token": TOKEN}, "account_sid"),
        ({"api_key": "SK1"}, "api_secret"),
        ({"account_sid": SID, "auth_token": "  "}, "auth_token"),
    ],
)
def test_missing_credentials_are_a_configuration_error(kwargs, missing):
    with pytest.raises(ConfigurationError, match=missing):
        _client(**kwargs)


def test_unsendable_credentials_are_refused_without_echoing_them():
    with pytest.raises(ConfigurationError) as caught:
        _client(account_sid=SID, auth_token=TOKEN + "\nX-Evil: 1")
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "base_url",
    [
        "https://comms.twilio.com/v1",
        "https://sandbox.comms.invalid/v1/",
        "http://localhost:8787/v1",
        "http://127.0.0.1:8787/v1",
        "http://127.5.0.1/v1",
        "http://[::1]:8787/v1",
    ],
)
def test_https_or_loopback_http_is_accepted(base_url):
    client = _client(account_sid=SID, auth_token=TOKEN, base_url=base_url)
    assert client.base_url == base_url.rstrip("/")


@pytest.mark.parametrize(
    "base_url",
    [
        "http://comms.twilio.com/v1",
        "http://10.0.0.5:8787/v1",
        "http://localhost.evil.test/v1",
        "ftp://comms.twilio.com/v1",
        "comms.twilio.com/v1",
        "https://user:pw@comms.twilio.com/v1",
    ],
)
def test_other_base_urls_are_refused(base_url):
    with pytest.raises(ConfigurationError) as caught:
        _client(account_sid=SID, auth_token=TOKEN, base_url=base_url)
    assert "pw" not in str(caught.value)


def test_timeout_must_be_positive():
    with pytest.raises(ConfigurationError, match="timeout"):
        _client(account_sid=SID, auth_token=TOKEN, timeout=0)


def test_repr_shows_mode_and_url_but_no_secret():
    client = _client(account_sid=SID, auth_token=TOKEN)
    text = repr(client)
    assert text == "CommsClient(live, base_url='https://comms.twilio.com/v1')"
    for part in (client, client.senders, client.sender_pools, client.sender_pools.members):
        assert TOKEN not in repr(part)
    assert TOKEN not in repr(vars(client))


def test_sandbox_attributes_default():
    client = _client(account_sid=SID, auth_token=TOKEN, live=False)
    assert client.live is False
    assert client.sandbox is None
    assert repr(client).startswith("CommsClient(sandbox,")


def test_context_manager_closes():
    with _client(account_sid=SID, auth_token=TOKEN) as client:
        client.senders.get(SENDER_ID)
    with pytest.raises(RuntimeError):
        client.senders.get(SENDER_ID)


def test_error_status_becomes_typed_error(fake_api):
    api = fake_api(replies(httpx.Response(404, json=errors_json(20404, "Sender pool not found"))))
    with pytest.raises(NotFoundError) as caught:
        api.client().sender_pools.get(POOL_ID)
    err = caught.value
    assert (err.status, err.code, err.method) == (404, 20404, "GET")
    assert err.url == f"https://comms.twilio.com/v1/SenderPools/{POOL_ID}"
    assert str(err).startswith("404 Not Found (code 20404): Sender pool not found [GET /v1/")


def test_401_is_an_authentication_error_without_secret(fake_api, caplog):
    api = fake_api(replies(httpx.Response(401, json=errors_json(20003, "Authentication failed"))))
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as caught:
        api.client().senders.get(SENDER_ID)
    assert len(api.requests) == 1
    for text in [str(caught.value), repr(caught.value), *(r.getMessage() for r in caplog.records)]:
        assert TOKEN not in text


@pytest.mark.parametrize("content", [b"<html>oops</html>", b'{"truncated": ', b""])
def test_success_with_unreadable_body_is_unexpected_response(fake_api, content):
    api = fake_api(replies(httpx.Response(200, content=content)))
    with pytest.raises(UnexpectedResponseError, match="not JSON"):
        api.client().senders.get(SENDER_ID)


def test_success_with_missing_fields_is_unexpected_response(fake_api):
    api = fake_api(replies(httpx.Response(200, json={"id": SENDER_ID})))
    with pytest.raises(UnexpectedResponseError, match=r"unreadable sender.*address"):
        api.client().senders.get(SENDER_ID)
