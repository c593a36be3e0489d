"""The sandbox's own error catalogue: what the API answers when a request cannot be served.

Codes and messages are data (moto's ``exceptions`` module, in spirit). The four codes the spec
shows (20404, 20429, 20500, 20503) and the 401 body of comms-api.md §11 (20003) are used as is;
the others follow the same "20 + HTTP status" pattern and are sandbox choices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

INFO_URL = "https://www.twilio.com/docs/errors/{code}"

# status -> (code, default message)
CATALOGUE: dict[int, tuple[int, str]] = {
    400: (20400, "Invalid request."),
    401: (20003, "Authentication failed"),
    404: (20404, "The resource was not found."),
    405: (20405, "Method not allowed."),
    413: (20413, "Request body too large."),
    429: (20429, "Too many requests. Please retry according to the Retry-After response header."),
    500: (20500, "Internal server error."),
    503: (20503, "Service unavailable."),
}

REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class ErrorItem:
    """One entry of the ``errors[]`` envelope."""

    code: int
    message: str
    context: str | None = None

    def to_wire(self) -> dict[str, object]:
        """The camelCase dict the API sends."""
        return {
            "code": self.code,
            "message": self.message,
            "infoUrl": INFO_URL.format(code=self.code),
            "context": self.context,
        }


def code_for(status: int) -> int:
    """The error code the sandbox uses for an HTTP status (``20000 + status`` when unlisted)."""
    return CATALOGUE.get(status, (20000 + status, ""))[0]


def message_for(status: int) -> str:
    """The default message for an HTTP status."""
    return CATALOGUE.get(status, (0, REASONS.get(status, "Error.")))[1]


class ApiError(Exception):
    """An HTTP error answer: status plus one or more ``errors[]`` items."""

    def __init__(self, status: int, items: list[ErrorItem], headers: dict[str, str] | None = None):
        super().__init__(items[0].message if items else message_for(status))
        self.status = status
        self.items = items
        self.headers = headers or {}

    def body(self) -> bytes:
        """The JSON body of the answer."""
        errors = [item.to_wire() for item in self.items]
        return json.dumps({"errors": errors}, separators=(",", ":")).encode()


def error(status: int, message: str | None = None, context: str | None = None) -> ApiError:
    """An ``ApiError`` with a single item, code chosen from the status."""
    return ApiError(status, [ErrorItem(code_for(status), message or message_for(status), context)])


def invalid(message: str, context: str | None) -> ApiError:
    """A 400 naming the offending field (JSON path) or query parameter in ``context``."""
    return error(400, message, context)


def not_found(message: str, context: str | None = None) -> ApiError:
    """A 404 with code 20404."""
    return error(404, message, context)


def unauthorized() -> ApiError:
    """The 401 of comms-api.md §11."""
    return ApiError(
        401,
        [ErrorItem(20003, "Authentication failed")],
        {"WWW-Authenticate": 'Basic realm="Twilio API"'},
    )
