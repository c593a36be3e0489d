"""The one exception tree of commstoolkit.

Every error the toolkit raises on purpose is a ``CommsError``::

    CommsError
     ├── InvalidInputError(CommsError, ValueError)  bad argument, caught before any request
     ├── ConfigurationError                          credentials / base URL / sandbox file
     │    └── SandboxStateError                      a reseed would discard the user's work
     ├── TransportError                              no HTTP answer; .request_sent
     │    ├── CommsConnectionError                   connection refused, reset, dropped
     │    └── CommsTimeoutError                      connect / read / pool timeout
     ├── APIError                                    the API answered with an error status
     │    ├── BadRequestError                        400, and other 4xx not below
     │    ├── AuthenticationError                    401, 403
     │    ├── NotFoundError                          404
     │    ├── ConflictError                          409
     │    ├── RateLimitError                         429 (.retry_after)
     │    ├── ServerError                            500 and other 5xx
     │    └── ServiceUnavailableError                503 (.retry_after)
     ├── UnexpectedResponseError                     a success answer the client cannot read
     └── OperationError                              .operation
          └── OperationTimeoutError                  wait() gave up before the operation ended

``error_from_response(response)`` turns an error response into the right ``APIError``.
Messages are one readable line and never hold a secret: URLs carry no credentials and
request headers are never included.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from commstoolkit.models import Operation

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "CommsConnectionError",
    "CommsError",
    "CommsTimeoutError",
    "ConfigurationError",
    "ConflictError",
    "ErrorDetail",
    "InvalidInputError",
    "NotFoundError",
    "OperationError",
    "OperationTimeoutError",
    "RateLimitError",
    "SandboxStateError",
    "ServerError",
    "ServiceUnavailableError",
    "TransportError",
    "UnexpectedResponseError",
    "body_snippet",
    "error_from_response",
    "parse_retry_after",
    "safe_url",
]

_SNIPPET_CHARS = 200


class CommsError(Exception):
    """Base class of every error commstoolkit raises on purpose."""


class InvalidInputError(CommsError, ValueError):
    """An argument is invalid; raised before any request is sent.

    ``field`` names the argument, ``allowed`` describes what is accepted (a tuple of values,
    a pattern or a range), or is None.
    """

    def __init__(self, message: str, *, field: str, allowed: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.allowed = allowed


class ConfigurationError(CommsError):
    """Credentials, base URL or the sandbox file are missing or unusable."""


class SandboxStateError(ConfigurationError):
    """The sandbox file holds the user's own work since it was seeded (pools made or changed,
    messages sent) and another seed or size was asked for without ``reset=True``; nothing was
    touched. ``db``: the file; ``changes``: what it holds, in words ("2 pools made or
    changed, 40 messages sent (1 send)"). Pass ``reset=True`` (command line: ``--reset``) to
    discard it, or use another ``db``.
    """

    def __init__(self, message: str, *, db: str, changes: str) -> None:
        super().__init__(message)
        self.db = db
        self.changes = changes


class TransportError(CommsError):
    """No HTTP answer was received (connection failed, dropped or timed out).

    ``request_sent`` says whether the server may have received the request: False when it
    surely did not (connect failed), True when it may have (and may have applied it), None
    when unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        request_sent: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.request_sent = request_sent


class CommsConnectionError(TransportError):
    """The connection could not be made, or broke before an answer arrived."""


class CommsTimeoutError(TransportError):
    """Connecting, waiting for a pooled connection, or reading the answer timed out."""


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of the API's ``errors[]`` list."""

    code: int | None
    message: str
    info_url: str | None = None
    context: str | None = None


class APIError(CommsError):
    """The API answered with an error status.

    Attributes: ``status`` (HTTP status), ``code`` / ``message`` / ``info_url`` / ``context``
    (from the first entry of the body's ``errors[]``), ``errors`` (all entries, as
    ``ErrorDetail``), ``method`` and ``url`` (without credentials), ``retry_after`` (seconds
    the server asked to wait, from ``Retry-After``; None when absent).
    """

    def __init__(
        self,
        status: int,
        *,
        errors: tuple[ErrorDetail, ...] = (),
        message: str | None = None,
        method: str | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        first = errors[0] if errors else None
        self.status = status
        self.errors = list(errors)
        self.code = first.code if first else None
        self.message = message if message is not None else (first.message if first else "")
        self.info_url = first.info_url if first else None
        self.context = first.context if first else None
        self.method = method
        self.url = url
        self.retry_after = retry_after
        super().__init__(self._describe())

    @property
    def reason(self) -> str:
        """The HTTP reason phrase of ``status`` ("Not Found")."""
        return httpx.codes.get_reason_phrase(self.status)

    def _describe(self) -> str:
        text = f"{self.status} {self.reason}".rstrip()
        if self.code is not None:
            text += f" (code {self.code})"
        if self.message:
            text += f": {self.message}"
        if self.context:
            text += f" (at {self.context})"
        if len(self.errors) > 1:
            more = len(self.errors) - 1
            text += f" (+{more} more error{'s' if more > 1 else ''})"
        if self.retry_after is not None:
            text += f" (retry after {self.retry_after:g}s)"
        if self.method and self.url:
            text += f" [{self.method} {httpx.URL(self.url).path}]"
        if self.info_url:
            text += f" — {self.info_url}"
        return text


class BadRequestError(APIError):
    """400, or another 4xx without a class of its own: the request was rejected as invalid."""


class AuthenticationError(APIError):
    """401 or 403: the credentials were refused."""


class NotFoundError(APIError):
    """404: the resource does not exist (or is not visible to this account)."""


class ConflictError(APIError):
    """409: the request conflicts with the resource's current state."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` is how long the server asked to wait."""


class ServerError(APIError):
    """500 and other 5xx: the API failed; a 500 is never retried automatically."""


class ServiceUnavailableError(APIError):
    """503: the API is temporarily unavailable; ``retry_after`` as sent by the server."""


class UnexpectedResponseError(CommsError):
    """A success answer the client cannot read (not JSON, missing fields, foreign links)."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None):
        where = f" [{method} {httpx.URL(url).path}]" if method and url else ""
        super().__init__(message + where)
        self.method = method
        self.url = url


class OperationError(CommsError):
    """An asynchronous operation did not end as hoped; ``operation`` is its last known state."""

    def __init__(self, message: str, *, operation: Operation | None = None) -> None:
        super().__init__(message)
        self.operation = operation


class OperationTimeoutError(OperationError):
    """``wait()`` timed out while the operation was still running."""


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

    Parses the ``{"errors": [{code, message, infoUrl, context}]}`` body; a body that is not
    in that shape still gives a typed error carrying the status and a short snippet.
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
    entries = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(entries, list):
        return ()
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
