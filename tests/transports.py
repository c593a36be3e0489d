"""A transport that records what a client sends: tests count requests on the wire."""

from __future__ import annotations

import httpx


class CountingTransport(httpx.BaseTransport):
    """Wraps a transport (a sandbox's in-process one, say) and records ``(method, path)`` of
    every request sent."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return self.inner.handle_request(request)

    def writes(self) -> list[tuple[str, str]]:
        """The requests sent that are not reads."""
        return [(m, p) for m, p in self.sent if m != "GET"]

    def count(self, method: str, path: str) -> int:
        """How many ``method`` requests were sent to ``path`` (without the ``/v1`` prefix)."""
        return sum(1 for m, p in self.sent if m == method and p.removeprefix("/v1") == path)
