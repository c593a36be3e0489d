"""Reading an HTTP error answer into the exception tree of ``commstoolkit.errors``.

``error_from_response(response)`` turns an error response into the right ``APIError``;
``parse_retry_after`` reads a ``Retry-After`` value, ``safe_url`` drops the credentials of a
URL and ``body_snippet`` quotes the start of a body for a message. This is the httpx side of
the errors: ``commstoolkit.errors`` itself knows no HTTP library.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import httpx

from commstoolkit.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorDetail,
    NotFoundError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
)

__all__ = ["body_snippet", "error_from_response", "parse_retry_after", "safe_url"]

_SNIPPET_CHARS = 200

_STATUS_CLASSES: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def error_from_response(response: httpx.Response) -> APIError:
    """Build the ``APIError`` subclass matching ``response.status_code``.

    Parses the ``{"errors": [{code, message, infoUrl, context}]}`` body, or the classic
    Twilio body ``{code, message, more_info, status}`` (Event Streams); a body in neither
    shape still gives a typed error carrying the status and a short snippet.
    """
    status = response.status_code
    if status in _STATUS_CLASSES:
        cls = _STATUS_CLASSES[status]
    elif status >= 500:
        cls = ServerError
    elif status >= 400:
        cls = BadRequestError
    else:
        cls = APIError
    errors = _parse_error_body(response)
    method, url = _request_line(response)
    return cls(
        status,
        errors=errors,
        message=None if errors else f"unexpected response body: {body_snippet(response)}",
        method=method,
        url=url,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _parse_error_body(response: httpx.Response) -> tuple[ErrorDetail, ...]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return ()
    if not isinstance(body, Mapping):
        return ()
    entries = body.get("errors")
    if not isinstance(entries, list):
        return _classic_error(body)
    return tuple(_error_detail(entry) for entry in entries if isinstance(entry, Mapping))


def _error_detail(entry: Mapping[str, Any]) -> ErrorDetail:
    code = entry.get("code")
    context = entry.get("context")
    info_url = entry.get("infoUrl")
    return ErrorDetail(
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        message=str(entry.get("message") or ""),
        info_url=info_url if isinstance(info_url, str) else None,
        # The spec's own examples write the string "null" for "no context".
        context=context if isinstance(context, str) and context != "null" else None,
    )


def _classic_error(body: Mapping[str, Any]) -> tuple[ErrorDetail, ...]:
    """The classic Twilio REST error ``{code, message, more_info, status}`` as one detail."""
    message = body.get("message")
    if not isinstance(message, str) or "code" not in body:
        return ()
    info_url = body.get("more_info")
    code = body.get("code")
    return (
        ErrorDetail(
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            message=message,
            info_url=info_url if isinstance(info_url, str) else None,
        ),
    )


def body_snippet(response: httpx.Response) -> str:
    """The start of a response body on one line, quoted, for an error message."""
    text = " ".join(response.text.split())
    if not text:
        return "(empty)"
    if len(text) > _SNIPPET_CHARS:
        text = text[:_SNIPPET_CHARS] + "…"
    return repr(text)


def _request_line(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        request = response.request
    except RuntimeError:
        return None, None
    return request.method, safe_url(request.url)


def safe_url(url: httpx.URL | str) -> str:
    """Return ``url`` as text with any user:password part removed."""
    return str(httpx.URL(url).copy_with(userinfo=b""))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP date).

    None when absent or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until_http_date(value, now)
    return seconds if seconds >= 0 and seconds != float("inf") else None


def _seconds_until_http_date(value: str, now: datetime | None) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())
