"""The one exception tree of commstoolkit.

Every error the toolkit raises on purpose is a ``CommsError``::

    CommsError
     ├── InvalidInputError(CommsError, ValueError)  bad argument, caught before any request
     ├── ConfigurationError                          credentials / base URL / sandbox file
     │    └── SandboxStateError                      a reseed would discard the user's work
     ├── TransportError                              no HTTP answer; .request_sent
     │    ├── TransportConnectionError               connection refused, reset, dropped
     │    └── TransportTimeoutError                  connect / read / pool timeout
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

Each name says its family (``TransportError`` -> ``TransportConnectionError``, as
``OperationError`` -> ``OperationTimeoutError``); the two transport errors are also the
builtin ``ConnectionError`` / ``TimeoutError`` (``except TimeoutError`` catches a timed-out
request). ``CommsConnectionError`` / ``CommsTimeoutError``, their names before, are the same
classes.

Messages are one readable line and never hold a secret: URLs carry no credentials and
request headers are never included. This module knows no HTTP library: reading an error
response into this tree (``error_from_response``, ``parse_retry_after``, ``safe_url``) is the
client's, in ``commstoolkit.client.responses``.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

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
    "TransportConnectionError",
    "TransportError",
    "TransportTimeoutError",
    "UnexpectedResponseError",
]

# The phrases httpx gives (and messages have always shown) where Python's own differ: 3.13
# renamed 413, 416 and 422 after RFC 9110.
_REASON_PHRASES = {
    413: "Request Entity Too Large",
    416: "Requested Range Not Satisfiable",
    418: "I'm a teapot",
    422: "Unprocessable Entity",
}


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


class TransportConnectionError(TransportError, ConnectionError):
    """The connection could not be made, or broke before an answer arrived.

    Also a builtin ``ConnectionError``; ``CommsConnectionError`` is its earlier name.
    """


class TransportTimeoutError(TransportError, TimeoutError):
    """Connecting, waiting for a pooled connection, or reading the answer timed out.

    Also a builtin ``TimeoutError``; ``CommsTimeoutError`` is its earlier name.
    """


# The earlier names: the same classes, so code catching them keeps working.
CommsConnectionError = TransportConnectionError
CommsTimeoutError = TransportTimeoutError


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
        return _reason_phrase(self.status)

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
            text += f" [{self.method} {_url_path(self.url)}]"
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
        where = f" [{method} {_url_path(url)}]" if method and url else ""
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


def _reason_phrase(status: int) -> str:
    """The HTTP reason phrase of ``status``; "" for a status without one."""
    if status in _REASON_PHRASES:
        return _REASON_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _url_path(url: str) -> str:
    """The path of ``url``, percent-decoded ("/" when it has none), for a message."""
    return unquote(urlsplit(url).path) or "/"
