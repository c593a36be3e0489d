"""Request and response objects shared by the in-process transport and the server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .exceptions import ApiError

JSON_TYPE = "application/json"


@dataclass
class Request:
    """An HTTP request as the sandbox sees it (header names lowercase)."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    scheme: str = "https"
    host: str = "sandbox.comms.invalid"


@dataclass
class Response:
    """An HTTP answer plus what a fault rule asks the transport to do with it.

    ``drop``: None, "before" (nothing was processed) or "after" (processed, then the connection
    is cut). ``latency``: seconds to wait before answering.
    """

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: str | None = None
    latency: float = 0.0


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})


def error_response(err: ApiError) -> Response:
    """The ``errors[]`` answer of an ``ApiError``."""
    return Response(err.status, err.body(), {"Content-Type": JSON_TYPE, **err.headers})
