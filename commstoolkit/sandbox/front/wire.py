"""Request and response objects shared by the in-process transport and the server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..exceptions import ApiError
from ..state.query import JsonList

JSON_TYPE = "application/json"
# Every answer of the sandbox (in-process or over HTTP) says what it is: clients and people can
# tell a local sandbox server from Twilio. Nothing secret in it.
SANDBOX_HEADER = "X-Commstoolkit-Sandbox"
SANDBOX_HEADER_VALUE = "1"


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
    return Response(status, _encode(payload), {"Content-Type": JSON_TYPE, **(headers or {})})


def _encode(payload: object) -> bytes:
    if not isinstance(payload, dict) or not any(isinstance(v, JsonList) for v in payload.values()):
        return _compact(payload).encode()
    members = (
        f"{json.dumps(key)}:"
        + ("[" + ",".join(value) + "]" if isinstance(value, JsonList) else _compact(value))
        for key, value in payload.items()
    )
    return ("{" + ",".join(members) + "}").encode()


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def error_response(err: ApiError) -> Response:
    """The ``errors[]`` answer of an ``ApiError``."""
    return Response(err.status, err.body(), {"Content-Type": JSON_TYPE, **err.headers})
