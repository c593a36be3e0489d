from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from commstoolkit.client.responses import error_from_response, parse_retry_after
from commstoolkit.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    CommsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
)

POOL_URL = "https://comms.twilio.com/v1/SenderPools/comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"


def _response(status, body=None, *, content=None, headers=None, url=POOL_URL, method="GET"):
    request = httpx.Request(method, url)
    if content is not None:
        return httpx.Response(status, content=content, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def _errors_body(code, message, context=None, info_url=None):
    info_url = info_url or f"https://www.twilio.com/docs/errors/{code}"
    return {"errors": [{"code": code, "message": message, "infoUrl": info_url, "context": context}]}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServiceUnavailableError),
        (504, ServerError),
    ],
)
def test_class_is_chosen_from_status(status, cls):
    err = error_from_response(_response(status, _errors_body(20000 + status, "boom")))
    assert type(err) is cls
    assert isinstance(err, APIError)
    assert isinstance(err, CommsError)
    assert err.status == status


def test_fields_are_parsed_from_errors_body():
    body = _errors_body(21614, "Not a valid phone number", context="$.to[0].address")
    body["errors"].append(
        {
            "code": 21617,
            "message": "Text too long",
            "infoUrl": "https://x.test/21617",
            "context": None,
        }
    )
    err = error_from_response(_response(400, body, method="POST"))
    assert (err.code, err.message, err.context) == (
        21614,
        "Not a valid phone number",
        "$.to[0].address",
    )
    assert err.info_url == "https://www.twilio.com/docs/errors/21614"
    assert [e.code for e in err.errors] == [21614, 21617]
    assert err.errors[1].context is None
    assert (err.method, err.url) == ("POST", POOL_URL)


def test_str_is_one_readable_line():
    err = error_from_response(_response(404, _errors_body(20404, "Sender pool not found")))
    assert str(err) == (
        "404 Not Found (code 20404): Sender pool not found "
        "[GET /v1/SenderPools/comms_senderpool_01h9krwprkeee8fzqspvwy6nq8] "
        "— https://www.twilio.com/docs/errors/20404"
    )
    assert "\n" not in str(err)


def test_str_mentions_context_and_extra_errors():
    body = _errors_body(21614, "Invalid phone", context="$.to[0].address")
    body["errors"].append(dict(body["errors"][0], context="$.to[1].address"))
    text = str(error_from_response(_response(400, body)))
    assert "(at $.to[0].address)" in text
    assert "(+1 more error)" in text


def test_spec_null_string_context_means_no_context():
    err = error_from_response(_response(404, _errors_body(20404, "Not Found", context="null")))
    assert err.context is None
    assert "null" not in str(err)


@pytest.mark.parametrize(
    "content",
    [b"<html><body>Bad gateway</body></html>", b"", b'{"errors": "nope"}', b"[1, 2]", b"\xff\xfe"],
)
def test_unreadable_body_still_gives_typed_error_with_snippet(content):
    err = error_from_response(_response(502, content=content))
    assert isinstance(err, ServerError)
    assert err.status == 502
    assert err.code is None
    assert err.message
    assert str(err).startswith("502 Bad Gateway: ")


def test_snippet_is_short():
    err = error_from_response(_response(500, content=b"x" * 10_000))
    assert len(str(err)) < 400


def test_url_credentials_are_dropped():
    err = error_from_response(
        _response(
            404, _errors_body(20404, "x"), url="https://AC1:hunter2@comms.twilio.com/v1/Senders"
        )
    )
    assert "hunter2" not in err.url
    assert "hunter2" not in str(err)
    assert "hunter2" not in repr(err)


def test_rate_limit_error_carries_retry_after():
    err = error_from_response(
        _response(429, _errors_body(20429, "Too many requests"), headers={"Retry-After": "7"})
    )
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 7
    assert "retry after 7s" in str(err)


def test_response_without_request_still_maps():
    err = error_from_response(httpx.Response(503, json=_errors_body(20503, "Unavailable")))
    assert isinstance(err, ServiceUnavailableError)
    assert err.method is None and err.url is None
    assert err.retry_after is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("-1", None),
        ("soon", None),
        ("inf", None),
        (None, None),
    ],
)
def test_parse_retry_after(value, expected):
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)
    assert parse_retry_after(value, now=now) == expected


def test_invalid_input_error_is_a_value_error_naming_the_field():
    err = InvalidInputError("page_size: 0 is out of range", field="page_size", allowed=(1, 1000))
    assert isinstance(err, ValueError)
    assert (err.field, err.allowed) == ("page_size", (1, 1000))


def test_reason_phrases_are_the_ones_httpx_gives_without_httpx():
    # errors.py knows no HTTP library; its phrases still match httpx's on every Python.
    for status in range(100, 600):
        assert APIError(status).reason == httpx.codes.get_reason_phrase(status), status


@pytest.mark.parametrize(
    "url",
    [
        POOL_URL,
        "https://comms.twilio.com",
        "https://comms.twilio.com/v1/Senders?pageSize=50#x",
        "https://comms.twilio.com/v1/a%20b/c%2Fd",
        "http://127.0.0.1:8000/v1/Messages",
    ],
)
def test_messages_show_the_path_httpx_gives(url):
    err = APIError(404, message="gone", method="GET", url=url)
    assert str(err).endswith(f"[GET {httpx.URL(url).path}]")


def test_transport_errors_are_named_by_their_family_and_are_the_builtins_too():
    import commstoolkit as ct
    from commstoolkit import errors

    # The earlier names are the very same classes, from the package and from errors.
    assert ct.CommsConnectionError is ct.TransportConnectionError
    assert errors.CommsConnectionError is errors.TransportConnectionError
    assert ct.CommsTimeoutError is ct.TransportTimeoutError
    assert errors.CommsTimeoutError is errors.TransportTimeoutError
    for cls, builtin in (
        (ct.TransportConnectionError, ConnectionError),
        (ct.TransportTimeoutError, TimeoutError),
    ):
        assert issubclass(cls, ct.TransportError) and issubclass(cls, ct.CommsError)
        error = cls("GET /v1/Senders: timed out", method="GET", url="u", request_sent=False)
        with pytest.raises(builtin) as caught:
            raise error
        assert caught.value.request_sent is False and caught.value.method == "GET"
        assert str(error) == "GET /v1/Senders: timed out"
