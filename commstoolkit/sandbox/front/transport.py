"""The in-process ``httpx`` transport: requests go straight to the sandbox, no sockets."""

from __future__ import annotations

import time

import httpx

from ..exceptions import REASONS
from .dispatch import handle
from .routing import Account
from .wire import Request


class SandboxTransport(httpx.BaseTransport):
    """Serves httpx requests from a ``Sandbox``, faults included.

    A dropped connection raises ``httpx.RemoteProtocolError``; a latency longer than the
    request's read timeout waits that timeout and raises ``httpx.ReadTimeout`` (the request
    was processed, as it would be by a real server).
    """

    def __init__(self, sandbox: Account) -> None:
        self.sandbox = sandbox

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        answer = handle(
            self.sandbox,
            Request(
                method=request.method,
                path=request.url.path,
                query=[(k, v) for k, v in request.url.params.multi_items()],
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                scheme=request.url.scheme,
                host=request.headers.get("host") or request.url.netloc.decode(),
            ),
        )
        if answer.latency:
            read_timeout = request.extensions.get("timeout", {}).get("read")
            if read_timeout is not None and answer.latency > read_timeout:
                time.sleep(read_timeout)
                raise httpx.ReadTimeout("timed out waiting for the sandbox", request=request)
            time.sleep(answer.latency)
        if answer.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a complete response.", request=request
            )
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            content=answer.body,
            request=request,
            extensions={"reason_phrase": REASONS.get(answer.status, "").encode()},
        )
